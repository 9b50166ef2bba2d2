"""The host's follow-ups on an invitation (resend, revoke) and the organisers' reads."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from tortoise.transactions import in_transaction

from exchange import access
from exchange.access import Actor
from exchange.errors import DomainError, ErrorCode, forbidden, not_found
from exchange.events import AfterCommit
from exchange.exchanges import PartnerIds, partner_ids_of, sees_exchange, sees_invitations
from exchange.invitations.common import (
    LIVE_STATUSES,
    OPEN_STATUSES,
    effective_status,
    lock_exchange,
    organisers,
    status_changed,
    utcnow,
)
from exchange.invitations.waitlist import offer_free_places
from exchange.mail.outbox import enqueue
from exchange.models import (
    Exchange,
    ExchangeStatus,
    Invitation,
    InvitationStatus,
    MailKind,
    MailStatus,
    OutboxMail,
    ParticipationStatus,
    Session,
)
from exchange.roster import withdraw_for_invitation
from exchange.settings import Settings
from exchange.sql import Page, PageWindow, Statement, paged_children

_REFUSALS = {
    InvitationStatus.REVOKED: (ErrorCode.REVOKED, "The invitation was revoked."),
    InvitationStatus.ACCEPTED: (ErrorCode.ALREADY_RESPONDED, "The invitee has already accepted."),
    InvitationStatus.DECLINED: (ErrorCode.ALREADY_RESPONDED, "The invitee has already declined."),
    InvitationStatus.EXPIRED: (ErrorCode.EXPIRED, "The invitation has expired; invite the address again."),
    InvitationStatus.FAILED: (
        ErrorCode.INVALID,
        "The invitation could not be delivered; check the address and invite again.",
    ),
}


def _refuse(status: InvitationStatus) -> DomainError:
    code, message = _REFUSALS[status]
    return DomainError(code, message, ["id"])


async def _managed_invitation(actor: Actor, invitation_id: int) -> tuple[Invitation, Exchange]:
    """The invitation the actor manages, and its exchange: FORBIDDEN for a read-only key or a
    partner, NOT_FOUND for anyone else who may not see it. Those who pass are the host or an
    admin, who see it whatever the partners: the visibility rule loads them only for another
    organisation's refusal."""
    access.require_writer(actor)
    invitation = await Invitation.get_or_none(id=invitation_id)
    if invitation is None:
        raise not_found("Invitation", ["id"])
    exchange = await Exchange.get(id=invitation.exchange_id)
    if not await sees_invitations(actor, exchange):
        raise not_found("Invitation", ["id"])
    access.require_manage_invitations(actor, exchange.host_id)
    return invitation, exchange


async def resend_invitation(actor: Actor, settings: Settings, invitation_id: int) -> Invitation:
    """Mails the same working link again; the calendar entry gets a new SEQUENCE. Only while
    the exchange is open, like inviting: otherwise the mail invites to what cannot be joined."""
    invitation, _ = await _managed_invitation(actor, invitation_id)
    async with in_transaction():
        exchange = await lock_exchange(invitation.exchange_id)
        invitation = await Invitation.get(id=invitation_id)
        status = effective_status(invitation)
        if status not in OPEN_STATUSES:
            raise _refuse(status)
        if exchange.status is not ExchangeStatus.OPEN:
            raise DomainError(
                ErrorCode.INVALID,
                f"Invitations go only to open exchanges; this one is {exchange.status.value}.",
                ["id"],
            )
        invitation.calendar_sequence += 1
        await invitation.save(update_fields=["calendar_sequence"])
        await enqueue(MailKind.RESEND, invitation, settings=settings)
    return invitation


async def revoke_invitation(actor: Actor, settings: Settings, invitation_id: int) -> Invitation:
    invitation, managed = await _managed_invitation(actor, invitation_id)
    # Its events go to every organiser (partners included), so revoking needs the partners.
    organiser_ids = await organisers(managed)
    after = AfterCommit()
    async with in_transaction():
        exchange = await lock_exchange(invitation.exchange_id)
        invitation = await Invitation.get(id=invitation_id)
        now = utcnow()
        status = effective_status(invitation, now)
        if status not in LIVE_STATUSES:
            raise _refuse(status)
        previous = InvitationStatus(invitation.status)
        invitation.status = InvitationStatus.REVOKED
        invitation.calendar_sequence += 1
        await invitation.save(update_fields=["status", "calendar_sequence"])
        if previous is InvitationStatus.ACCEPTED and invitation.volunteer_id is not None:
            await withdraw_for_invitation(
                after, exchange, organiser_ids, invitation.volunteer_id, [ParticipationStatus.CONFIRMED], now
            )
        # A calendar entry exists only if some mail left: cancel it; otherwise stay silent.
        if (
            invitation.sent_at is not None
            or await OutboxMail.filter(invitation_id=invitation.id, status=MailStatus.SENT).exists()
        ):
            await enqueue(MailKind.CANCELLATION, invitation, settings=settings)
        status_changed(after, invitation, organiser_ids, previous, InvitationStatus.REVOKED, now)
        if previous in (InvitationStatus.ACCEPTED, InvitationStatus.OFFERED):
            # The place it held, or the one offered to it, goes to the next on the waiting list.
            await offer_free_places(exchange, organiser_ids, after, now, settings)
        await after.stage()
    await after.publish()
    return invitation


