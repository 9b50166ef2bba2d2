"""Counting the SQL statements a request makes, where the database receives them:

* PostgreSQL: the app connects through bench.pgwire.CountingProxy, which reads the wire
  protocol (every Execute and simple Query message);
* SQLite: sqlite3's trace callback on Tortoise's connection (every statement the engine runs).

Neither depends on how the server builds its SQL (ORM, raw SQL, a loader that bypasses the
ORM): what reaches the database is what is counted. Transaction control (BEGIN, COMMIT,
SAVEPOINT...) and what the driver sends by itself (asyncpg's connection reset, PRAGMA) are
counted apart from data statements.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tortoise import connections

from bench.pgwire import CountingProxy, StatementLog, classify

if TYPE_CHECKING:
    from tests.conftest import GraphQLClient

__all__ = ["CountingProxy", "SqlCounter", "StatementLog", "classify"]


@dataclass
class SqlCounter:
    """The statements since ``reset()``; ``log.data`` is the number of data statements."""

    log: StatementLog
    backend: str

    def reset(self) -> None:
        self.log.reset()

    async def settle(self) -> None:
        """Let the statements in flight reach the counter (the proxy reads asynchronously)."""
        for _ in range(5):
            await asyncio.sleep(0.01)

    @property
    def data(self) -> int:
        return self.log.data

    def reading(self, table: str) -> list[str]:
        """The data statements that name ``table``."""
        return [statement for statement in self.log.data_statements() if table in statement]

    async def answer_warm(
        self, gql: GraphQLClient, document: str, variables: dict[str, Any], key: str | None
    ) -> dict[str, Any]:
        """The data of ``document``'s second answer, the statements counted for it alone
        (the first warms the pool and the prepared statements); it must have no errors."""
        await gql(document, variables, key=key)
        await self.settle()
        self.reset()
        payload = await gql(document, variables, key=key)
        await self.settle()
        assert "errors" not in payload, payload
        data: dict[str, Any] = payload["data"]
        return data


async def attach_sqlite(log: StatementLog) -> None:
    """Trace every statement on the app's SQLite connection into ``log``."""
    client: Any = connections.get("default")
    if client._connection is None:
        await client.create_connection(with_db=True)
    await client._connection.set_trace_callback(log.add)
