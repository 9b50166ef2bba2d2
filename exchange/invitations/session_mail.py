"""Who hears about a moved or cancelled session: every invitee who accepted an invitation
to that session, or to the whole exchange (an invitation naming no session)."""

from __future__ import annotations

from exchange.invitations.manage import sessions_by_invitation
from exchange.mail.outbox import enqueue_many
from exchange.models import Invitation, InvitationStatus, MailKind, Session
from exchange.settings import Settings


async def accepted_invitations_for(session: Session) -> list[Invitation]:
    accepted = await Invitation.filter(
        exchange_id=session.exchange_id,  # type: ignore[attr-defined]
        status=InvitationStatus.ACCEPTED,
    ).order_by("id")
    if not accepted:
        return []
    invited_to = await sessions_by_invitation([invitation.id for invitation in accepted])
    return [
        invitation
        for invitation in accepted
        if not invited_to[invitation.id] or any(s.id == session.id for s in invited_to[invitation.id])
    ]


async def notify_session_change(session: Session, kind: MailKind, settings: Settings | None = None) -> int:
    """Queues an UPDATE or CANCELLATION mail per accepted invitee, inside the caller's
    transaction; returns how many."""
    recipients = await accepted_invitations_for(session)
    return await enqueue_many(kind, recipients, payload={"session_ids": [session.id]}, settings=settings)
