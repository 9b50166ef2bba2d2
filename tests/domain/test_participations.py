"""exchange.participations without GraphQL: the places an exchange has taken (a withdrawal gives
its place back; a capacity lowered below the count leaves none, never fewer) and who sees
which participations (the exchange must be visible, and the people rule shows the person)."""

from __future__ import annotations

from exchange.access import Actor
from exchange.models import ExchangeStatus, Participation, ParticipationRole, ParticipationStatus
from exchange.participations import pages_by_volunteer, places_taken, seats_left, seats_taken
from schema.api.paging import PageArgs
from tests.api.exchange_fixtures import make_exchange, make_volunteer
from tests.domain.conftest import ADMIN, ANONYMOUS, World

PAGE = PageArgs(first=50, after=None, last=None, before=None)


async def take_part(volunteer_id: int, exchange_id: int, status: ParticipationStatus) -> Participation:
    return await Participation.create(
        volunteer_id=volunteer_id, exchange_id=exchange_id, role=ParticipationRole.PARTICIPANT, status=status
    )


async def test_places_taken_count_who_holds_one(world: World) -> None:
    other_exchange = await make_exchange("steppe-week", world.other)
    for name, status in [
        ("Aigerim", ParticipationStatus.CONFIRMED),
        ("Daniyar", ParticipationStatus.ATTENDED),
        ("Saule", ParticipationStatus.WITHDRAWN),
    ]:
        volunteer = await make_volunteer(name)
        await take_part(volunteer.id, world.exchange.id, status)
    await take_part((await make_volunteer("Nurlan")).id, other_exchange.id, ParticipationStatus.CONFIRMED)

    assert await seats_taken(world.exchange.id) == 2
    assert await places_taken([world.exchange.id, other_exchange.id, 999_999]) == {
        world.exchange.id: 2,
        other_exchange.id: 1,
    }
    assert seats_left(None, 2) is None
    assert seats_left(5, 2) == 3
    assert seats_left(1, 2) == 0


async def test_participations_follow_the_exchange_and_the_person(world: World) -> None:
    draft = await make_exchange("draft-week", world.host, status=ExchangeStatus.DRAFT)
    public = await make_volunteer("Aigerim", organisation=world.partner, public_profile=True)
    private = await make_volunteer("Daniyar", organisation=world.partner)
    seen_in_open = await take_part(public.id, world.exchange.id, ParticipationStatus.CONFIRMED)
    in_draft = await take_part(public.id, draft.id, ParticipationStatus.CONFIRMED)
    private_in_open = await take_part(private.id, world.exchange.id, ParticipationStatus.CONFIRMED)

    async def seen(actor: Actor) -> set[int]:
        pages = await pages_by_volunteer(actor, [public.id, private.id], PAGE)
        return {node.id for page in pages.values() for node in page.nodes}

    everything = {seen_in_open.id, in_draft.id, private_in_open.id}
    assert await seen(ADMIN) == everything
    assert await seen(world.host_actor) == everything  # it organises both exchanges
    # The sending organisation sees its people, but not someone else's draft.
    assert await seen(world.partner_actor) == {seen_in_open.id, private_in_open.id}
    # Others see the public profile's participation in the published exchange only.
    assert await seen(world.other_actor) == {seen_in_open.id}
    assert await seen(ANONYMOUS) == {seen_in_open.id}
