"""A revoked key's open streams end at once, through the event bus: WebSocket subscriptions
(both protocols), server-sent events and multipart streams, on every server process.

The servers here check subscribed keys only every 10 minutes, so only the revocation event
can end the streams within the bounded waits below (a second after the revocation returned).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.events.conftest import (
    SUBSCRIBE,
    Org,
    Server,
    WSClient,
    admin_key,
    make_org,
    server_env,
    start_servers,
    until_live,
    ws_client,
)
from tests.services import REDIS_URL

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

ENDS_WITHIN = 1.0  # seconds after the revocation returned
NO_PERIODIC_CHECK = "600"
REVOKE = "mutation($id: String!) { revokeApiKey(keyId: $id) { revokedKeyId userErrors { code } } }"
SSE = "text/event-stream"
MULTIPART = 'multipart/mixed;subscriptionSpec="1.0",application/json'


@pytest.fixture(scope="module")
def redis_servers(pg_url: str, channel: str, log_dir: Path) -> Iterator[tuple[Server, Server]]:
    """Two processes sharing the database and Redis."""
    env = server_env(pg_url, channel, EXCHANGE_SUBSCRIPTION_KEY_CHECK_SECONDS=NO_PERIODIC_CHECK)
    servers = [Server(env), Server(env)]
    start_servers(servers, log_dir)
    yield servers[0], servers[1]
    for server in servers:
        server.terminate()


@pytest.fixture(scope="module")
def lone_server(pg_url: str, channel: str, log_dir: Path) -> Iterator[Server]:
    """One process without Redis: the in-process bus."""
    env = server_env(
        pg_url, channel, EXCHANGE_REDIS_URL="", EXCHANGE_SUBSCRIPTION_KEY_CHECK_SECONDS=NO_PERIODIC_CHECK
    )
    server = Server(env)
    start_servers([server], log_dir)
    yield server
    server.terminate()


class HTTPStream:
    """A subscription over an HTTP stream, read to its end in the background."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.text = ""
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for chunk in self.response.aiter_text():
            self.text += chunk

    async def ended(self, within: float) -> str:
        await asyncio.wait_for(asyncio.shield(self.reader), within)
        return self.text


@contextlib.asynccontextmanager
async def http_stream(server: Server, key: str, accept: str) -> AsyncIterator[HTTPStream]:
    headers = {"Authorization": f"Bearer {key}", "Accept": accept}
    async with (
        httpx.AsyncClient(base_url=server.http, timeout=30) as client,
        client.stream("POST", "/graphql", json={"query": SUBSCRIBE}, headers=headers) as response,
    ):
        assert response.status_code == 200, await response.aread()
        stream = HTTPStream(response)
        try:
            yield stream
        finally:
            stream.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                await stream.reader


async def ws_ended(client: WSClient, op_id: str) -> None:
    """The subscription's last result carries UNAUTHENTICATED, then it completes."""
    ended = await client.receive(within=ENDS_WITHIN)
    assert ended.get("id") == op_id and ended["type"] == ("data" if client.legacy else "next"), ended
    assert ended["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await client.receive(within=ENDS_WITHIN))["type"] == "complete"


def sse_ended(text: str) -> None:
    assert "event: complete" in text, text
    lines = [line.removeprefix("data:").strip() for line in text.splitlines() if line.startswith("data:")]
    data = [json.loads(line) for line in lines if line]
    assert data[-1]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", text


def multipart_ended(text: str) -> None:
    assert "UNAUTHENTICATED" in text and text.rstrip().endswith("--graphql--"), text


async def revoke_with_cli(pg_url: str, channel: str, key_id: str, redis_url: str = REDIS_URL) -> None:
    """`exchange apikey revoke` as an operator runs it: its own process, the servers' settings."""
    env = {
        **os.environ,
        "EXCHANGE_DATABASE_URL": pg_url,
        "EXCHANGE_REDIS_URL": redis_url,
        "EXCHANGE_REDIS_CHANNEL": channel,
    }
    command = Path(sys.executable).parent / "exchange"
    process = await asyncio.create_subprocess_exec(
        str(command),
        "apikey",
        "revoke",
        key_id,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, (out, err)
    assert f"Revoked {key_id}" in out.decode(), (out, err)


async def revoke_with_api(server: Server, admin: str, key_id: str) -> None:
    async with httpx.AsyncClient(base_url=server.http, timeout=10) as client:
        answer = await client.post(
            "/graphql",
            json={"query": REVOKE, "variables": {"id": key_id}},
            headers={"Authorization": f"Bearer {admin}"},
        )
    assert answer.json()["data"]["revokeApiKey"] == {"revokedKeyId": key_id, "userErrors": []}


async def streams_end_on_revocation(servers: list[Server], host: Org, revoke: Any) -> None:
    """Opens on each server a graphql-transport-ws, a graphql-ws, an SSE and a multipart
    subscription of the host's key (plus one of another key that must stay open), revokes
    the key, and waits a bounded time for each of the host's streams to end."""
    other = await make_org("other")
    async with contextlib.AsyncExitStack() as stack:
        opened: list[tuple[WSClient, WSClient, HTTPStream, HTTPStream]] = []
        for server in servers:
            modern = await stack.enter_async_context(ws_client(server.ws, "graphql-transport-ws", host.key))
            legacy = await stack.enter_async_context(ws_client(server.ws, "graphql-ws", host.key))
            await modern.subscribe("1")
            await legacy.subscribe("1")
            sse = await stack.enter_async_context(http_stream(server, host.key, SSE))
            parts = await stack.enter_async_context(http_stream(server, host.key, MULTIPART))
            opened.append((modern, legacy, sse, parts))
        bystander = await stack.enter_async_context(ws_client(servers[0].ws, key=other.key))
        await bystander.subscribe("1")
        await until_live(servers[0], 5)
        for server in servers[1:]:
            await until_live(server, 4)

        await revoke()

        for modern, legacy, sse, parts in opened:
            await ws_ended(modern, "1")
            await ws_ended(legacy, "1")
            sse_ended(await sse.ended(ENDS_WITHIN))
            multipart_ended(await parts.ended(ENDS_WITHIN))
        # Another key's subscription is untouched, and the revoked key cannot subscribe again.
        await until_live(servers[0], 1)
        async with ws_client(servers[-1].ws, init=False) as refused:
            await refused.send(
                {"type": "connection_init", "payload": {"Authorization": f"Bearer {host.key}"}}
            )
            with pytest.raises(ConnectionClosed) as closed:
                await refused.receive()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


async def test_cli_revocation_ends_streams_on_every_process(
    orm: Any, pg_url: str, channel: str, redis_servers: tuple[Server, Server]
) -> None:
    host = await make_org("host")
    await streams_end_on_revocation(
        list(redis_servers), host, lambda: revoke_with_cli(pg_url, channel, host.key_id)
    )


async def test_api_revocation_ends_streams_on_every_process(
    orm: Any, redis_servers: tuple[Server, Server]
) -> None:
    host, admin = await make_org("host"), await admin_key()
    a, b = redis_servers
    # Revoked through A: B hears it through Redis.
    await streams_end_on_revocation([a, b], host, lambda: revoke_with_api(a, admin, host.key_id))


async def test_api_revocation_ends_streams_with_the_in_process_bus(orm: Any, lone_server: Server) -> None:
    host, admin = await make_org("host"), await admin_key()
    await streams_end_on_revocation(
        [lone_server], host, lambda: revoke_with_api(lone_server, admin, host.key_id)
    )
