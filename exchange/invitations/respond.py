"""What the holder of an invitation link may do: look at it, accept or decline it, join
the waiting list or claim a place offered from it (exchange.invitations.waitlist), and
withdraw an acceptance until the exchange starts. The token is the only credential, so an
unknown token says nothing about what exists."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from exchange.errors import DomainError, ErrorCode
from exchange.events import AfterCommit
from exchange.invitations import tokens
from exchange.invitations.common import effective_status, lock_exchange, organisers, status_changed, utcnow
from exchange.invitations.waitlist import anyone_waiting, live_offers, offer_free_places
from exchange.mail.outbox import enqueue
from exchange.models import (
    Exchange,
    ExchangeStatus,
    Invitation,
    InvitationStatus,
    MailKind,
    Participation,
    Volunteer,
)
from exchange.notice import NOTICE_VERSION
from exchange.participations import HOLDING_A_PLACE, seats_taken
from exchange.roster import confirm_for_invitation, withdraw_for_invitation
from exchange.schedule import schedule_for
from exchange.settings import Settings

UNKNOWN_LINK = "This invitation link is not valid."


class Response(StrEnum):
    ACCEPT = "ACCEPT"
    DECLINE = "DECLINE"
    # Beyond the contract: gives an accepted place back, until the exchange starts.
    WITHDRAW = "WITHDRAW"


async def find_by_token(token: str) -> Invitation | None:
    if not tokens.looks_like_token(token):
        return None
    invitation = await Invitation.get_or_none(token_hash=tokens.token_hash(token))
    if invitation is None or not tokens.matches(token, invitation.token_hash):
        return None
    return invitation


async def respond(
    token: str, response: Response, *, public_profile: bool | None = None, settings: Settings | None = None
) -> Invitation:
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
            return await _respond_once(found.id, response, organiser_ids, public_profile, settings)
        except IntegrityError:
            if attempt == 1:
                raise
    raise AssertionError("unreachable")


async def _respond_once(
    invitation_id: int,
    response: Response,
    organiser_ids: frozenset[int],
    public_profile: bool | None,
    settings: Settings | None,
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
        if response is Response.WITHDRAW:
            await _withdraw(invitation, exchange, status, now, settings, after, organiser_ids)
        else:
            _refuse_final(status)
        if response is Response.DECLINE:
            # Declining an expired link is still worth recording: the organiser learns the answer.
            # So is leaving the waiting list, or turning down a place offered from it.
            invitation.status = InvitationStatus.DECLINED
            invitation.responded_at = now
            await invitation.save(update_fields=["status", "responded_at"])
        elif response is Response.ACCEPT:
            if status is InvitationStatus.EXPIRED:
                if previous is InvitationStatus.OFFERED:
                    raise DomainError(ErrorCode.EXPIRED, "The offer of a place has lapsed.", ["token"])
                raise DomainError(ErrorCode.EXPIRED, "This invitation has expired.", ["token"])
            if status is InvitationStatus.WAITLISTED:
                raise DomainError(
                    ErrorCode.ALREADY_RESPONDED,
                    "You are on the waiting list already; an email will offer you a place when one is free.",
                    ["token"],
                )
            if exchange.status is not ExchangeStatus.OPEN:
                raise DomainError(
                    ErrorCode.INVALID, "The exchange no longer accepts participants.", ["token"]
                )
            claiming = status is InvitationStatus.OFFERED
            volunteer = await _take_seat(
                exchange, invitation, claiming=claiming, now=now, after=after, organiser_ids=organiser_ids
            )
            if volunteer is None:
                await _join_waitlist(exchange, invitation, now)
            else:
                if public_profile is not None and volunteer.public_profile != public_profile:
                    volunteer.public_profile = public_profile
                    await volunteer.save(update_fields=["public_profile"])
                invitation.status = InvitationStatus.ACCEPTED
                invitation.responded_at = now
                invitation.consent_at = now
                invitation.consent_notice_version = NOTICE_VERSION
                invitation.volunteer = volunteer
                await invitation.save(
                    update_fields=[
                        "status",
                        "responded_at",
                        "consent_at",
                        "consent_notice_version",
                        "volunteer_id",
                    ]
                )
        status_changed(after, invitation, organiser_ids, previous, InvitationStatus(invitation.status), now)
        if previous is InvitationStatus.OFFERED or invitation.status in _MAY_FREE_A_PLACE:
            # A place given back or an offer turned down goes to the next on the list; one
            # joining the list may find places that lapsed offers left (not swept yet).
            for offered in await offer_free_places(exchange, organiser_ids, after, now, settings):
                if offered.id == invitation.id:
                    invitation.status, invitation.offer_expires_at = offered.status, offered.offer_expires_at
        await after.stage()
    await after.publish()
    return invitation


_MAY_FREE_A_PLACE = (InvitationStatus.WITHDRAWN, InvitationStatus.WAITLISTED)


def _refuse_final(status: InvitationStatus) -> None:
    if status is InvitationStatus.REVOKED:
        raise DomainError(ErrorCode.REVOKED, "The organiser has withdrawn this invitation.", ["token"])
    if status is InvitationStatus.WITHDRAWN:
        raise DomainError(
            ErrorCode.ALREADY_RESPONDED,
            "You have withdrawn from this exchange; ask the organiser if you want to take part again.",
            ["token"],
        )
    if status in (InvitationStatus.ACCEPTED, InvitationStatus.DECLINED):
        raise DomainError(
            ErrorCode.ALREADY_RESPONDED, "This invitation has already been answered.", ["token"]
        )
    if status is InvitationStatus.FAILED:
        raise DomainError(
            ErrorCode.INVALID, "This invitation could not be delivered and is closed.", ["token"]
        )


async def _linked_volunteer(invitation: Invitation) -> Volunteer | None:
    """The record an acceptance links, if the address has one (one per sending organisation,
    see exchange.volunteers.register_volunteer): the inviting organisation's own (it
    registered the person), else the volunteer's own record without a sending organisation,
    else the address's first record, the one it always linked before records were per sender."""
    records = await Volunteer.filter(email=invitation.email_normalised).order_by("id")
    preference = {invitation.invited_by_id: 0, None: 1}
    return min(records, key=lambda record: preference.get(record.organisation_id, 2), default=None)


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


