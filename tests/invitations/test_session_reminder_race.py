"""Session reminder sweeps in several processes at once queue each reminder once.

PostgreSQL only: on SQLite Tortoise runs every statement through one connection, so two
sweeps never interleave. Each sweep is one INSERT ... SELECT that leaves out keys already
committed (NOT EXISTS) and lets the unique index on outbox_mail.dedupe_key settle the rest
(ON CONFLICT DO NOTHING): a sweep that meets another's uncommitted row for the same key
waits for it and then inserts nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from tortoise.transactions import in_transaction

from exchange.invitations.session_reminders import enqueue_session_reminders
from exchange.models import (
    MailKind,
    OutboxMail,
    Participation,
    ParticipationStatus,
    Session,
    SessionFormat,
    Volunteer,
)
from tests import databases
from tests.invitations.conftest import World
from tests.services import need_postgres

pytestmark = pytest.mark.postgres

PEOPLE = 12
ROUNDS = 15
SWEEPERS = 4
# The world's opening session starts 2027-05-10 04:00 UTC.
NOW = dt.datetime(2027, 5, 9, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def database_url() -> str:
    """Overrides the SQLite/PostgreSQL parametrization: PostgreSQL only (see the docstring)."""
    need_postgres()
    return databases.postgres_url()


async def _roster(world: World) -> None:
    for index in range(PEOPLE):
        volunteer = await Volunteer.create(
            full_name=f"Volunteer {index}", email=f"v{index}@example.org", country="KZ", languages=["kk"]
        )
        await Participation.create(
            volunteer=volunteer, exchange=world.exchange, status=ParticipationStatus.CONFIRMED
        )


async def _keys() -> list[str]:
    rows = await OutboxMail.filter(kind=MailKind.SESSION_REMINDER).values_list("dedupe_key", flat=True)
    return [str(key) for key in rows]


async def test_a_sweep_waits_for_another_holding_the_same_keys(world: World) -> None:
    await _roster(world)
    inserted = asyncio.Event()
    release = asyncio.Event()

    async def first() -> int:
        async with in_transaction():
            count = await enqueue_session_reminders(world.settings, NOW)
            inserted.set()
            await release.wait()
        return count

    holder = asyncio.create_task(first())
    await asyncio.wait_for(inserted.wait(), 10)
    # The first sweep's rows are not committed: the second cannot see them, tries to insert
    # the same keys and must wait on the unique index.
    second = asyncio.create_task(enqueue_session_reminders(world.settings, NOW))
    done, _ = await asyncio.wait({second}, timeout=0.5)
    assert not done, "the second sweep did not wait for the first: the race was not run"
    release.set()
    assert await asyncio.wait_for(holder, 10) == PEOPLE
    assert await asyncio.wait_for(second, 10) == 0
    keys = await _keys()
    assert len(keys) == len(set(keys)) == PEOPLE


async def test_concurrent_sweeps_queue_each_reminder_once(world: World) -> None:
    await _roster(world)
    total = 0
    for round_number in range(ROUNDS):
        # A new session per round, so that every round has reminders left to queue.
        start = NOW + dt.timedelta(hours=2, minutes=round_number)
        await Session.create(
            exchange=world.exchange,
            titles={"en": f"Round {round_number}"},
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
            format=SessionFormat.ONLINE,
            online_url="https://meet.example/round",
        )
        counts = await asyncio.gather(
            *(enqueue_session_reminders(world.settings, NOW) for _ in range(SWEEPERS))
        )
        # The first round also reminds of the world's opening session (within 24 hours).
        expected = PEOPLE * (2 if round_number == 0 else 1)
        assert sum(counts) == expected, counts
        total += expected
        keys = await _keys()
        assert len(keys) == len(set(keys)) == total
