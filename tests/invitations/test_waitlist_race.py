"""Concurrent withdrawals from a full exchange with a waiting list, under real concurrency.

PostgreSQL only: on SQLite Tortoise runs every statement through one connection, so two
transactions never interleave and there is no race to observe.

Each withdrawal (respond.respond with WITHDRAW) locks the exchange row (common.lock_exchange,
the lock accepting takes), gives its place back, and offers the free places it then counts
(waitlist.offer_free_places) to the first on the list. The invariant, per round (a fresh
exchange with N places, all taken, and M invitees waiting; the N holders withdraw at once):

* every withdrawal succeeds;
* live offers == freed places, capped by those waiting: exactly min(N, M) invitations are
  OFFERED, the first min(N, M) of the list in its order, each offered once (one offer mail
  each), and the rest still WAITLISTED;
* places held + live offers <= capacity.

To make the interleaving likely rather than lucky, each withdrawal is held for 10 ms after
giving its place back and before counting free places (see Hooks): without the lock, every
withdrawal then counts only its own place as free and offers it to the same first invitee.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections import Counter
from typing import Any

import pytest

from exchange.invitations import respond as respond_service
from exchange.invitations import waitlist
from exchange.invitations.respond import Response
from exchange.models import Exchange, Invitation, InvitationStatus, MailKind, OutboxMail
from exchange.participations import seats_taken
from tests import databases
from tests.conftest import GraphQLClient
from tests.invitations.conftest import World, invite, invitee, make_exchange, token_for_email
from tests.services import need_postgres

pytestmark = pytest.mark.postgres

ROUNDS = 8
WITHDRAWALS = 4
# Rounds alternate between more invitees waiting than places freed, and fewer.
WAITING = (6, 2)
HOLD_SECONDS = 0.01


@pytest.fixture
def database_url() -> str:
    """Overrides the SQLite/PostgreSQL parametrization: PostgreSQL only (see the docstring)."""
    need_postgres()
    return databases.postgres_url()


class Hooks:
    """Holds each withdrawal for HOLD_SECONDS after its place is given back (still inside its
    transaction, before the free places are counted)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        withdraw = respond_service._withdraw

        async def held_withdraw(*args: Any) -> None:
            await withdraw(*args)
            await asyncio.sleep(HOLD_SECONDS)

        monkeypatch.setattr(respond_service, "_withdraw", held_withdraw)


async def _round(gql: GraphQLClient, world: World, round_: int, waiting: int) -> list[str]:
    """One round; returns the broken invariants."""
    exchange = await make_exchange(world.host, slug=f"race-{round_}", capacity=WITHDRAWALS, waitlist=True)
    here = dataclasses.replace(world, exchange=exchange)
    holders = [f"r{round_}-in{i}@example.com" for i in range(WITHDRAWALS)]
    queue = [f"r{round_}-w{i}@example.com" for i in range(waiting)]
    await invite(gql, here, *(invitee(email) for email in holders + queue))
    for email in holders + queue:
        await respond_service.respond(await token_for_email(email, world.settings), Response.ACCEPT)
    assert await seats_taken(exchange.id) == WITHDRAWALS
    tokens = [await token_for_email(email, world.settings) for email in holders]
    results = await asyncio.gather(
        *(respond_service.respond(token, Response.WITHDRAW, settings=world.settings) for token in tokens),
        return_exceptions=True,
    )
    broken = [f"round {round_}: a withdrawal failed: {r!r}" for r in results if isinstance(r, BaseException)]
    statuses = {
        i.email_normalised: InvitationStatus(i.status)
        for i in await Invitation.filter(exchange_id=exchange.id)
    }
    freed = sum(statuses[email] is InvitationStatus.WITHDRAWN for email in holders)
    offered = [email for email in queue if statuses[email] is InvitationStatus.OFFERED]
    expected = queue[: min(freed, waiting)]
    if offered != expected:
        broken.append(f"round {round_}: {freed} places freed, offered to {offered}, expected {expected}")
    live = await waitlist.live_offers(exchange.id, dt.datetime.now(dt.UTC))
    taken = await seats_taken(exchange.id)
    if taken + live > WITHDRAWALS:
        broken.append(f"round {round_}: {taken} places held + {live} live offers > capacity {WITHDRAWALS}")
    mails = Counter(
        m.recipient
        for m in await OutboxMail.filter(kind=MailKind.WAITLIST_OFFER, invitation__exchange_id=exchange.id)
    )
    if any(count != 1 for count in mails.values()) or sorted(mails) != sorted(offered):
        broken.append(f"round {round_}: offer mails {dict(mails)} for offers to {offered}")
    return broken


async def _rounds(gql: GraphQLClient, world: World) -> list[str]:
    broken: list[str] = []
    for round_ in range(ROUNDS):
        broken.extend(await _round(gql, world, round_, WAITING[round_ % 2]))
    return broken


async def test_each_freed_place_yields_exactly_one_live_offer(
    gql: GraphQLClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    Hooks(monkeypatch)
    assert await _rounds(gql, world) == []


async def _unlocked(exchange_id: int) -> Exchange:
    return await Exchange.get(id=exchange_id)


async def test_self_check_without_the_lock_the_invariant_breaks(
    gql: GraphQLClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A check of the test above, not of the code: with the withdrawal's exchange lock
    replaced by a plain read, the same rounds do break the invariant (freed places without
    an offer, or one invitee offered a place more than once), so the test above would catch
    the lock's removal."""
    monkeypatch.setattr(respond_service, "lock_exchange", _unlocked)
    Hooks(monkeypatch)
    broken = await _rounds(gql, world)
    assert any("places freed, offered to" in problem for problem in broken), broken
