"""exchange.sessions without GraphQL: who adds and changes sessions, the caps on sessions and
speakers, the schedule inside the exchange, and the mails a moved or cancelled session sends
(with the calendar SEQUENCE)."""

from __future__ import annotations

import datetime as dt

from exchange.models import Exchange, ExchangeStatus, InvitationStatus, MailKind, Session, SessionFormat
from exchange.sessions import NewSession, SessionChanges, add_session, cancel_session, update_session
from exchange.validation import LocalizedText
from tests.api.exchange_fixtures import make_exchange, make_volunteer
from tests.domain.conftest import READ_ONLY, World, invitation, mails, problems, refused

MORNING = dt.datetime(2027, 5, 11, 4, tzinfo=dt.UTC)  # 10:00 in Almaty, the exchange's second day


def planting(exchange_id: int, **fields: object) -> NewSession:
    values: dict[str, object] = {
        "exchange_id": exchange_id,
        "titles": [LocalizedText("en", "Planting")],
        "starts_at": MORNING,
        "ends_at": MORNING + dt.timedelta(hours=2),
        "format": SessionFormat.IN_PERSON,
        "venue": "Aral",
    }
    values.update(fields)
    return NewSession(**values)  # type: ignore[arg-type]


async def test_only_the_host_adds_sessions_inside_its_exchange(world: World) -> None:
    settings = world.settings
    exchange_id = world.exchange.id
    assert (await refused(add_session(READ_ONLY, planting(exchange_id), settings))).code.value == "FORBIDDEN"
    partner = await refused(add_session(world.partner_actor, planting(exchange_id), settings))
    assert partner.code.value == "FORBIDDEN"
    draft = await make_exchange("draft-week", world.host, status=ExchangeStatus.DRAFT)
    unseen = await refused(add_session(world.other_actor, planting(draft.id), settings))
    assert problems(unseen) == {("NOT_FOUND", "exchangeId")}

    outside = planting(
        exchange_id, starts_at=MORNING - dt.timedelta(days=2), ends_at=MORNING + dt.timedelta(days=9)
    )
    assert problems(await refused(add_session(world.host_actor, outside, settings))) == {
        ("INVALID", "startsAt"),
        ("INVALID", "endsAt"),
    }
    backwards = planting(exchange_id, ends_at=MORNING)
    assert problems(await refused(add_session(world.host_actor, backwards, settings))) == {
        ("INVALID", "endsAt")
    }
    assert await Session.filter(exchange_id=exchange_id).count() == 0

    session = await add_session(world.host_actor, planting(exchange_id, venue="  Aral  "), settings)
    assert session.venue == "Aral" and session.sequence == 0


async def test_caps_on_sessions_and_speakers(world: World) -> None:
    settings = world.settings.model_copy(
        update={"max_sessions_per_exchange": 2, "max_speakers_per_session": 2}
    )
    exchange_id = world.exchange.id
    # Sent by the host: volunteers it may name as speakers.
    speakers = [
        await make_volunteer(name, organisation=world.host) for name in ("Aigerim", "Daniyar", "Saule")
    ]
    ids = [volunteer.id for volunteer in speakers]

    too_many = await refused(add_session(world.host_actor, planting(exchange_id, speaker_ids=ids), settings))
    assert problems(too_many) == {("INVALID", "speakerIds")}
    unknown = await refused(
        add_session(world.host_actor, planting(exchange_id, speaker_ids=[ids[0], 999_999]), settings)
    )
    assert problems(unknown) == {("NOT_FOUND", "speakerIds.1")}
    # The same volunteer twice is one speaker.
    first = await add_session(
        world.host_actor, planting(exchange_id, speaker_ids=[ids[0], ids[0], ids[1]]), settings
    )
    assert sorted(v.id for v in await first.speakers.all()) == ids[:2]

    second = await add_session(world.host_actor, planting(exchange_id), settings)
    full = await refused(add_session(world.host_actor, planting(exchange_id), settings))
    assert problems(full) == {("INVALID", "exchangeId")}
    # A cancelled session gives its place back.
    await cancel_session(world.host_actor, second.id, settings)
    await add_session(world.host_actor, planting(exchange_id), settings)

    await Exchange.filter(id=exchange_id).update(status=ExchangeStatus.CANCELLED)
    finished = await refused(add_session(world.host_actor, planting(exchange_id), world.settings))
    assert problems(finished) == {("INVALID", "exchangeId")}


async def test_moving_or_cancelling_a_session_tells_its_invitees(world: World) -> None:
    settings = world.settings
    session = await add_session(world.host_actor, planting(world.exchange.id), settings)
    accepted = await invitation(world.exchange, "aigerim@example.org", InvitationStatus.ACCEPTED)
    declined = await invitation(world.exchange, "daniyar@example.org", InvitationStatus.DECLINED)

    # A new title moves nothing in a calendar: no SEQUENCE, no mail.
    renamed = await update_session(
        world.host_actor, session.id, SessionChanges(titles=[LocalizedText("en", "Trees")]), settings
    )
    assert renamed.sequence == 0 and await mails() == []

    month_later = MORNING + dt.timedelta(days=30)
    outside = SessionChanges(starts_at=month_later, ends_at=month_later + dt.timedelta(hours=2))
    refused_move = await refused(update_session(world.host_actor, session.id, outside, settings))
    assert problems(refused_move) == {("INVALID", "startsAt"), ("INVALID", "endsAt")}
    assert (await Session.get(id=session.id)).starts_at == MORNING and await mails() == []

    later = MORNING + dt.timedelta(hours=1)
    moved = await update_session(
        world.host_actor,
        session.id,
        SessionChanges(starts_at=later, ends_at=later + dt.timedelta(hours=2)),
        settings,
    )
    assert moved.sequence == 1
    updates = await mails(MailKind.UPDATE)
    assert [mail.invitation_id for mail in updates] == [accepted.id]
    assert declined.id not in [mail.invitation_id for mail in await mails()]

    partner = await refused(cancel_session(world.partner_actor, session.id, settings))
    assert partner.code.value == "FORBIDDEN"
    cancelled = await cancel_session(world.host_actor, session.id, settings)
    assert cancelled.cancelled_at is not None and cancelled.sequence == 2
    assert [mail.invitation_id for mail in await mails(MailKind.CANCELLATION)] == [accepted.id]
    # A cancelled session is final.
    again = await refused(
        update_session(world.host_actor, session.id, SessionChanges(venue="Elsewhere"), settings)
    )
    assert problems(again) == {("INVALID", "id")}
