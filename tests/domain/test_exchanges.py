"""exchange.exchanges without GraphQL: who may create and change an exchange, every problem
reported at once with nothing written, the status machine, dates that keep sessions inside,
and the cancellation mail to those who accepted."""

from __future__ import annotations

import datetime as dt

from exchange.exchanges import (
    TRANSITIONS,
    ExchangeChanges,
    NewExchange,
    create_exchange,
    update_exchange,
    visible_exchange,
    visible_exchange_by_slug,
)
from exchange.models import (
    Exchange,
    ExchangeStatus,
    Invitation,
    InvitationStatus,
    MailKind,
    Session,
    SessionFormat,
    Theme,
)
from exchange.validation import LocalizedText
from tests.api.exchange_fixtures import make_exchange
from tests.domain.conftest import (
    ADMIN,
    ANONYMOUS,
    READ_ONLY,
    World,
    invitation,
    mails,
    problems,
    refused,
    status_of,
)


def new_exchange(slug: str = "new-week", **fields: object) -> NewExchange:
    values: dict[str, object] = {
        "slug": slug,
        "titles": [LocalizedText("en", "New week")],
        "theme": Theme.ECOLOGY,
        "country": "KZ",
        "starts_on": dt.date(2027, 6, 1),
        "ends_on": dt.date(2027, 6, 5),
        "time_zone": "Asia/Almaty",
        "languages": ["kk", "en"],
    }
    values.update(fields)
    return NewExchange(**values)  # type: ignore[arg-type]


async def test_who_creates_an_exchange_and_for_whom(world: World) -> None:
    assert (await refused(create_exchange(ANONYMOUS, new_exchange()))).code.value == "UNAUTHENTICATED"
    assert (await refused(create_exchange(READ_ONLY, new_exchange()))).code.value == "FORBIDDEN"
    for_another = await refused(create_exchange(world.host_actor, new_exchange(host_id=world.other.id)))
    assert for_another.code.value == "FORBIDDEN"
    # An admin key belongs to no organisation: it names the host.
    assert problems(await refused(create_exchange(ADMIN, new_exchange()))) == {("INVALID", "hostId")}
    own = await create_exchange(world.host_actor, new_exchange())
    assert own.host_id == world.host.id and own.status is ExchangeStatus.DRAFT
    for_host = await create_exchange(ADMIN, new_exchange("admin-week", host_id=world.other.id))
    assert for_host.host_id == world.other.id
    taken = await refused(create_exchange(world.host_actor, new_exchange(world.exchange.slug)))
    assert problems(taken) == {("CONFLICT", "slug")}


async def test_every_problem_at_once_and_nothing_written(world: World) -> None:
    before = await Exchange.all().count()
    error = await refused(
        create_exchange(
            world.host_actor,
            new_exchange(
                titles=[],
                starts_on=dt.date(2027, 6, 5),
                ends_on=dt.date(2027, 6, 1),
                status=ExchangeStatus.CLOSED,
                partner_ids=[world.host.id, 999_999],
                capacity=-1,
            ),
        )
    )
    found = problems(error)
    assert {
        ("INVALID", "endsOn"),
        ("INVALID", "status"),
        ("INVALID", "partnerIds.0"),  # the host is not its own partner
        ("NOT_FOUND", "partnerIds.1"),
    } <= found
    assert any(field == "titles" for _, field in found) and any(field == "capacity" for _, field in found)
    assert await Exchange.all().count() == before

    # A change is refused whole: the valid titles beside the refused fields are not written.
    error = await refused(
        update_exchange(
            world.host_actor,
            world.exchange.id,
            ExchangeChanges(
                titles=[LocalizedText("en", "Renamed")], theme=None, status=ExchangeStatus.COMPLETED
            ),
        )
    )
    assert problems(error) == {("INVALID", "theme"), ("INVALID", "status")}
    stored = await Exchange.get(id=world.exchange.id)
    assert stored.titles == world.exchange.titles and stored.status is ExchangeStatus.OPEN

    names = {"titles": "titles", "theme": "theme", "starts_on": "startsOn", "ends_on": "endsOn"}
    names.update(time_zone="timeZone", languages="languages", status="status")
    cleared = ExchangeChanges(**dict.fromkeys(names))
    error = await refused(update_exchange(world.host_actor, world.exchange.id, cleared))
    assert problems(error) == {("INVALID", field) for field in names.values()}


