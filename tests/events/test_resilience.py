"""When Redis goes away and comes back, and when the server is asked to stop (SIGTERM).
Uses its own redis-server on a free port so the shared one is never disturbed."""

from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis import asyncio as aioredis

from exchange.events import InvitationEvent
from exchange.events.redis import RedisBus
from exchange.models import InvitationStatus
from tests.events.conftest import (
    SUBSCRIBE,
    Server,
    gql_http,
    make_exchange,
    make_invitation,
    make_org,
    server_env,
    start_servers,
    until_live,
    ws_client,
)
from tests.events.conftest import free_port as _free_port

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


class RedisProcess:
    def __init__(self, log_dir: Path) -> None:
        self.port = _free_port()
        self.log_dir = log_dir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=(self.log_dir / f"redis-{self.port}.log").open("ab"),
            stderr=subprocess.STDOUT,
        )

    async def ready(self) -> None:
        client = aioredis.Redis.from_url(self.url)
        try:
            for _ in range(100):
                try:
                    if await client.ping():
                        return
                except Exception:
                    await asyncio.sleep(0.05)
            raise RuntimeError("redis-server did not start")
        finally:
            await client.aclose()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def own_redis(log_dir: Path) -> Iterator[RedisProcess]:
    redis = RedisProcess(log_dir)
    redis.start()
    asyncio.run(redis.ready())
    yield redis
    redis.kill()


@pytest.fixture(scope="module")
def server_c(pg_url: str, channel: str, own_redis: RedisProcess, log_dir: Path) -> Iterator[Server]:
    server = Server(server_env(pg_url, channel, own_redis.url, EXCHANGE_REDIS_RECONNECT_MAX_SECONDS="0.5"))
    start_servers([server], log_dir)
    yield server
    server.terminate()


async def publish_via(url: str, channel: str, invitation: Any, organisers: frozenset[int]) -> None:
    bus = RedisBus(url, channel=channel, listen=False)
    try:
        await bus.publish(
            InvitationEvent(invitation.id, invitation.exchange_id, organisers, None, InvitationStatus.QUEUED)
        )
    finally:
        await bus.close()


async def test_redis_outage_errors_streams_keeps_queries_and_recovers(
    orm: Any, server_c: Server, own_redis: RedisProcess
) -> None:
    host = await make_org("host")
    exchange = await make_exchange(host)
    invitation = await make_invitation(exchange, host)
    async with (
        ws_client(server_c.ws, key=host.key) as client,
        ws_client(server_c.ws, "graphql-ws", host.key) as legacy,
    ):
        await client.subscribe("1")
        await legacy.subscribe("1")
        await until_live(server_c, 2)

        own_redis.kill()
        ended = await client.next_event("1")
        assert ended["errors"][0]["extensions"]["code"] == "EVENTS_UNAVAILABLE"
        assert (await client.receive())["type"] == "complete"
        ended = await legacy.next_event("1")
        assert ended["errors"][0]["extensions"]["code"] == "EVENTS_UNAVAILABLE"

        # Queries do not depend on the bus.
        answer = await gql_http(server_c.http, "{ organisations(first: 1) { totalCount } }")
        assert answer["data"]["organisations"]["totalCount"] >= 1
        # Subscribing while the bus is down is refused at once (no silent stream).
        await client.subscribe("2")
        refusal = await client.receive()
        assert (
            refusal["type"] == "error" and refusal["payload"][0]["extensions"]["code"] == "EVENTS_UNAVAILABLE"
        )

        own_redis.start()
        await own_redis.ready()
        await until_live(server_c, 0, bus="up")
        await client.subscribe("3")
        await until_live(server_c, 1)
        await publish_via(own_redis.url, orm.redis_channel, invitation, frozenset({host.id}))
        back = await client.next_event("3")
        assert back["data"]["invitationUpdates"]["status"] == "QUEUED"
    log = server_c.log()
    assert "Redis unavailable" in log and "reconnected to Redis" in log


async def test_sigterm_completes_open_streams_and_exits(orm: Any, server_c: Server) -> None:
    host = await make_org("host")
    await until_live(server_c, 0, bus="up")
    sse_headers = {"Authorization": f"Bearer {host.key}", "Accept": "text/event-stream"}
    async with (
        ws_client(server_c.ws, key=host.key) as client,
        ws_client(server_c.ws, "graphql-ws", host.key) as legacy,
        httpx.AsyncClient(base_url=server_c.http, timeout=15) as http,
        http.stream("POST", "/graphql", json={"query": SUBSCRIBE}, headers=sse_headers) as sse,
    ):
        await client.subscribe("1")
        await legacy.subscribe("1")
        await until_live(server_c, 3)
        assert server_c.process is not None
        server_c.process.send_signal(signal.SIGTERM)
        assert await client.receive() == {"id": "1", "type": "complete"}
        assert await legacy.receive() == {"id": "1", "type": "complete"}
        assert "event: complete" in (await sse.aread()).decode()
    # uvicorn re-raises the signal it handled once it has shut down cleanly.
    assert await asyncio.to_thread(server_c.process.wait, 15) == -signal.SIGTERM
    assert "Traceback" not in server_c.log() and "failed to stop" not in server_c.log()