async def _take_seat(
    exchange: Exchange,
    invitation: Invitation,
    *,
    claiming: bool,
    now: datetime,
    after: AfterCommit,
    organiser_ids: frozenset[int],
) -> Volunteer | None:
    """The volunteer with a confirmed participation (announced: exchange.roster), counted
    against the capacity unless they already hold a place (e.g. put on the roster by the
    host); None when no place is free for them (nothing is written then: no volunteer record
    for someone who only joins the waiting list)."""
    known = await _linked_volunteer(invitation)
    participation = None
    if known is not None:
        participation = await Participation.get_or_none(volunteer_id=known.id, exchange_id=exchange.id)
    if known is not None and participation is not None and participation.status in HOLDING_A_PLACE:
        return known
    if not await _place_free(exchange, claiming=claiming, now=now):
        return None
    volunteer = known or await _volunteer_for(invitation)
    await confirm_for_invitation(after, exchange, organiser_ids, volunteer.id, participation, now)
    return volunteer


async def _place_free(exchange: Exchange, *, claiming: bool, now: datetime) -> bool:
    """Under the exchange's lock: places held and places offered (exchange.invitations.
    waitlist) leave one for this invitee. A claimant's own offer is one of those offered;
    anyone else comes after those already waiting."""
    if exchange.capacity is None:
        return True
    held = await seats_taken(exchange.id) + await live_offers(exchange.id, now)
    if claiming:
        held -= 1
    elif await anyone_waiting(exchange.id):
        return False
    return held < exchange.capacity


async def _join_waitlist(exchange: Exchange, invitation: Invitation, now: datetime) -> None:
    """No place is free: onto the waiting list if the exchange keeps one (at its end; a
    claimant whose offered place went with a lowered capacity keeps their old turn), else
    CAPACITY_REACHED. Joining agrees to the privacy notice as accepting does; the volunteer
    record and the public-profile choice wait for the place."""
    if not exchange.waitlist and invitation.status is not InvitationStatus.OFFERED:
        raise DomainError(ErrorCode.CAPACITY_REACHED, "Every place in this exchange is taken.", ["token"])
    invitation.status = InvitationStatus.WAITLISTED
    invitation.waitlisted_at = invitation.waitlisted_at or now
    invitation.offer_expires_at = None
    invitation.responded_at = now
    invitation.consent_at = now
    invitation.consent_notice_version = NOTICE_VERSION
    await invitation.save(
        update_fields=[
            "status",
            "waitlisted_at",
            "offer_expires_at",
            "responded_at",
            "consent_at",
            "consent_notice_version",
        ]
    )


async def _withdraw(
    invitation: Invitation,
    exchange: Exchange,
    status: InvitationStatus,
    now: datetime,
    settings: Settings | None,
    after: AfterCommit,
    organiser_ids: frozenset[int],
) -> None:
    """An accepted invitee gives the place back, until the exchange starts
    (exchange.schedule): the invitation becomes WITHDRAWN, the participation too, and the
    calendar entries the invitation made are cancelled by mail (the caller offers the place
    to the waiting list)."""
    if status is not InvitationStatus.ACCEPTED:
        _refuse_final(status)
        if status in (InvitationStatus.WAITLISTED, InvitationStatus.OFFERED):
            raise DomainError(
                ErrorCode.INVALID,
                "Only a confirmed place can be withdrawn; decline to leave the waiting list.",
                ["token"],
            )
        raise DomainError(
            ErrorCode.INVALID, "This invitation has not been accepted; decline it instead.", ["token"]
        )
    if exchange.status is ExchangeStatus.CANCELLED:
        raise DomainError(
            ErrorCode.INVALID,
            "The exchange has been cancelled; there is nothing to withdraw from.",
            ["token"],
        )
    if (await schedule_for(exchange)).has_started(now):
        raise DomainError(
            ErrorCode.INVALID,
            "The exchange has already started, so the place can no longer be withdrawn here; "
            "please tell the organiser.",
            ["token"],
        )
    invitation.status = InvitationStatus.WITHDRAWN
    invitation.withdrawn_at = now
    invitation.calendar_sequence += 1
    await invitation.save(update_fields=["status", "withdrawn_at", "calendar_sequence"])
    if invitation.volunteer_id is not None:
        await withdraw_for_invitation(
            after, exchange, organiser_ids, invitation.volunteer_id, HOLDING_A_PLACE, now
        )
    await enqueue(MailKind.WITHDRAWAL, invitation, settings=settings)
