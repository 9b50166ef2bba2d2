"""addParticipant racing an invitee's acceptance for the last place, under real concurrency.

PostgreSQL only: on SQLite Tortoise runs every statement through one connection, so two
transactions never interleave and there is no race to observe.

Both take the exchange's row lock (invitations.common.lock_exchange, SELECT ... FOR UPDATE)
before they count the places held and write a participation. The invariant, per round (one
place left, a fresh invitee and a fresh volunteer of the host, the two calls at once):

* exactly one of them gets the place, the other is CAPACITY_REACHED;
* the places held never exceed the capacity.

To make the interleaving likely rather than lucky, each side is held for 10 ms after it has
counted the places and before it writes (while it holds the lock, when it has it), and the
two start 3 ms apart, each first in every other round.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable
from typing import TypeVar

import pytest

from exchange import roster
from exchange.invitations import respond as respond_service
from exchange.invitations import waitlist
from exchange.models import Exchange, Participation
from exchange.participations import seats_taken
from tests import databases
from tests.api.exchange_fixtures import gid, make_volunteer
from tests.conftest import GraphQLClient
from tests.invitations.conftest import World, invite, invitee, respond, token_for_email
from tests.services import need_postgres

pytestmark = pytest.mark.postgres
T = TypeVar("T")

ROUNDS = 20
HOLD_SECONDS = 0.01
STAGGER_SECONDS = 0.003
ADD = """mutation($e: ID!, $v: ID!) { addParticipant(exchangeId: $e, volunteerId: $v) {
  participation { id } userErrors { field code } } }"""


@pytest.fixture
def database_url() -> str:
    """Overrides the SQLite/PostgreSQL parametrization: PostgreSQL only (see the docstring)."""
    need_postgres()
    return databases.postgres_url()


def hold_after_counting(monkeypatch: pytest.MonkeyPatch) -> None:
    async def counted_then_held(exchange_id: int) -> int:
        taken = await seats_taken(exchange_id)
        await asyncio.sleep(HOLD_SECONDS)
        return taken

    # Both count through these names: the roster through the waiting list's free_places.
    monkeypatch.setattr(waitlist, "seats_taken", counted_then_held)
    monkeypatch.setattr(respond_service, "seats_taken", counted_then_held)


async def later(seconds: float, call: Awaitable[T]) -> T:
    await asyncio.sleep(seconds)
    return await call


async def race_rounds(gql: GraphQLClient, world: World) -> tuple[Counter[str], list[str]]:
    """Runs the rounds; returns who won each and every broken invariant."""
    winners: Counter[str] = Counter()
    broken: list[str] = []
    for round_ in range(ROUNDS):
        email = f"racer{round_}@example.com"
        await invite(gql, world, invitee(email))
        token = await token_for_email(email, world.settings)
        volunteer = await make_volunteer(f"Team Member {round_}", organisation=world.host)
        taken = await seats_taken(world.exchange.id)
        await Exchange.filter(id=world.exchange.id).update(capacity=taken + 1)
        # Each side starts a moment after the other in every other round, so both orders occur
        # (the later one arrives while the first holds the lock).
        add_late, accept_late = (STAGGER_SECONDS, 0.0) if round_ % 2 else (0.0, STAGGER_SECONDS)
        added, accepted = await asyncio.gather(
            later(add_late, gql(ADD, {"e": world.exchange_id, "v": gid(volunteer)}, key=world.host_key)),
            later(accept_late, respond(gql, token, "ACCEPT")),
        )
        add_errors = added["data"]["addParticipant"]["userErrors"]
        outcome = (
            "CAPACITY_REACHED" if add_errors else "OK",
            accepted["userErrors"][0]["code"] if accepted["userErrors"] else "OK",
        )
        if sorted(outcome) != ["CAPACITY_REACHED", "OK"]:
            broken.append(f"round {round_}: addParticipant {outcome[0]}, accept {outcome[1]}")
        now_taken = await seats_taken(world.exchange.id)
        if now_taken > taken + 1:
            broken.append(f"round {round_}: {now_taken} places held, capacity {taken + 1}")
        if outcome[0] == "OK":
            winners["addParticipant"] += 1
        if outcome[1] == "OK":
            winners["accept"] += 1
    return winners, broken


async def test_add_participant_and_accepting_never_both_take_the_last_place(
    gql: GraphQLClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    hold_after_counting(monkeypatch)
    winners, broken = await race_rounds(gql, world)
    assert broken == []
    assert sum(winners.values()) == ROUNDS
    # The rounds did race both ways.
    assert winners["addParticipant"] > 0 and winners["accept"] > 0, winners
    assert await Participation.filter(exchange_id=world.exchange.id).count() == ROUNDS


async def _unlocked(exchange_id: int) -> Exchange:
    return await Exchange.get(id=exchange_id)


async def test_self_check_without_the_lock_both_take_the_last_place(
    gql: GraphQLClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A check of the test above, not of the code: with addParticipant's exchange lock
    replaced by a plain read, the same rounds do break the invariant, so the test above
    would catch the lock's removal."""
    monkeypatch.setattr(roster, "lock_exchange", _unlocked)
    hold_after_counting(monkeypatch)
    _, broken = await race_rounds(gql, world)
    assert any("places held" in problem for problem in broken), broken
