"""exchange.invitations.sweeps without GraphQL, beyond tests/invitations/test_sweeps_and_events:
the expiry sweep touches unanswered invitations only and records each change as the event
and webhook delivery of its previous status; reminders go to delivered invitations only."""

from __future__ import annotations

import datetime as dt

from exchange.invitations import sweeps
from exchange.models import Invitation, InvitationStatus, MailKind, WebhookDelivery, WebhookEndpoint
from tests.domain.conftest import RecordingBus, World, invitation, mails

PAST = -dt.timedelta(hours=1)


async def test_expiry_settles_only_unanswered_invitations(world: World, bus: RecordingBus) -> None:
    await WebhookEndpoint.create(organisation=world.host, url="https://host.example/hook", sealed_secret="s")
    queued = await invitation(world.exchange, "q@example.org", InvitationStatus.QUEUED, expires_in=PAST)
    sent = await invitation(world.exchange, "s@example.org", InvitationStatus.SENT, expires_in=PAST)
    answered = [
        await invitation(world.exchange, f"{status.value.lower()}@example.org", status, expires_in=PAST)
        for status in (InvitationStatus.ACCEPTED, InvitationStatus.DECLINED, InvitationStatus.REVOKED)
    ]
    current = await invitation(world.exchange, "later@example.org", InvitationStatus.SENT)

    assert await sweeps.expire_overdue() == 2
    assert [(e.invitation_id, e.previous_status, e.status) for e in bus.events] == [
        (queued.id, InvitationStatus.QUEUED, InvitationStatus.EXPIRED),
        (sent.id, InvitationStatus.SENT, InvitationStatus.EXPIRED),
    ]
    assert sorted(d.event_id for d in await WebhookDelivery.all()) == sorted(e.event_id for e in bus.events)
    for untouched in [*answered, current]:
        await untouched.refresh_from_db()
        assert untouched.status is not InvitationStatus.EXPIRED
    assert await sweeps.expire_overdue() == 0 and len(bus.events) == 2


async def test_reminders_only_for_delivered_invitations(world: World) -> None:
    soon = dt.timedelta(days=1)
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=20)
    delivered = await invitation(world.exchange, "s@example.org", InvitationStatus.SENT, expires_in=soon)
    await invitation(world.exchange, "q@example.org", InvitationStatus.QUEUED, expires_in=soon)
    await invitation(world.exchange, "a@example.org", InvitationStatus.ACCEPTED, expires_in=soon)
    await Invitation.all().update(created_at=old)  # invited long enough ago to be reminded
    assert (
        await sweeps.enqueue_reminders(world.settings.model_copy(update={"reminder_days_before": None})) == 0
    )
    assert await sweeps.enqueue_reminders(world.settings) == 1
    assert [mail.invitation_id for mail in await mails(MailKind.REMINDER)] == [delivered.id]
