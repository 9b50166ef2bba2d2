"""What the holder of an invitation link may do: look at it, accept or decline it.
The token is the only credential, so an unknown token says nothing about what exists."""

from __future__ import annotations

from enum import StrEnum

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from exchange.errors import DomainError, ErrorCode
from exchange.events import AfterCommit
from exchange.invitations import tokens
from exchange.invitations.common import effective_status, lock_exchange, organisers, status_changed, utcnow
from exchange.models import (
    Exchange,
    ExchangeStatus,
    Invitation,
    InvitationStatus,
    Participation,
    ParticipationRole,
    ParticipationStatus,
    Volunteer,
)
from exchange.notice import NOTICE_VERSION
from exchange.participations import HOLDING_A_PLACE, seats_taken

UNKNOWN_LINK = "This invitation link is not valid."


class Response(StrEnum):
    ACCEPT = "ACCEPT"
    DECLINE = "DECLINE"


async def find_by_token(token: str) -> Invitation | None:
    if not tokens.looks_like_token(token):
        return None
    invitation = await Invitation.get_or_none(token_hash=tokens.token_hash(token))
    if invitation is None or not tokens.matches(token, invitation.token_hash):
        return None
    return invitation


async def respond(token: str, response: Response, *, public_profile: bool | None = None) -> Invitation:
    """Accept or decline; returns the invitation as stored after the answer.

    Accepting is consenting to the privacy notice the mail and the page show with the
    invitation: its time and the notice's version are recorded with the acceptance. It also
    sets the volunteer's public profile when ``public_profile`` is given (None leaves it as
    it is: false for a new volunteer). Declining records neither."""
    found = await find_by_token(token)
    if found is None:
        raise DomainError(ErrorCode.NOT_FOUND, UNKNOWN_LINK, ["token"])
    organiser_ids = await organisers(await Exchange.get(id=found.exchange_id))
    # A volunteer created by a concurrent first answer elsewhere (same address, another
    # exchange) makes our insert fail; the second attempt finds and links that record.
    for attempt in range(2):
        try:
            return await _respond_once(found.id, response, organiser_ids, public_profile)
        except IntegrityError:
            if attempt == 1:
                raise
    raise AssertionError("unreachable")


async def _respond_once(
    invitation_id: int, response: Response, organiser_ids: frozenset[int], public_profile: bool | None
) -> Invitation:
    after = AfterCommit()
    async with in_transaction():
        invitation = await Invitation.get(id=invitation_id)
        exchange = await lock_exchange(invitation.exchange_id)
        # Read again under the lock: a concurrent answer to the same link has finished by now.
        invitation = await Invitation.get(id=invitation_id)
        now = utcnow()
        previous = InvitationStatus(invitation.status)
        status = effective_status(invitation, now)
        _refuse_final(status)
        if response is Response.DECLINE:
            # Declining an expired link is still worth recording: the organiser learns the answer.
            invitation.status = InvitationStatus.DECLINED
            invitation.responded_at = now
            await invitation.save(update_fields=["status", "responded_at"])
        else:
            if status is InvitationStatus.EXPIRED:
                raise DomainError(ErrorCode.EXPIRED, "This invitation has expired.", ["token"])
            if exchange.status is not ExchangeStatus.OPEN:
                raise DomainError(
                    ErrorCode.INVALID, "The exchange no longer accepts participants.", ["token"]
                )
            volunteer = await _volunteer_for(invitation)
            await _take_seat(exchange, volunteer)
            if public_profile is not None and volunteer.public_profile != public_profile:
                volunteer.public_profile = public_profile
                await volunteer.save(update_fields=["public_profile"])
            invitation.status = InvitationStatus.ACCEPTED
            invitation.responded_at = now
            invitation.consent_at = now
            invitation.consent_notice_version = NOTICE_VERSION
            invitation.volunteer = volunteer
            await invitation.save(
                update_fields=["status", "responded_at", "consent_at", "consent_notice_version", "volunteer_id"]
            )
        status_changed(after, invitation, organiser_ids, previous, InvitationStatus(invitation.status), now)
        await after.stage()
    await after.publish()
    return invitation


def _refuse_final(status: InvitationStatus) -> None:
    if status is InvitationStatus.REVOKED:
        raise DomainError(ErrorCode.REVOKED, "The organiser has withdrawn this invitation.", ["token"])
    if status in (InvitationStatus.ACCEPTED, InvitationStatus.DECLINED):
        raise DomainError(
            ErrorCode.ALREADY_RESPONDED, "This invitation has already been answered.", ["token"]
        )
    if status is InvitationStatus.FAILED:
        raise DomainError(
            ErrorCode.INVALID, "This invitation could not be delivered and is closed.", ["token"]
        )


async def _linked_volunteer(invitation: Invitation) -> Volunteer | None:
    """The record an acceptance links, if the address has one: the inviting organisation's own
    (it registered the person), else the volunteer's own record, without a sending
    organisation. Never another organisation's record: the host would see what that
    organisation entered about the person."""
    records = await Volunteer.filter(
        Q(organisation_id=invitation.invited_by_id) | Q(organisation_id__isnull=True),
        email=invitation.email_normalised,
    )
    return min(records, key=lambda record: record.organisation_id is None, default=None)


async def _volunteer_for(invitation: Invitation) -> Volunteer:
    volunteer = await _linked_volunteer(invitation)
    if volunteer is not None:
        return volunteer
    return await Volunteer.create(
        full_name=invitation.full_name,
        email=invitation.email_normalised,
        country=invitation.country,
        languages=[invitation.locale],
    )


async def _take_seat(exchange: Exchange, volunteer: Volunteer) -> None:
    """A confirmed participation, counted against the capacity unless the volunteer already
    holds a seat (e.g. registered by the organiser directly)."""
    participation = await Participation.get_or_none(volunteer_id=volunteer.id, exchange_id=exchange.id)
    if participation is not None and participation.status in HOLDING_A_PLACE:
        return
    if exchange.capacity is not None and await seats_taken(exchange.id) >= exchange.capacity:
        raise DomainError(ErrorCode.CAPACITY_REACHED, "Every place in this exchange is taken.", ["token"])
    if participation is None:
        await Participation.create(
            volunteer_id=volunteer.id,
            exchange_id=exchange.id,
            role=ParticipationRole.PARTICIPANT,
            status=ParticipationStatus.CONFIRMED,
        )
    else:
        participation.status = ParticipationStatus.CONFIRMED
        await participation.save(update_fields=["status"])
