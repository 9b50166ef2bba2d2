"""The host's roster: put a volunteer on an exchange without an invitation (a regional team,
a coordinator), change a participation's role or status, take it off again.

A place is counted under the exchange's row lock (invitations.common.lock_exchange), the
lock accepting an invitation takes, so the two never both take the last place; places offered
to the waiting list count as taken, and a place the host frees is offered to it at once
(invitations.waitlist). Each change is announced after its commit as a ParticipationEvent
(subscription and webhooks), like invitation events; attendance (exchange.attendance) goes
through the same helpers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from exchange import access, participations, volunteers
from exchange.access import Actor
from exchange.errors import DomainError, ErrorCode, Problems, forbidden, not_found
from exchange.events import AfterCommit, ParticipationChange, ParticipationEvent
from exchange.exchanges import KEEP, managed_exchange, partner_ids_of
from exchange.invitations.common import lock_exchange, utcnow
from exchange.invitations.waitlist import free_places, offer_free_places
from exchange.models import (
    Exchange,
    ExchangeStatus,
    Invitation,
    InvitationStatus,
    Participation,
    ParticipationRole,
    ParticipationStatus,
)
from exchange.participations import HOLDING_A_PLACE
from exchange.settings import Settings

# Statuses the host sets with updateParticipation; ATTENDED and NO_SHOW come with their hours
# and sessions through recordAttendance.
SETTABLE_STATUSES = (ParticipationStatus.CONFIRMED, ParticipationStatus.WITHDRAWN)
RECORDED_STATUSES = (ParticipationStatus.ATTENDED, ParticipationStatus.NO_SHOW)


# ---------------------------------------------------------------- events


def participation_changed(
    after: AfterCommit,
    participation: Participation,
    host_id: int,
    partner_ids: frozenset[int],
    previous: ParticipationStatus | None,
    status: ParticipationStatus | None,
    at: datetime,
) -> None:
    """Announces a participation's change once the caller's transaction commits (``status``
    None: it was removed). For every writer of participations: the roster, attendance, and
    the invitation services (confirm_for_invitation, withdraw_for_invitation)."""
    after.add(
        ParticipationEvent(
            participation_id=participation.id,
            exchange_id=participation.exchange_id,
            organiser_ids=access.participation_event_audience(host_id, partner_ids, previous, status),
            change=ParticipationChange.of(previous, status),
            previous_status=previous,
            status=status,
            role=ParticipationRole(participation.role),
            hours=participation.hours if status is ParticipationStatus.ATTENDED else None,
            at=at,
        )
    )


async def confirm_for_invitation(
    after: AfterCommit,
    exchange: Exchange,
    organiser_ids: frozenset[int],
    volunteer_id: int,
    participation: Participation | None,
    now: datetime,
) -> Participation:
    """Accepting an invitation (under the exchange's lock, the place counted by the caller):
    the volunteer's participation created, or a withdrawn one confirmed again, and announced."""
    previous = None if participation is None else ParticipationStatus(participation.status)
    if participation is None:
        participation = await Participation.create(
            volunteer_id=volunteer_id,
            exchange_id=exchange.id,
            role=ParticipationRole.PARTICIPANT,
            status=ParticipationStatus.CONFIRMED,
        )
    else:
        participation.status = ParticipationStatus.CONFIRMED
        await participation.save(update_fields=["status"])
    participation_changed(
        after,
        participation,
        exchange.host_id,
        organiser_ids - {exchange.host_id},
        previous,
        ParticipationStatus.CONFIRMED,
        now,
    )
    return participation


async def withdraw_for_invitation(
    after: AfterCommit,
    exchange: Exchange,
    organiser_ids: frozenset[int],
    volunteer_id: int,
    statuses: Sequence[ParticipationStatus],
    now: datetime,
) -> None:
    """An acceptance given up (withdrawn on the link, or the invitation revoked): the
    volunteer's participation in one of ``statuses`` becomes WITHDRAWN, announced."""
    participation = await Participation.get_or_none(
        volunteer_id=volunteer_id, exchange_id=exchange.id, status__in=list(statuses)
    )
    if participation is None:
        return
    previous = ParticipationStatus(participation.status)
    participation.status = ParticipationStatus.WITHDRAWN
    await participation.save(update_fields=["status"])
    participation_changed(
        after,
        participation,
        exchange.host_id,
        organiser_ids - {exchange.host_id},
        previous,
        ParticipationStatus.WITHDRAWN,
        now,
    )


# ---------------------------------------------------------------- what the host manages


@dataclass(frozen=True)
class Managed:
    """A participation the actor may change, with its exchange and the exchange's partners."""

    participation: Participation
    exchange: Exchange
    partner_ids: frozenset[int]


async def managed_participation(actor: Actor, participation_id: int, field: str) -> Managed:
    """A participation of an exchange the actor hosts (or any, for an admin): NOT_FOUND when
    the actor may not see it (the people rule), FORBIDDEN when it sees it but is no host."""
    access.require_writer(actor)
    if not await participations.visible_by_ids(actor, [participation_id], ("id",)):
        raise not_found("Participation", [field])
    participation = await Participation.get_or_none(id=participation_id)
    if participation is None:
        raise not_found("Participation", [field])
    exchange = await Exchange.get(id=participation.exchange_id)
    if not access.can_manage_exchange(actor, exchange.host_id):
        raise forbidden("Only the exchange's host organisation may change its participants.")
    return Managed(participation, exchange, await partner_ids_of(exchange.id))


async def locked(managed: Managed, field: str) -> tuple[Exchange, Participation]:
    """The exchange locked and the participation read again under the lock (a concurrent
    removal has finished by now)."""
    exchange = await lock_exchange(managed.exchange.id)
    participation = await Participation.get_or_none(id=managed.participation.id)
    if participation is None:
        raise not_found("Participation", [field])
    return exchange, participation


async def _check_place(exchange: Exchange, field: str, now: datetime) -> None:
    """Under the exchange's lock: a place nobody holds or has been offered, or
    CAPACITY_REACHED (as for an invitee)."""
    if await free_places(exchange, now) == 0:
        raise DomainError(ErrorCode.CAPACITY_REACHED, "Every place in this exchange is taken.", [field])


async def _place_freed(
    exchange: Exchange,
    partner_ids: frozenset[int],
    after: AfterCommit,
    now: datetime,
    settings: Settings | None,
) -> None:
    """Under the exchange's lock: a place given back goes to the next on the waiting list,
    its claim window from the settings the caller runs with."""
    await offer_free_places(
        exchange, access.organiser_ids(exchange.host_id, partner_ids), after, now, settings
    )


async def _refuse_if_invited(participation: Participation, field: str) -> None:
    """An invitee who accepted holds the exchange in their calendar: taking them off is
    revoking the invitation, which also mails them the cancellation."""
    if await Invitation.filter(
        exchange_id=participation.exchange_id,
        volunteer_id=participation.volunteer_id,
        status=InvitationStatus.ACCEPTED,
    ).exists():
        raise DomainError(
            ErrorCode.INVALID,
            "This volunteer accepted an invitation to the exchange: revoke the invitation "
            "(revokeInvitation), which also tells them.",
            [field],
        )


def _clear_attendance(participation: Participation) -> None:
    participation.hours = None
    participation.attended_session_ids = []
    participation.recorded_at = None
    participation.recorded_by_id = None


ATTENDANCE_FIELDS = ["hours", "attended_session_ids", "recorded_at", "recorded_by_id"]


# ---------------------------------------------------------------- add, update, remove


async def add_participant(
    actor: Actor, exchange_id: int, volunteer_id: int, role: ParticipationRole = ParticipationRole.PARTICIPANT
) -> Participation:
    """Puts a volunteer the host may name on the exchange as CONFIRMED, counted against the
    capacity; CONFLICT when they already take part; a withdrawn participation comes back."""
    exchange, partners = await managed_exchange(actor, exchange_id, "exchangeId")
    await volunteers.require_nameable(actor, volunteer_id, "volunteerId")
    after = AfterCommit()
    async with in_transaction():
        exchange = await lock_exchange(exchange.id)
        if exchange.status is ExchangeStatus.CANCELLED:
            raise DomainError(ErrorCode.INVALID, "The exchange is cancelled.", ["exchangeId"])
        participation = await Participation.get_or_none(volunteer_id=volunteer_id, exchange_id=exchange.id)
        if participation is not None and participation.status in HOLDING_A_PLACE:
            raise DomainError(
                ErrorCode.CONFLICT, "This volunteer already takes part in this exchange.", ["volunteerId"]
            )
        now = utcnow()
        await _check_place(exchange, "exchangeId", now)
        previous = None if participation is None else ParticipationStatus(participation.status)
        if participation is None:
            participation = await Participation.create(
                volunteer_id=volunteer_id,
                exchange_id=exchange.id,
                role=role,
                status=ParticipationStatus.CONFIRMED,
            )
        else:
            participation.status = ParticipationStatus.CONFIRMED
            participation.role = role
            _clear_attendance(participation)
            await participation.save(update_fields=["status", "role", *ATTENDANCE_FIELDS])
        participation_changed(
            after, participation, exchange.host_id, partners, previous, ParticipationStatus.CONFIRMED, now
        )
        await after.stage()
    await after.publish()
    return participation


@dataclass(frozen=True)
class ParticipationChanges:
    """Each field is KEEP (left out) or the new value; None is refused (nothing to clear)."""

    role: Any = KEEP
    status: Any = KEEP


async def update_participation(
    actor: Actor, participation_id: int, changes: ParticipationChanges, settings: Settings | None = None
) -> Participation:
    """A new role, or CONFIRMED/WITHDRAWN: back to CONFIRMED takes a place again (from
    WITHDRAWN) or clears recorded attendance (from ATTENDED or NO_SHOW)."""
    managed = await managed_participation(actor, participation_id, "id")
    problems = Problems()
    for name, value in (("role", changes.role), ("status", changes.status)):
        if value is None:
            problems.invalid("This field cannot be cleared.", name)
    if changes.status not in (KEEP, None, *SETTABLE_STATUSES):
        problems.invalid("Attendance is recorded with recordAttendance (hours and sessions).", "status")
    problems.raise_if_any()
    after = AfterCommit()
    async with in_transaction():
        exchange, participation = await locked(managed, "id")
        previous = ParticipationStatus(participation.status)
        status = previous if changes.status is KEEP else ParticipationStatus(changes.status)
        role = (
            ParticipationRole(participation.role) if changes.role is KEEP else ParticipationRole(changes.role)
        )
        if status is previous and role == participation.role:
            return participation
        now = utcnow()
        updated = ["role"]
        if status is not previous:
            updated.append("status")
            if status is ParticipationStatus.WITHDRAWN:
                if previous in RECORDED_STATUSES:
                    raise DomainError(
                        ErrorCode.INVALID,
                        "Attendance is recorded for this participation: set CONFIRMED first to clear it.",
                        ["status"],
                    )
                await _refuse_if_invited(participation, "status")
            elif previous is ParticipationStatus.WITHDRAWN:
                await _check_place(exchange, "status", now)
            else:  # attended or no-show, back to confirmed
                _clear_attendance(participation)
                updated.extend(ATTENDANCE_FIELDS)
        participation.status = status
        participation.role = role
        await participation.save(update_fields=updated)
        participation_changed(
            after, participation, exchange.host_id, managed.partner_ids, previous, status, now
        )
        if status is ParticipationStatus.WITHDRAWN:
            await _place_freed(exchange, managed.partner_ids, after, now, settings)
        await after.stage()
    await after.publish()
    return participation


async def remove_participant(actor: Actor, participation_id: int, settings: Settings | None = None) -> int:
    """Deletes the participation (its hours with it); returns its id. Not for an invitee who
    accepted (revoke the invitation)."""
    managed = await managed_participation(actor, participation_id, "id")
    after = AfterCommit()
    async with in_transaction():
        exchange, participation = await locked(managed, "id")
        await _refuse_if_invited(participation, "id")
        previous = ParticipationStatus(participation.status)
        await participation.delete()
        now = utcnow()
        participation_changed(
            after, participation, exchange.host_id, managed.partner_ids, previous, None, now
        )
        if previous in HOLDING_A_PLACE:
            await _place_freed(exchange, managed.partner_ids, after, now, settings)
        await after.stage()
    await after.publish()
    return participation_id
