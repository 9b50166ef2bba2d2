"""The statement counter at the wire (bench.pgwire), checked against a real PostgreSQL with
asyncpg used directly: what is counted is what the driver sent, sorted by kind."""

from __future__ import annotations

import asyncpg

from bench.pgwire import CountingProxy, classify
from tests.services import POSTGRES_URL, need_postgres


def test_classify() -> None:
    assert classify("SELECT 1") == "data"
    assert classify("  with x as (select 1) select * from x") == "data"
    assert classify("INSERT INTO t VALUES ($1)") == "data"
    assert classify("BEGIN ISOLATION LEVEL READ COMMITTED") == "transaction"
    assert classify("SAVEPOINT sp1") == "transaction"
    assert classify("RELEASE SAVEPOINT sp1") == "transaction"
    assert classify("COMMIT") == "transaction"
    assert classify("SELECT pg_advisory_unlock_all();\nCLOSE ALL;\nUNLISTEN *;\nRESET ALL;") == "driver"
    assert classify("PRAGMA foreign_keys=ON") == "driver"
    # asyncpg's type introspection and the JIT switch around it
    assert (
        classify("SELECT current_setting('jit') AS cur, set_config('jit', 'off', false) AS new") == "driver"
    )
    assert classify("SELECT set_config('jit', $1, false)") == "driver"
    assert classify("SELECT set_config('app.x', $1, false)") == "data"


async def test_counts_what_the_driver_sends() -> None:
    need_postgres()
    async with CountingProxy() as proxy:
        pool = await asyncpg.create_pool(proxy.url_for(POSTGRES_URL), min_size=1, max_size=1)
        try:
            proxy.log.reset()
            async with pool.acquire() as connection:
                await connection.fetch("SELECT $1::int", 1)
                await connection.fetch("SELECT $1::int", 2)  # prepared once, executed twice
                async with connection.transaction():
                    await connection.execute("SELECT 3")  # simple protocol
                    await connection.executemany("SELECT $1::int", [(4,), (5,)])
            counts = proxy.log.counts()
        finally:
            await pool.close()
    assert counts["data"] == 5
    assert counts["transaction"] == 2  # BEGIN, COMMIT
    assert counts["driver"] == 1  # the pool's reset on release
    assert proxy.log.data_statements()[:2] == ["SELECT $1::int", "SELECT $1::int"]