async def test_status_moves_follow_the_machine(world: World) -> None:
    exchange = world.exchange
    for current in ExchangeStatus:
        for wanted in ExchangeStatus:
            await Exchange.filter(id=exchange.id).update(status=current)
            call = update_exchange(ADMIN, exchange.id, ExchangeChanges(status=wanted))
            if wanted is current or wanted in TRANSITIONS[current]:
                assert (await call).status is wanted, (current, wanted)
            else:
                assert problems(await refused(call)) == {("INVALID", "status")}, (current, wanted)
                assert await status_of(exchange) is current
    # Nothing leaves COMPLETED or CANCELLED.
    assert TRANSITIONS[ExchangeStatus.COMPLETED] == TRANSITIONS[ExchangeStatus.CANCELLED] == frozenset()


async def test_organisers_see_the_host_changes(world: World) -> None:
    changes = ExchangeChanges(city="Aralsk")
    # A partner sees the exchange but may not change it; another organisation may not see a
    # draft at all, so to it the exchange does not exist.
    assert (await refused(update_exchange(world.partner_actor, world.exchange.id, changes))).code.value == (
        "FORBIDDEN"
    )
    assert (await refused(update_exchange(world.other_actor, world.exchange.id, changes))).code.value == (
        "FORBIDDEN"
    )
    draft = await make_exchange("draft-week", world.host, status=ExchangeStatus.DRAFT)
    unseen = await refused(update_exchange(world.other_actor, draft.id, changes))
    assert problems(unseen) == {("NOT_FOUND", "id")}
    assert await visible_exchange(world.other_actor, draft.id) is None
    assert await visible_exchange(world.partner_actor, draft.id) is None
    assert (await visible_exchange(world.host_actor, draft.id)) is not None
    assert await visible_exchange_by_slug(ANONYMOUS, "not a slug!") is None
    assert (await update_exchange(world.host_actor, world.exchange.id, changes)).city == "Aralsk"


async def test_new_dates_must_keep_the_sessions_inside(world: World) -> None:
    await Session.create(
        exchange=world.exchange,
        titles={"en": "Planting"},
        starts_at=dt.datetime(2027, 5, 11, 4, tzinfo=dt.UTC),
        ends_at=dt.datetime(2027, 5, 11, 6, tzinfo=dt.UTC),
        format=SessionFormat.IN_PERSON,
    )
    later_start = ExchangeChanges(starts_on=dt.date(2027, 5, 12))
    assert problems(await refused(update_exchange(world.host_actor, world.exchange.id, later_start))) == {
        ("INVALID", "startsOn")
    }
    earlier_end = ExchangeChanges(ends_on=dt.date(2027, 5, 10))
    assert problems(await refused(update_exchange(world.host_actor, world.exchange.id, earlier_end))) == {
        ("INVALID", "endsOn")
    }
    # 04:00 UTC on the 11th is the 10th in Honolulu, before the exchange's first day there.
    far_zone = ExchangeChanges(time_zone="Pacific/Honolulu", starts_on=dt.date(2027, 5, 11))
    assert ("INVALID", "startsOn") in problems(
        await refused(update_exchange(world.host_actor, world.exchange.id, far_zone))
    )
    stored = await Exchange.get(id=world.exchange.id)
    assert (stored.starts_on, stored.ends_on, stored.time_zone) == (
        dt.date(2027, 5, 10),
        dt.date(2027, 5, 14),
        "Asia/Almaty",
    )


async def test_cancelling_tells_those_who_accepted(world: World) -> None:
    accepted = await invitation(world.exchange, "aigerim@example.org", InvitationStatus.ACCEPTED)
    unanswered = await invitation(world.exchange, "daniyar@example.org", InvitationStatus.SENT)
    cancelled = await update_exchange(
        world.host_actor, world.exchange.id, ExchangeChanges(status=ExchangeStatus.CANCELLED)
    )
    assert cancelled.status is ExchangeStatus.CANCELLED
    assert [mail.invitation_id for mail in await mails(MailKind.CANCELLATION)] == [accepted.id]
    # The calendar entry it cancels gets the next SEQUENCE.
    assert (await Invitation.get(id=accepted.id)).calendar_sequence == accepted.calendar_sequence + 1
    assert (await Invitation.get(id=unanswered.id)).calendar_sequence == unanswered.calendar_sequence
