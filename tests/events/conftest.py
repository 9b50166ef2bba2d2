"""Real processes for live updates: uvicorn servers sharing one PostgreSQL database (made for
this module) and Redis, WebSocket clients, and helpers to make rows and publish events.

The test process itself is "another process": it writes rows with the models and publishes
through Redis exactly as a server or the mail worker would.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from bench.servers import free_port
from exchange import access, db, events
from exchange.events import AfterCommit, InvitationEvent
from exchange.events.redis import RedisBus
from exchange.models import (
    ApiKeyRole,
    Exchange,
    ExchangeStatus,
    Invitation,
    InvitationStatus,
    Organisation,
    OrganisationKind,
    Theme,
)
from exchange.settings import Settings
from tests import databases
from tests.services import POSTGRES_URL, REDIS_URL, need_postgres, need_redis

ROOT = Path(__file__).resolve().parents[2]

SUBSCRIBE = """
subscription($exchangeId: ID, $organisationId: ID) {
  invitationUpdates(exchangeId: $exchangeId, organisationId: $organisationId) {
    previousStatus status at
    invitation { id email status exchange { slug } }
  }
}
"""


# ------------------------------------------------------------------ database


@contextlib.contextmanager
def fresh_postgres_database(prefix: str) -> Iterator[str]:
    """A migrated PostgreSQL database of its own, dropped afterwards: servers in other
    processes share it, so it cannot be the test process's per-test one."""
    need_postgres()
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    asyncio.run(databases._pg_create(name))
    url = databases._with_database(POSTGRES_URL, name)
    asyncio.run(databases._migrate(url))
    try:
        yield url
    finally:
        asyncio.run(_drop_database(name))


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    with fresh_postgres_database("exchange_events") as url:
        yield url