# ---------------------------------------------------------------- reads


def status_condition(statement: Statement, status: InvitationStatus | None, now: datetime) -> str:
    """SQL over invitation row ``t`` matching what readers see (effective_status), not the
    stored column: an overdue unanswered invitation counts as EXPIRED, not QUEUED/SENT."""
    if status is None:
        return ""
    if status is InvitationStatus.EXPIRED:
        expired = statement.param(status.value)
        waiting = statement.in_list(open_status.value for open_status in OPEN_STATUSES)
        offered = statement.param(InvitationStatus.OFFERED.value)
        return (
            f"t.status = {expired} OR (t.status IN {waiting} AND t.expires_at <= {statement.param(now)}) "
            f"OR (t.status = {offered} AND t.offer_expires_at <= {statement.param(now)})"
        )
    if status in OPEN_STATUSES:
        return f"t.status = {statement.param(status.value)} AND t.expires_at > {statement.param(now)}"
    if status is InvitationStatus.OFFERED:
        return f"t.status = {statement.param(status.value)} AND t.offer_expires_at > {statement.param(now)}"
    return f"t.status = {statement.param(status.value)}"


def effective_status_sql(statement: Statement, alias: str, now: datetime) -> str:
    """SQL: the status readers see of invitation row ``alias`` (effective_status), for
    aggregates that group by it."""
    expired = statement.param(InvitationStatus.EXPIRED.value)
    return (
        f"CASE WHEN {alias}.status IN {statement.in_list(s.value for s in OPEN_STATUSES)} "
        f"AND {alias}.expires_at <= {statement.param(now)} THEN {expired} "
        f"WHEN {alias}.status = {statement.param(InvitationStatus.OFFERED.value)} "
        f"AND {alias}.offer_expires_at <= {statement.param(now)} THEN {expired} ELSE {alias}.status END"
    )


async def pages_by_exchange(
    exchange_ids: Sequence[int], page: PageWindow, status: InvitationStatus | None
) -> dict[int, Page]:
    """Invitations of exchanges whose invitations the caller may see, oldest first: one
    statement for every exchange of a response."""
    statement = Statement()
    return await paged_children(
        Invitation,
        from_sql="invitation t",
        parent_column="t.exchange_id",
        order_by="t.id",
        parent_ids=exchange_ids,
        page=page,
        statement=statement,
        where=status_condition(statement, status, utcnow()),
    )


async def sessions_by_invitation(invitation_ids: Sequence[int]) -> dict[int, list[Session]]:
    """Invited sessions per invitation, by start time, cancelled ones included: every reader
    (Invitation.sessions, the invitation page, the mails) shows them marked as cancelled, since
    leaving them out would turn an invitation whose sessions were all cancelled into one that
    reads as an invitation to the whole exchange."""
    statement = Statement()
    ids = statement.in_list(invitation_ids)
    sql = f"SELECT invitation_id, session_id FROM invitation_session WHERE invitation_id IN {ids}"  # noqa: S608
    pairs = await statement.fetch(sql)
    sessions = {
        session.id: session
        for session in await Session.filter(id__in=list({int(row["session_id"]) for row in pairs}))
    }
    result: dict[int, list[Session]] = {pk: [] for pk in invitation_ids}
    for row in pairs:
        result[int(row["invitation_id"])].append(sessions[int(row["session_id"])])
    for items in result.values():
        items.sort(key=lambda session: (session.starts_at, session.id))
    return result


async def _exchange_by_id(exchange_id: int) -> Exchange | None:
    return await Exchange.get_or_none(id=exchange_id)


async def visible_invitation(
    actor: Actor,
    invitation_id: int,
    partners: PartnerIds = partner_ids_of,
    exchange_of: Callable[[int], Awaitable[Exchange | None]] = _exchange_by_id,
) -> Invitation | None:
    """An invitation for node(id:): only the exchange's organisers and admins see it.
    ``partners`` as for ``exchanges.sees_invitations``; ``exchange_of`` loads its exchange by
    id. A request passes its loaders for both, which its fields' own rule
    (Invitation.lastError) asks again: each is read once per request."""
    invitation = await Invitation.get_or_none(id=invitation_id)
    if invitation is None:
        return None
    exchange = await exchange_of(invitation.exchange_id)
    if exchange is None:
        return None
    return invitation if await sees_invitations(actor, exchange, partners) else None


async def followed_exchange(actor: Actor, exchange_id: int, what: str = "invitations") -> int:
    """The exchange a subscription (to its ``what``) narrows to: FORBIDDEN when the caller
    sees it but does not organise it (NOT_FOUND when they cannot even see it), not a silent
    stream that never speaks."""
    exchange = await Exchange.get_or_none(id=exchange_id)
    if exchange is None:
        raise not_found("ExperienceExchange", ["exchangeId"])
    partners = await partner_ids_of(exchange.id)
    if not await sees_exchange(actor, exchange, partners):
        raise not_found("ExperienceExchange", ["exchangeId"])
    if not access.can_see_invitations(actor, exchange.host_id, partners):
        raise forbidden(f"Only the exchange's organisers may follow its {what}.")
    return exchange_id


__all__ = [
    "followed_exchange",
    "organisers",
    "pages_by_exchange",
    "resend_invitation",
    "revoke_invitation",
    "sessions_by_invitation",
    "visible_invitation",
]
