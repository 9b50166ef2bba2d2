"""exchange.invitations.manage without GraphQL: the host resends and revokes; a revocation
withdraws the participation an acceptance made, cancels the calendar entry only where a mail
left, is announced after the commit, and a refusal changes nothing."""

from __future__ import annotations

import datetime as dt

from exchange.events import ParticipationChange
from exchange.invitations.manage import resend_invitation, revoke_invitation
from exchange.models import (
    Exchange,
    ExchangeStatus,
    Invitation,
    InvitationStatus,
    MailKind,
    Participation,
    ParticipationRole,
    ParticipationStatus,
)
from tests.api.exchange_fixtures import make_volunteer
from tests.domain.conftest import RecordingBus, World, invitation, mails, problems, refused


async def test_resend_only_while_open(world: World) -> None:
    settings = world.settings
    sent = await invitation(world.exchange, "aigerim@example.org", InvitationStatus.SENT)
    assert (
        await refused(resend_invitation(world.partner_actor, settings, sent.id))
    ).code.value == "FORBIDDEN"
    # Another organisation does not see the invitation at all.
    other = await refused(resend_invitation(world.other_actor, settings, sent.id))
    assert problems(other) == {("NOT_FOUND", "id")}

    resent = await resend_invitation(world.host_actor, settings, sent.id)
    assert resent.calendar_sequence == sent.calendar_sequence + 1
    assert [mail.invitation_id for mail in await mails(MailKind.RESEND)] == [sent.id]

    overdue = await invitation(world.exchange, "old@example.org", expires_in=-dt.timedelta(hours=1))
    assert problems(await refused(resend_invitation(world.host_actor, settings, overdue.id))) == {
        ("EXPIRED", "id")
    }
    declined = await invitation(world.exchange, "no@example.org", InvitationStatus.DECLINED)
    assert problems(await refused(resend_invitation(world.host_actor, settings, declined.id))) == {
        ("ALREADY_RESPONDED", "id")
    }
    await Exchange.filter(id=world.exchange.id).update(status=ExchangeStatus.CLOSED)
    assert problems(await refused(resend_invitation(world.host_actor, settings, sent.id))) == {
        ("INVALID", "id")
    }
    assert len(await mails(MailKind.RESEND)) == 1
    assert (await Invitation.get(id=sent.id)).calendar_sequence == resent.calendar_sequence


async def test_revoking_undoes_what_the_invitation_did(world: World, bus: RecordingBus) -> None:
    settings = world.settings
    never_mailed = await invitation(world.exchange, "queued@example.org", InvitationStatus.QUEUED)
    volunteer = await make_volunteer("Aigerim")
    accepted = await invitation(
        world.exchange,
        "aigerim@example.org",
        InvitationStatus.ACCEPTED,
        volunteer=volunteer,
        sent_at=dt.datetime.now(dt.UTC),
    )
    seat = await Participation.create(
        volunteer=volunteer,
        exchange=world.exchange,
        role=ParticipationRole.PARTICIPANT,
        status=ParticipationStatus.CONFIRMED,
    )

    partner = await refused(revoke_invitation(world.partner_actor, settings, accepted.id))
    assert partner.code.value == "FORBIDDEN" and bus.events == []

    revoked = await revoke_invitation(world.host_actor, settings, never_mailed.id)
    assert revoked.status is InvitationStatus.REVOKED
    assert await mails() == []  # no mail left, so no calendar entry to cancel

    await revoke_invitation(world.host_actor, settings, accepted.id)
    assert (await Participation.get(id=seat.id)).status is ParticipationStatus.WITHDRAWN
    assert [mail.invitation_id for mail in await mails(MailKind.CANCELLATION)] == [accepted.id]
    assert [(e.invitation_id, e.previous_status, e.status) for e in bus.invitation_events] == [
        (never_mailed.id, InvitationStatus.QUEUED, InvitationStatus.REVOKED),
        (accepted.id, InvitationStatus.ACCEPTED, InvitationStatus.REVOKED),
    ]
    # The place the accepted invitation held is given up: a participation change of its own.
    assert [(e.participation_id, e.change) for e in bus.participation_events] == [
        (seat.id, ParticipationChange.WITHDRAWN)
    ]
    assert all(e.organiser_ids == world.organiser_ids for e in bus.events)

    again = await refused(revoke_invitation(world.host_actor, settings, accepted.id))
    assert problems(again) == {("REVOKED", "id")} and len(bus.events) == 3
    assert problems(await refused(revoke_invitation(world.host_actor, settings, 999_999))) == {
        ("NOT_FOUND", "id")
    }
