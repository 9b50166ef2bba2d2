"""A run of sequential reads on one pooled connection.

Tortoise takes a connection from the pool for every statement and gives it back after: on
PostgreSQL each of those is a pool acquire, a release (asyncpg shields it in a task of its
own) and Tortoise's wrappers around the call, about 0.07 ms of CPU per statement, a fifth of
what a small exchanges page costs apart from the rows themselves (profiled in-process). A
caller that issues its statements one after another (schema.engine's row fetches, one per
nesting level) takes one connection for all of them with ``one_connection()``; while the
block runs, ``Statement.fetch_rows`` (exchange.sql) sends its statements on that connection.

Only the code running inside the block in the same context sees the connection (a context
variable), and never two statements at once: a statement that finds it busy takes its own
connection from the pool as before. Errors are translated as Tortoise translates them, so
callers see the same exceptions either way. SQLite has one connection anyway: nothing changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar, Token
from typing import Any

from tortoise.backends.asyncpg.client import AsyncpgDBClient
from tortoise.connection import ConnectionHandler
from tortoise.context import require_context


class Pinned:
    """One pooled connection lent to a run of reads, for the client it came from (what
    ``connections.get(name)`` answered, with Tortoise's connections as they were then)."""

    __slots__ = ("busy", "client", "connection", "name", "storage", "storage_var")

    def __init__(
        self, client: AsyncpgDBClient, connection: Any, name: str, storage_var: ContextVar[dict[str, Any]]
    ) -> None:
        self.client = client
        self.connection = connection
        self.name = name
        self.busy = False
        # Tortoise keeps a context's connections in a dict held by a context variable, and a
        # transaction (or any connection set) puts a new dict there.
        self.storage_var = storage_var
        self.storage = storage_var.get()

    async def fetch(self, sql: str, params: Sequence[Any]) -> Sequence[Any]:
        """The rows of one statement (what ``AsyncpgDBClient.execute_query`` returns for a
        SELECT, with the same exceptions)."""
        client = self.client
        self.busy = True
        try:
            client.log.debug("%s: %s", sql, params)  # parameters hidden: exchange.db
            rows: Sequence[Any] = await self.connection.fetch(sql, *params)
            return rows
        except Exception as error:
            # Tortoise's own translation (as on its execute_query: its exceptions, not
            # asyncpg's), asked only when a statement fails: three coroutines less a statement.
            await client._translate_exceptions(_raise, error)
            raise
        finally:
            self.busy = False


async def _raise(_client: AsyncpgDBClient, error: Exception) -> None:
    raise error


_pinned: ContextVar[Pinned | None] = ContextVar("exchange_pinned_connection", default=None)


def tortoise_connections() -> ConnectionHandler:
    """The current Tortoise context's connections: what ``tortoise.connections`` forwards to,
    without the proxy's import statement and lookup on every attribute (per statement)."""
    return require_context().connections


def pinned_client(name: str) -> AsyncpgDBClient | None:
    """What ``connections.get(name)`` answers here, without asking Tortoise (a chain of
    calls through its context proxy, for every statement): inside a block that lent this
    context a connection for ``name``, while Tortoise's connections are the ones it had
    then (a transaction begun since has its own). None otherwise: ask Tortoise."""
    pinned = _pinned.get()
    if pinned is None or pinned.name != name or pinned.storage_var.get() is not pinned.storage:
        return None
    return pinned.client


def lent(client: object) -> Pinned | None:
    """The connection lent to this context for ``client``, if it is free now."""
    pinned = _pinned.get()
    if pinned is None or pinned.busy or pinned.client is not client:
        return None
    return pinned


# Connections of a pool never lent: a statement sent on its own (a resolver beside a row
# field, or a fetch inside a run that asks something else first) always finds one soon,
# instead of waiting for a connection a row field holds until the end of its run. A block
# that would go beyond the pool's size minus these sends its statements as before.
KEPT_FOR_SINGLE_STATEMENTS = 2
_lent_out: dict[AsyncpgDBClient, int] = {}


class OneConnection:
    """Statements of this block, sent one after another, on one pooled connection
    (PostgreSQL outside a transaction; otherwise the block changes nothing). A class, not a
    generator-based context manager: it is entered for every row-served field."""

    __slots__ = ("_client", "_holder", "_name", "_token")

    def __init__(self, connection_name: str = "default") -> None:
        self._name = connection_name
        self._client: AsyncpgDBClient | None = None
        self._holder: Any = None
        self._token: Token[Pinned | None] | None = None

    async def __aenter__(self) -> None:
        handler = tortoise_connections()
        client = handler.get(self._name)
        # Exactly the pool's client: a transaction's (a subclass) has its one connection already.
        if type(client) is not AsyncpgDBClient or _pinned.get() is not None:
            return
        lent = _lent_out.get(client, 0)
        if lent >= client.pool_maxsize - KEPT_FOR_SINGLE_STATEMENTS:
            return
        _lent_out[client] = lent + 1
        holder = client.acquire_connection()
        try:
            connection = await holder.__aenter__()
        except BaseException:
            _give_back(client)
            raise
        self._client, self._holder = client, holder
        self._token = _pinned.set(Pinned(client, connection, self._name, handler._storage_var))

    async def __aexit__(self, *exc_info: object) -> None:
        client, holder, token = self._client, self._holder, self._token
        if client is None or token is None:
            return
        self._client = self._holder = self._token = None
        _pinned.reset(token)
        try:
            await holder.__aexit__(*exc_info)
        finally:
            _give_back(client)


def _give_back(client: AsyncpgDBClient) -> None:
    left = _lent_out.pop(client, 1) - 1
    if left:
        _lent_out[client] = left


def one_connection(connection_name: str = "default") -> OneConnection:
    return OneConnection(connection_name)
