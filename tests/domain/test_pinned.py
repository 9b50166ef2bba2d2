"""Sequential reads on one pooled connection (exchange/pinned.py): on PostgreSQL the
statements of a ``one_connection()`` block share one backend and one pool acquire; a
statement that finds the connection busy takes its own; errors are Tortoise's either way;
on SQLite the block changes nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from tortoise import connections
from tortoise.backends.asyncpg.client import AsyncpgDBClient
from tortoise.exceptions import IntegrityError, OperationalError
from tortoise.transactions import in_transaction

from exchange import pinned
from exchange.sql import Statement
from tests.databases import on_postgres
from tests.domain.conftest import RecordingBus


async def backend_pid() -> int:
    statement = Statement()
    sql = "SELECT pg_backend_pid()" if on_postgres() else "SELECT 1"
    rows = await statement.fetch_rows(sql)
    return int(rows[0][0])


@pytest.fixture
def acquires(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many connections were taken from the pool (PostgreSQL)."""
    taken: list[int] = []
    original = AsyncpgDBClient.acquire_connection

    def counting(self: AsyncpgDBClient) -> Any:
        taken.append(1)
        return original(self)

    monkeypatch.setattr(AsyncpgDBClient, "acquire_connection", counting)
    yield taken


async def test_statements_of_a_block_share_one_connection(bus: RecordingBus, acquires: list[int]) -> None:
    async with pinned.one_connection():
        pids = [await backend_pid() for _ in range(4)]
    if not on_postgres():
        assert pids == [1, 1, 1, 1]
        assert acquires == []
        return
    assert len(set(pids)) == 1
    assert len(acquires) == 1  # the block's own; its four statements took none
    acquires.clear()
    [await backend_pid() for _ in range(4)]
    assert len(acquires) == 4  # outside a block: one per statement, as Tortoise does


async def test_a_busy_connection_is_not_shared(bus: RecordingBus) -> None:
    """Two statements at once inside a block (tasks inherit the context): one runs on the
    lent connection, the other on a pooled one; neither fails with "another operation is in
    progress"."""
    async with pinned.one_connection():
        sql = "SELECT pg_backend_pid() FROM pg_sleep(0.05)" if on_postgres() else "SELECT 1"
        first, second = await asyncio.gather(Statement().fetch_rows(sql), Statement().fetch_rows(sql))
    if on_postgres():
        assert first[0][0] != second[0][0]


async def test_the_connection_is_lent_only_inside_the_block(bus: RecordingBus) -> None:
    client = connections.get("default")
    assert pinned.lent(client) is None
    async with pinned.one_connection():
        inside = pinned.lent(client)
        assert (inside is not None) == on_postgres()
    assert pinned.lent(client) is None


async def test_a_transaction_keeps_its_own_connection(bus: RecordingBus) -> None:
    async with in_transaction() as transaction, pinned.one_connection():
        assert pinned.lent(transaction) is None
        assert pinned.lent(connections.get("default")) is None
        await backend_pid()


async def test_statements_in_a_block_know_their_client_without_asking_tortoise(
    bus: RecordingBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, postgres = connections.get("default"), on_postgres()
    async with pinned.one_connection():
        asked: list[str] = []
        ask = type(connections._get_handler()).get

        def counting(handler: Any, name: str) -> Any:
            asked.append(name)
            return ask(handler, name)

        monkeypatch.setattr(type(connections._get_handler()), "get", counting)
        assert Statement().connection is client
        assert asked == ([] if postgres else ["default"])
        assert (pinned.pinned_client("default") is client) == postgres
        assert pinned.pinned_client("other") is None


async def test_a_transaction_begun_inside_a_block_keeps_its_statements(bus: RecordingBus) -> None:
    """A transaction opened inside a block sets Tortoise's connections anew: statements in it
    go to the transaction's connection, not the block's."""
    async with pinned.one_connection():
        outside_pid = await backend_pid()
        async with in_transaction() as transaction:
            assert pinned.pinned_client("default") is None
            assert Statement().connection is transaction
            inside_pid = await backend_pid()
        assert (inside_pid != outside_pid) == on_postgres()
        assert Statement().connection is connections.get("default")


# A statement for each kind of driver error Tortoise translates, and the error it becomes.
FAILING = {
    "syntax or access": ("SELECT no_such_column FROM volunteer", OperationalError),
    "data": ("SELECT 1 / 0", OperationalError),  # SQLite answers NULL
    "integrity": ("INSERT INTO volunteer (full_name) VALUES (NULL) RETURNING id", IntegrityError),
}


@pytest.mark.parametrize("kind", FAILING)
async def test_errors_are_tortoises_inside_and_outside(bus: RecordingBus, kind: str) -> None:
    sql, error = FAILING[kind]
    if kind == "data" and not on_postgres():
        pytest.skip("SQLite answers 1 / 0 with NULL: no error to translate")
    with pytest.raises(error) as outside:
        await Statement().fetch_rows(sql)
    async with pinned.one_connection():
        # On PostgreSQL the statement goes through Pinned.fetch, not Tortoise's execute_query.
        assert (pinned.lent(connections.get("default")) is not None) == on_postgres()
        with pytest.raises(error) as inside:
            await Statement().fetch_rows(sql)
        # the connection is usable after the error
        assert await backend_pid() > 0
    assert type(inside.value) is type(outside.value)
    assert type(inside.value.__cause__) is type(outside.value.__cause__)  # the driver's own error


async def test_a_cancelled_block_gives_its_connection_back(bus: RecordingBus) -> None:
    """Cancelled mid-statement (the request's deadline): the connection goes back to the pool
    and nothing stays lent; the next block works."""
    if not on_postgres():
        return
    await backend_pid()  # the pool exists once used
    client = connections.get("default")
    pool = client._pool  # type: ignore[attr-defined]
    free_before = pool._queue.qsize()
    started = asyncio.Event()

    async def slow_block() -> None:
        async with pinned.one_connection():
            started.set()
            await Statement().fetch_rows("SELECT pg_sleep(5)")

    task = asyncio.ensure_future(slow_block())
    await asyncio.wait_for(started.wait(), 5)
    await asyncio.sleep(0.1)  # the statement is on the wire
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert pinned.lent(client) is None
    assert pool._queue.qsize() == free_before
    async with pinned.one_connection():
        assert await backend_pid() > 0


async def test_some_connections_are_never_lent(bus: RecordingBus, monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks side by side lend at most the pool's size minus KEPT_FOR_SINGLE_STATEMENTS
    connections; the others send their statements as before, so a statement on its own never
    waits for a connection a block holds."""
    if not on_postgres():
        return
    client = connections.get("default")
    monkeypatch.setattr(client, "pool_maxsize", pinned.KEPT_FOR_SINGLE_STATEMENTS + 1)
    inside = asyncio.Event()
    release = asyncio.Event()
    seen: list[bool] = []

    async def block() -> None:
        async with pinned.one_connection():
            seen.append(pinned.lent(client) is not None)
            inside.set()
            await release.wait()
            assert await backend_pid() > 0

    first = asyncio.ensure_future(block())
    await inside.wait()
    second = asyncio.ensure_future(block())
    await asyncio.sleep(0.05)
    assert seen == [True, False]  # the second block found the one lendable connection taken
    release.set()
    await asyncio.gather(first, second)
    assert pinned._lent_out == {}
    async with pinned.one_connection():
        assert pinned.lent(client) is not None  # given back: lendable again
