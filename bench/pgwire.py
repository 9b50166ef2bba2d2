"""A counting TCP proxy in front of PostgreSQL: it reads the frontend protocol messages a
client sends and counts the statements PostgreSQL is asked to run.

Counting at the wire cannot be fooled by any code path of the server under test (ORM,
raw driver calls, a loader that bypasses the ORM): whatever reaches PostgreSQL is seen.
A statement is one ``Execute`` message of the extended protocol (the SQL text comes from the
``Parse``/``Bind`` that named it) or one statement of a simple ``Query`` message.

Statements are put in three kinds:

* ``data``: SELECT/INSERT/UPDATE/DELETE/WITH/...: what the benchmark's targets are about;
* ``transaction``: BEGIN/COMMIT/ROLLBACK/SAVEPOINT/RELEASE;
* ``driver``: what the driver sends by itself: asyncpg's connection reset on every release to
  its pool (``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL;``), type
  introspection (with the ``set_config('jit', ...)`` around it), SET/SHOW.

The proxy answers SSLRequest/GSSENCRequest with "N" itself, so clients fall back to plain
text (which is the only way to read the messages) without any configuration.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import struct
from collections import Counter
from dataclasses import dataclass, field

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
CANCEL_REQUEST = 80877102

_TRANSACTION = re.compile(
    r"^\s*(BEGIN|START\s+TRANSACTION|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE|ABORT)\b", re.I
)
_DRIVER = re.compile(
    r"pg_advisory_unlock_all|^\s*(RESET|UNLISTEN|CLOSE\s+ALL|DISCARD|SET|SHOW|DEALLOCATE|PRAGMA)\b"
    r"|\bpg_catalog\.pg_type\b|\bFROM\s+pg_catalog\.|\bpg_type\b"
    # asyncpg turns JIT off around its type introspection (once per connection and new type).
    r"|\bset_config\(\s*'jit'",
    re.I,
)


def classify(sql: str) -> str:
    if _TRANSACTION.match(sql):
        return "transaction"
    if _DRIVER.search(sql):
        return "driver"
    return "data"


@dataclass
class StatementLog:
    """Statements seen since the last ``reset()``, in order."""

    statements: list[tuple[str, str]] = field(default_factory=list)  # (kind, sql)

    def add(self, sql: str) -> None:
        self.statements.append((classify(sql), sql))

    def reset(self) -> None:
        self.statements.clear()

    def counts(self) -> Counter[str]:
        return Counter(kind for kind, _ in self.statements)

    @property
    def data(self) -> int:
        return sum(1 for kind, _ in self.statements if kind == "data")

    def data_statements(self) -> list[str]:
        return [sql for kind, sql in self.statements if kind == "data"]


def _cstring(buf: bytes, start: int) -> tuple[str, int]:
    end = buf.index(b"\0", start)
    return buf[start:end].decode("utf-8", "replace"), end + 1


def _split_simple_query(sql: str) -> list[str]:
    """Statements of a simple-protocol Query; a reset query stays one driver statement."""
    if classify(sql) == "driver":
        return [sql]
    return [part for part in (piece.strip() for piece in sql.split(";")) if part]


class _ClientStream:
    """Parses one client's frontend messages; keeps that connection's prepared statements."""

    def __init__(self, log: StatementLog) -> None:
        self.log = log
        self.buffer = bytearray()
        self.started = False
        self.prepared: dict[str, str] = {}
        self.portals: dict[str, str] = {}

    def feed(self, data: bytes) -> bytes | None:
        """Consume bytes; returns a reply for the client instead of forwarding (SSL refusal)."""
        self.buffer += data
        reply = b""
        while True:
            if not self.started:
                if len(self.buffer) < 8:
                    break
                length, code = struct.unpack("!ii", self.buffer[:8])
                if len(self.buffer) < length:
                    break
                del self.buffer[:length]
                if code in (SSL_REQUEST, GSSENC_REQUEST):
                    reply += b"N"
                    continue
                self.started = True
                continue
            if len(self.buffer) < 5:
                break
            kind = bytes(self.buffer[0:1])
            (length,) = struct.unpack("!i", self.buffer[1:5])
            if len(self.buffer) < 1 + length:
                break
            body = bytes(self.buffer[5 : 1 + length])
            del self.buffer[: 1 + length]
            self._message(kind, body)
        return reply or None

    def _message(self, kind: bytes, body: bytes) -> None:
        if kind == b"Q":
            sql, _ = _cstring(body, 0)
            for statement in _split_simple_query(sql):
                self.log.add(statement)
        elif kind == b"P":
            name, pos = _cstring(body, 0)
            sql, _ = _cstring(body, pos)
            self.prepared[name] = sql
        elif kind == b"B":
            portal, pos = _cstring(body, 0)
            statement, _ = _cstring(body, pos)
            self.portals[portal] = self.prepared.get(statement, "<unknown prepared statement>")
        elif kind == b"E":
            portal, _ = _cstring(body, 0)
            self.log.add(self.portals.get(portal, "<unknown portal>"))
        elif kind == b"C":
            target = body[0:1]
            name, _ = _cstring(body, 1)
            (self.prepared if target == b"S" else self.portals).pop(name, None)


class CountingProxy:
    """``async with CountingProxy(host, port) as proxy``: listens on 127.0.0.1:``proxy.port``."""

    def __init__(self, upstream_host: str = "127.0.0.1", upstream_port: int = 5432) -> None:
        self.upstream_host = upstream_host
        self.upstream_port = upstream_port
        self.log = StatementLog()
        self.port = 0
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> CountingProxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    async def __aenter__(self) -> CountingProxy:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def url_for(self, database_url: str) -> str:
        """``database_url`` with host and port replaced by this proxy's."""
        from urllib.parse import urlparse, urlunparse

        parts = urlparse(database_url)
        userinfo = parts.netloc.rpartition("@")[0]
        netloc = f"{userinfo}@127.0.0.1:{self.port}" if userinfo else f"127.0.0.1:{self.port}"
        return urlunparse(parts._replace(netloc=netloc))

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(client_writer)
        server_writer: asyncio.StreamWriter | None = None
        try:
            server_reader, server_writer = await asyncio.open_connection(
                self.upstream_host, self.upstream_port
            )
            self._writers.add(server_writer)
            stream = _ClientStream(self.log)

            async def upstream() -> None:
                while data := await client_reader.read(65536):
                    reply = stream.feed(data)
                    if reply is not None:
                        # Only ever before start-up: nothing else is pending in this chunk.
                        client_writer.write(reply)
                        await client_writer.drain()
                        continue
                    server_writer.write(data)
                    await server_writer.drain()
                server_writer.close()

            async def downstream() -> None:
                while data := await server_reader.read(65536):
                    client_writer.write(data)
                    await client_writer.drain()
                client_writer.close()

            await asyncio.gather(upstream(), downstream())
        except (ConnectionError, asyncio.CancelledError, OSError):
            pass
        finally:
            client_writer.close()
            if server_writer is not None:
                server_writer.close()
                self._writers.discard(server_writer)
            self._writers.discard(client_writer)
            self._tasks.discard(task)