async def _drop_database(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(POSTGRES_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def channel() -> str:
    need_redis()
    return f"exchange-test:{uuid.uuid4().hex}"


def test_settings(pg_url: str, channel: str, redis_url: str = REDIS_URL, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": pg_url,
        "redis_url": redis_url,
        "redis_channel": channel,
        "run_mail_dispatcher": False,
        "run_webhook_worker": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
async def orm(pg_url: str, channel: str) -> AsyncIterator[Settings]:
    """The models, in this test's event loop, on the module's database; and a publish-only
    Redis bus, so events published here travel like another process's."""
    settings = test_settings(pg_url, channel)
    await db.init_db(settings)
    bus = RedisBus(REDIS_URL, channel=channel, listen=False)
    events.set_bus(bus)
    try:
        yield settings
    finally:
        events.set_bus(None)
        await bus.close()
        await db.close_db()


# ------------------------------------------------------------------ servers


@dataclass
class Server:
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    # Start it as deployed, `exchange serve --port N` (tests/clients), not uvicorn directly.
    cli: bool = False

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    def spawn(self, log_dir: Path) -> None:
        self.log_path = log_dir / f"server-{self.port}-{time.monotonic_ns()}.log"
        env = {**os.environ, **self.env}
        command = (
            [sys.executable, "-m", "exchange.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
            if self.cli
            else [
                sys.executable,
                "-m",
                "uvicorn",
                "exchange.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ]
        )
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=self.log_path.open("wb"),
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log()}")
            try:
                if httpx.get(self.http + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not start: {self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path else ""

    def terminate(self, timeout: float = 15.0) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def server_env(pg_url: str, channel: str, redis_url: str = REDIS_URL, **extra: str) -> dict[str, str]:
    env = {
        "EXCHANGE_MODE": "development",
        "EXCHANGE_DATABASE_URL": pg_url,
        "EXCHANGE_REDIS_URL": redis_url,
        "EXCHANGE_REDIS_CHANNEL": channel,
        "EXCHANGE_RUN_MAIL_DISPATCHER": "false",
        "EXCHANGE_RUN_WEBHOOK_WORKER": "false",
        "EXCHANGE_SUBSCRIPTION_KEY_CHECK_SECONDS": "0.5",
        "EXCHANGE_SHUTDOWN_DRAIN_SECONDS": "3",
        "EXCHANGE_RATE_LIMIT_POINTS": "100000000",
        "EXCHANGE_MAIL_DIR": "/tmp/exchange-events-mail",
        "EXCHANGE_PUBLIC_URL": "https://exchange.test",
    }
    env.update(extra)
    return env


def start_servers(servers: list[Server], log_dir: Path) -> None:
    for server in servers:
        server.spawn(log_dir)
    for server in servers:
        server.wait_ready()


@pytest.fixture(scope="module")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("servers")


@pytest.fixture(scope="module")
def two_servers(pg_url: str, channel: str, log_dir: Path) -> Iterator[tuple[Server, Server]]:
    """A and B share the database and the Redis channel."""
    a = Server(server_env(pg_url, channel, EXCHANGE_WEBSOCKET_INIT_TIMEOUT_SECONDS="1"))
    b = Server(
        server_env(pg_url, channel, EXCHANGE_SUBSCRIBER_QUEUE_SIZE="2", EXCHANGE_SUBSCRIPTIONS_PER_KEY="3")
    )
    start_servers([a, b], log_dir)
    yield a, b
    for server in (a, b):
        server.terminate()


# ------------------------------------------------------------------ rows


@dataclass
class Org:
    organisation: Organisation
    key: str
    key_id: str

    @property
    def id(self) -> int:
        return self.organisation.id


async def make_org(prefix: str = "org", role: ApiKeyRole = ApiKeyRole.ORGANISATION) -> Org:
    organisation = await Organisation.create(
        slug=f"{prefix}-{uuid.uuid4().hex[:8]}", names={"en": prefix}, kind=OrganisationKind.NGO, country="KZ"
    )
    issued = await access.issue_key(role, organisation)
    return Org(organisation, issued.secret, issued.public_id)


async def admin_key() -> str:
    return (await access.issue_key(ApiKeyRole.ADMIN, None)).secret


async def make_exchange(host: Org, *partners: Org) -> Exchange:
    exchange = await Exchange.create(
        slug=f"ex-{uuid.uuid4().hex[:8]}",
        titles={"en": "Aral Sea Week"},
        theme=Theme.ECOLOGY,
        status=ExchangeStatus.OPEN,
        host=host.organisation,
        country="KZ",
        starts_on=dt.date(2027, 5, 10),
        ends_on=dt.date(2027, 5, 16),
        time_zone="Asia/Qyzylorda",
    )
    for partner in partners:
        await exchange.partners.add(partner.organisation)
    return exchange


async def make_invitation(exchange: Exchange, host: Org) -> Invitation:
    token = uuid.uuid4().hex
    return await Invitation.create(
        exchange=exchange,
        invited_by=host.organisation,
        email=f"{token[:6]}@example.com",
        email_normalised=f"{token[:6]}@example.com",
        full_name="Aigerim",
        country="KZ",
        locale="kk",
        token_nonce=token,
        token_hash=uuid.uuid4().hex,
        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=30),
    )


async def organisers(exchange: Exchange) -> frozenset[int]:
    partners: list[Any] = await exchange.partners.all().values_list("id", flat=True)
    host_id: int = exchange.host_id  # type: ignore[attr-defined]
    return frozenset({host_id, *(int(pk) for pk in partners)})


async def change(
    invitation: Invitation,
    previous: InvitationStatus | None,
    status: InvitationStatus,
) -> InvitationEvent:
    """A committed status change, published the way services do (AfterCommit)."""
    await Invitation.filter(id=invitation.id).update(status=status)
    exchange = await Exchange.get(id=invitation.exchange_id)  # type: ignore[attr-defined]
    event = InvitationEvent(
        invitation_id=invitation.id,
        exchange_id=exchange.id,
        organiser_ids=await organisers(exchange),
        previous_status=previous,
        status=status,
    )
    after = AfterCommit()
    after.add(event)
    await after.publish()
    return event


# ------------------------------------------------------------------ WebSocket clients


class WSClient:
    """graphql-transport-ws or graphql-ws, spoken by hand so tests see every frame."""

    def __init__(self, socket: ClientConnection, protocol: str) -> None:
        self.socket = socket
        self.protocol = protocol

    @property
    def legacy(self) -> bool:
        return self.protocol == "graphql-ws"

    async def send(self, message: dict[str, Any]) -> None:
        await self.socket.send(json.dumps(message))

    async def receive(self, within: float = 10.0) -> dict[str, Any]:
        while True:
            raw = await asyncio.wait_for(self.socket.recv(), within)
            # Every protocol message is a text frame: JavaScript clients reject binary ones.
            assert isinstance(raw, str), f"binary WebSocket frame: {raw!r}"
            message: dict[str, Any] = json.loads(raw)
            if message.get("type") not in ("ka", "ping", "pong"):
                return message

    async def init(self, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        await self.send({"type": "connection_init", "payload": payload or {}})
        return await self.receive()

    async def subscribe(
        self, op_id: str, query: str = SUBSCRIBE, variables: dict[str, Any] | None = None
    ) -> None:
        await self.send(
            {
                "id": op_id,
                "type": "start" if self.legacy else "subscribe",
                "payload": {"query": query, "variables": variables or {}},
            }
        )

    async def next_event(self, op_id: str, within: float = 10.0) -> dict[str, Any]:
        message = await self.receive(within)
        assert message.get("id") == op_id, message
        assert message["type"] == ("data" if self.legacy else "next"), message
        payload: dict[str, Any] = message["payload"]
        return payload


@contextlib.asynccontextmanager
async def ws_client(
    url: str,
    protocol: str = "graphql-transport-ws",
    key: str | None = None,
    headers: dict[str, str] | None = None,
    init: bool = True,
) -> AsyncIterator[WSClient]:
    async with connect(
        url, subprotocols=[protocol], additional_headers=headers or {}, open_timeout=10
    ) as sock:  # type: ignore[list-item]
        client = WSClient(sock, protocol)
        if init:
            ack = await client.init({"Authorization": f"Bearer {key}"} if key else {})
            assert ack["type"] == "connection_ack", ack
        yield client


async def live(server: Server) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=5) as client:
        status: dict[str, Any] = (await client.get(server.http + "/healthz")).json()["live"]
    return status


async def until_live(
    server: Server, subscriptions: int | None = None, bus: str = "up", within: float = 15.0
) -> None:
    """Waits until the server reports this many live subscriptions (and the bus state):
    how a test knows its subscriptions are registered before it publishes."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        status = await live(server)
        if status["bus"] == bus and (subscriptions is None or status["subscriptions"] == subscriptions):
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(
                f"server {server.port} never reached {subscriptions} subscriptions/{bus}: {status}"
            )
        await asyncio.sleep(0.05)


async def gql_http(
    url: str, query: str, variables: dict[str, Any] | None = None, key: str | None = None
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(
            url + "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
    result: dict[str, Any] = response.json()
    return result
