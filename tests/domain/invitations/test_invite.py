"""exchange.invitations.invite without GraphQL: who invites, the call refused whole (nothing
written, nothing mailed, nothing published) or invitee by invitee (the valid ones invited,
the others reported), one live invitation per address, and the events, mails and webhook
deliveries an invitation leaves, written in the invitation's transaction."""

from __future__ import annotations

import datetime as dt

from exchange.events import InvitationEvent
from exchange.invitations.invite import Invitee, InviteRequest, invite_volunteers
from exchange.models import (
    Exchange,
    ExchangeStatus,
    Invitation,
    InvitationStatus,
    MailKind,
    Session,
    SessionFormat,
    WebhookDelivery,
    WebhookEndpoint,
)
from tests.api.exchange_fixtures import make_exchange
from tests.domain.conftest import READ_ONLY, RecordingBus, World, invitation, mails, problems, refused

AIGERIM = Invitee("aigerim@example.org", "Aigerim", "KZ")


def request(exchange_id: int, *invitees: Invitee, **fields: object) -> InviteRequest:
    return InviteRequest(exchange_id, list(invitees or [AIGERIM]), **fields)  # type: ignore[arg-type]


async def test_only_the_host_invites(world: World) -> None:
    settings = world.settings
    assert (await refused(invite_volunteers(READ_ONLY, settings, request(world.exchange.id)))).code.value == (
        "FORBIDDEN"
    )
    partner = await refused(invite_volunteers(world.partner_actor, settings, request(world.exchange.id)))
    assert partner.code.value == "FORBIDDEN"
    draft = await make_exchange("draft-week", world.host, status=ExchangeStatus.DRAFT)
    unseen = await refused(invite_volunteers(world.other_actor, settings, request(draft.id)))
    assert problems(unseen) == {("NOT_FOUND", "exchangeId")}
    assert await Invitation.all().count() == 0


async def test_a_refused_call_leaves_nothing(world: World, bus: RecordingBus) -> None:
    settings = world.settings.model_copy(update={"invitees_per_call": 2})
    other_exchange = await make_exchange("steppe-week", world.other)
    elsewhere = await Session.create(
        exchange=other_exchange,
        titles={"en": "Elsewhere"},
        starts_at=dt.datetime(2027, 5, 11, 4, tzinfo=dt.UTC),
        ends_at=dt.datetime(2027, 5, 11, 6, tzinfo=dt.UTC),
        format=SessionFormat.ONLINE,
    )
    cancelled = await Session.create(
        exchange=world.exchange,
        titles={"en": "Called off"},
        starts_at=dt.datetime(2027, 5, 11, 4, tzinfo=dt.UTC),
        ends_at=dt.datetime(2027, 5, 11, 6, tzinfo=dt.UTC),
        format=SessionFormat.ONLINE,
        cancelled_at=dt.datetime.now(dt.UTC),
    )
    three = [Invitee(f"p{i}@example.org", "P", "KZ") for i in range(3)]
    error = await refused(
        invite_volunteers(
            world.host_actor,
            settings,
            request(
                world.exchange.id,
                *three,
                session_ids=[elsewhere.id, cancelled.id],
                message="x" * (settings.invitation_message_max_length + 1),
                expires_in_days=0,
            ),
        )
    )
    assert problems(error) == {
        ("INVALID", "invitees"),
        ("NOT_FOUND", "sessionIds.0"),
        ("INVALID", "sessionIds.1"),
        ("INVALID", "message"),
        ("INVALID", "expiresInDays"),
    }
    await Exchange.filter(id=world.exchange.id).update(status=ExchangeStatus.CLOSED)
    closed = await refused(invite_volunteers(world.host_actor, settings, request(world.exchange.id)))
    assert problems(closed) == {("INVALID", "exchangeId")}
    assert await Invitation.all().count() == 0 and await mails() == [] and bus.events == []


async def test_valid_invitees_are_invited_and_the_others_reported(world: World, bus: RecordingBus) -> None:
    await WebhookEndpoint.create(
        organisation=world.partner, url="https://partner.example/hook", sealed_secret="s"
    )
    result = await invite_volunteers(
        world.host_actor,
        world.settings,
        request(
            world.exchange.id,
            AIGERIM,
            Invitee("not-an-address", "Daniyar", "KZ"),
            Invitee("AIGERIM@Example.org", "Aigerim again", "KZ"),
            Invitee("saule@example.org", "  Saule   Amanova ", "XX", locale="de"),
            Invitee("nurlan@example.org", "Nurlan", "KZ", locale="ru"),
            message="  Welcome  ",
        ),
    )
    assert {(p.code.value, ".".join(p.field or ())) for p in result.problems} == {
        ("INVALID", "invitees.1.email"),
        ("CONFLICT", "invitees.2.email"),  # the same address, another case
        ("INVALID", "invitees.3.country"),
        ("INVALID", "invitees.3.locale"),
    }
    invited = await Invitation.all().order_by("id")
    assert [(i.email_normalised, i.locale, i.status) for i in invited] == [
        ("aigerim@example.org", "kk", InvitationStatus.QUEUED),  # the exchange's first language
        ("nurlan@example.org", "ru", InvitationStatus.QUEUED),
    ]
    assert {i.message for i in invited} == {"Welcome"}
    assert result.created_ids == {i.id for i in invited}
    assert [mail.invitation_id for mail in await mails(MailKind.INVITATION)] == [i.id for i in invited]
    # Published after the commit, one event each, heard by the host and the partner ...
    assert [(e.invitation_id, e.previous_status, e.status) for e in bus.events] == [
        (i.id, None, InvitationStatus.QUEUED) for i in invited
    ]
    assert all(isinstance(e, InvitationEvent) and e.organiser_ids == world.organiser_ids for e in bus.events)
    # ... and the partner's webhook gets each, recorded with the invitations.
    assert sorted(d.event_id for d in await WebhookDelivery.all()) == sorted(e.event_id for e in bus.events)


async def test_one_live_invitation_per_address(world: World, bus: RecordingBus) -> None:
    live = await invitation(world.exchange, "aigerim@example.org", InvitationStatus.SENT)
    overdue = await invitation(
        world.exchange, "nurlan@example.org", InvitationStatus.SENT, expires_in=-dt.timedelta(days=1)
    )
    result = await invite_volunteers(
        world.host_actor,
        world.settings,
        request(world.exchange.id, AIGERIM, Invitee("Nurlan@example.org", "Nurlan", "KZ")),
    )
    # The live one is returned as it is, not mailed again; the overdue one is settled as
    # expired (and announced) and the address invited anew.
    assert result.invitations[0].id == live.id and live.id not in result.created_ids
    fresh = result.invitations[1]
    assert fresh.id != overdue.id and result.created_ids == {fresh.id}
    assert (await Invitation.get(id=overdue.id)).status is InvitationStatus.EXPIRED
    assert [mail.invitation_id for mail in await mails()] == [fresh.id]
    assert [(e.invitation_id, e.status) for e in bus.events] == [
        (overdue.id, InvitationStatus.EXPIRED),
        (fresh.id, InvitationStatus.QUEUED),
    ]
