"""Who hears about a moved or cancelled session: every invitee whose calendar holds it.

That is an invitation to that session, or to the whole exchange (one naming no session),
which was either accepted (or is on the waiting list, or offered a place from it) or mailed
and still open (SENT, not past its expiry): the invitation mail put the entry in the
calendar whether or not it was answered. Not a QUEUED
one: its invitation mail is still in the outbox and is rendered when it is sent, so it
already carries the session as it now is. Not a declined, revoked, expired or failed one.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.expressions import Q

from exchange.invitations.manage import sessions_by_invitation
from exchange.mail.outbox import enqueue_many
from exchange.models import Invitation, InvitationStatus, MailKind, Session
from exchange.settings import Settings

# Accepted, or on the waiting list (or offered a place from it): the calendar holds the
# entry, and its status does not run out as an unanswered invitation's does.
WAITING_OR_IN = (InvitationStatus.ACCEPTED, InvitationStatus.WAITLISTED, InvitationStatus.OFFERED)


async def invitations_to_tell(session: Session, now: datetime | None = None) -> list[Invitation]:
    holding = await Invitation.filter(
        Q(status__in=WAITING_OR_IN)
        | Q(status=InvitationStatus.SENT, expires_at__gt=now or datetime.now(UTC)),
        exchange_id=session.exchange_id,
    ).order_by("id")
    if not holding:
        return []
    invited_to = await sessions_by_invitation([invitation.id for invitation in holding])
    return [
        invitation
        for invitation in holding
        if not invited_to[invitation.id] or any(s.id == session.id for s in invited_to[invitation.id])
    ]


async def notify_session_change(session: Session, kind: MailKind, settings: Settings | None = None) -> int:
    """Queues an UPDATE or CANCELLATION mail per invitee to tell, inside the caller's
    transaction; returns how many. Each is rendered in its invitation's language, with the
    SEQUENCE rule of every calendar mail (exchange.mail.ics)."""
    recipients = await invitations_to_tell(session)
    return await enqueue_many(kind, recipients, payload={"session_ids": [session.id]}, settings=settings)
