"""What every invitation service shares: the status as readers see it, who organises an
exchange (who may hear its events), and the row lock that serialises changes per exchange."""

from __future__ import annotations

from datetime import UTC, datetime

from exchange import access
from exchange.events import AfterCommit, InvitationEvent
from exchange.exchanges import partner_ids_of
from exchange.models import Exchange, Invitation, InvitationStatus

# Statuses that still wait for an answer: past expires_at they read as EXPIRED.
OPEN_STATUSES = (InvitationStatus.QUEUED, InvitationStatus.SENT)
LIVE_STATUSES = (
    InvitationStatus.QUEUED,
    InvitationStatus.SENT,
    InvitationStatus.ACCEPTED,
    InvitationStatus.WAITLISTED,
    InvitationStatus.OFFERED,
)


def utcnow() -> datetime:
    return datetime.now(UTC)


def effective_status(invitation: Invitation, now: datetime | None = None) -> InvitationStatus:
    """The status a reader sees: an unanswered invitation past its expiry is EXPIRED at once,
    whether or not the sweep has stored that yet (reads never write). So is a place offered
    from the waiting list once its claim window has passed (exchange.invitations.waitlist)."""
    status = InvitationStatus(invitation.status)
    if status in OPEN_STATUSES and invitation.expires_at <= (now or utcnow()):
        return InvitationStatus.EXPIRED
    if status is InvitationStatus.OFFERED and offer_lapsed(invitation, now):
        return InvitationStatus.EXPIRED
    return status


def offer_lapsed(invitation: Invitation, now: datetime | None = None) -> bool:
    deadline = invitation.offer_expires_at
    return deadline is not None and deadline <= (now or utcnow())


async def organisers(exchange: Exchange) -> frozenset[int]:
    return access.organiser_ids(exchange.host_id, await partner_ids_of(exchange.id))


async def lock_exchange(exchange_id: int) -> Exchange:
    """Reads the exchange inside the current transaction, locking its row on PostgreSQL so
    concurrent invites and answers for one exchange take turns (seat counting, one live
    invitation per address). SQLite has one writer at a time anyway."""
    return await Exchange.select_for_update().get(id=exchange_id)


def status_changed(
    after: AfterCommit,
    invitation: Invitation,
    organiser_ids: frozenset[int],
    previous: InvitationStatus | None,
    status: InvitationStatus,
    at: datetime,
) -> None:
    after.add(
        InvitationEvent(
            invitation_id=invitation.id,
            exchange_id=invitation.exchange_id,
            organiser_ids=organiser_ids,
            previous_status=previous,
            status=status,
            at=at,
        )
    )
