"""Fan-out benchmark: 1,000 WebSocket subscribers (graphql-transport-ws) spread over two
`uvicorn` server processes that share PostgreSQL and Redis; one invitation's status changes
in a third process (this one, publishing after commit like a service or the mail worker).

Reports, for each event: how many subscribers received it, first-event latency (publish ->
frame received by the client) median / p99 / max, and the servers' memory per subscriber
(RSS growth of both servers while the subscribers connected, divided by their number).

    python -m bench.fanout_bench [--subscribers 1000] [--servers 2]

Needs PostgreSQL (EXCHANGE_TEST_POSTGRES_URL, default postgres@127.0.0.1:5432) and Redis
(EXCHANGE_TEST_REDIS_URL, default 127.0.0.1:6379). Target: all receive it, p99 < 250 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.servers import free_port  # noqa: E402
from exchange import access, db, events  # noqa: E402
from exchange.events import InvitationEvent  # noqa: E402
from exchange.events.redis import RedisBus  # noqa: E402
from exchange.models import (  # noqa: E402
    ApiKeyRole,
    Exchange,
    ExchangeStatus,
    Invitation,
    InvitationStatus,
    Organisation,
    OrganisationKind,
    Theme,
)
from exchange.settings import Settings  # noqa: E402

POSTGRES_URL = os.environ.get("EXCHANGE_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("EXCHANGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

SUBSCRIBE = "subscription { invitationUpdates { previousStatus status at invitation { id email status } } }"


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def database_url(name: str) -> str:
    base, _, _ = POSTGRES_URL.rpartition("/")
    return f"{base}/{name}"


async def create_database(name: str) -> str:
    conn = await asyncpg.connect(POSTGRES_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = database_url(name)
    await db.init_db(Settings(_env_file=None, database_url=url), global_fallback=True)  # type: ignore[call-arg]
    await db.migrate()
    return url


async def drop_database(name: str) -> None:
    conn = await asyncpg.connect(POSTGRES_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def start_server(url: str, channel: str, log_dir: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {
        **os.environ,
        "EXCHANGE_DATABASE_URL": url,
        "EXCHANGE_REDIS_URL": REDIS_URL,
        "EXCHANGE_REDIS_CHANNEL": channel,
        "EXCHANGE_RUN_MAIL_DISPATCHER": "false",
        "EXCHANGE_RUN_WEBHOOK_WORKER": "false",
        "EXCHANGE_MAIL_DIR": str(log_dir / "mail"),
        "EXCHANGE_RATE_LIMIT_POINTS": "100000000",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "exchange.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
        stdout=(log_dir / f"server-{port}.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    return process, port


async def healthz(port: int) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=5) as client:
        result: dict[str, Any] = (await client.get(f"http://127.0.0.1:{port}/healthz")).json()
        return result


async def wait_for(port: int, subscriptions: int | None = None, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            live = (await healthz(port))["live"]
            if live["bus"] == "up" and (subscriptions is None or live["subscriptions"] >= subscriptions):
                return
        except (httpx.HTTPError, KeyError):
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"server on {port} not ready ({subscriptions} subscriptions)")


async def subscriber(port: int, key: str, compression: bool) -> ClientConnection:
    # Browsers negotiate permessage-deflate; --no-compression shows what it costs.
    sock = await connect(
        f"ws://127.0.0.1:{port}/graphql",
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        open_timeout=30,
        max_queue=64,
        compression="deflate" if compression else None,
    )
    await sock.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}}))
    ack = json.loads(await sock.recv())
    assert ack["type"] == "connection_ack", ack
    await sock.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
    return sock


async def receive_one(sock: ClientConnection, expect: str, received: list[float]) -> None:
    while True:
        message = json.loads(await sock.recv())
        if message.get("type") == "next":
            if message["payload"]["data"]["invitationUpdates"]["status"] == expect:
                received.append(time.perf_counter())
                return
        elif message.get("type") in ("error", "complete"):
            raise RuntimeError(f"stream ended: {message}")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


async def measure(
    name: str,
    sockets: list[ClientConnection],
    bus: RedisBus,
    event: InvitationEvent,
    within: float,
) -> dict[str, Any]:
    received: list[float] = []
    waiters = [asyncio.create_task(receive_one(sock, event.status.value, received)) for sock in sockets]
    await asyncio.sleep(0.2)  # every reader is waiting before the event leaves
    await Invitation.filter(id=event.invitation_id).update(status=event.status)
    start = time.perf_counter()
    await bus.publish(event)
    _done, pending = await asyncio.wait(waiters, timeout=within)
    for task in pending:
        task.cancel()
    latencies = [(moment - start) * 1000 for moment in received]
    result = {
        "event": name,
        "received": len(received),
        "of": len(sockets),
        "median_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 0.99), 1) if latencies else None,
        "max_ms": round(max(latencies), 1) if latencies else None,
    }
    return result


async def run(subscribers: int, servers: int, rounds: int = 5, compression: bool = True) -> int:
    name = f"exchange_fanout_bench_{os.getpid()}"
    channel = f"exchange-bench:{uuid.uuid4().hex}"
    log_dir = Path(tempfile.mkdtemp(prefix="fanout-bench-"))
    load_at_start = os.getloadavg()[0]
    url = await create_database(name)
    processes: list[subprocess.Popen[bytes]] = []
    sockets: list[ClientConnection] = []
    bus = RedisBus(REDIS_URL, channel=channel, listen=False)
    events.set_bus(bus)
    try:
        host = await Organisation.create(slug="bench-host", names={"en": "Bench"}, kind=OrganisationKind.NGO)
        key = (await access.issue_key(ApiKeyRole.ORGANISATION, host)).secret
        exchange = await Exchange.create(
            slug="bench-week",
            titles={"en": "Bench week"},
            theme=Theme.ECOLOGY,
            status=ExchangeStatus.OPEN,
            host=host,
            country="KZ",
            starts_on=dt.date(2027, 5, 10),
            ends_on=dt.date(2027, 5, 16),
            time_zone="Asia/Almaty",
        )
        invitation = await Invitation.create(
            exchange=exchange,
            invited_by=host,
            email="a@example.com",
            email_normalised="a@example.com",
            full_name="A",
            country="KZ",
            locale="kk",
            token_nonce=uuid.uuid4().hex,
            token_hash=uuid.uuid4().hex,
            expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=30),
        )
        ports = []
        for _ in range(servers):
            process, port = start_server(url, channel, log_dir)
            processes.append(process)
            ports.append(port)
        for port in ports:
            await wait_for(port)
        await asyncio.sleep(1.0)  # let start-up allocations settle before the baseline
        rss_before = [rss_kib(p.pid) for p in processes]

        opened = time.perf_counter()
        per_server = [
            subscribers // servers + (1 if i < subscribers % servers else 0) for i in range(servers)
        ]
        for port, count in zip(ports, per_server, strict=True):
            for start in range(0, count, 50):
                batch = min(50, count - start)
                sockets.extend(
                    await asyncio.gather(*(subscriber(port, key, compression) for _ in range(batch)))
                )
        for port, count in zip(ports, per_server, strict=True):
            await wait_for(port, count)
        connect_seconds = time.perf_counter() - opened
        await asyncio.sleep(1.0)
        rss_after = [rss_kib(p.pid) for p in processes]
        per_subscriber_kib = (sum(rss_after) - sum(rss_before)) / subscribers

        organisers = frozenset({host.id})
        results = [
            # A status change whose predecessor these servers never heard (it happened before
            # they started): it waits out the ordering window (event_order_window_seconds).
            await measure(
                "SENT->ACCEPTED, predecessor unseen (waits the ordering window)",
                sockets,
                bus,
                InvitationEvent(
                    invitation.id, exchange.id, organisers, InvitationStatus.SENT, InvitationStatus.ACCEPTED
                ),
                within=10,
            ),
        ]
        for round_number in range(rounds):
            second = await Invitation.create(
                exchange=exchange,
                invited_by=host,
                email=f"b{round_number}@example.com",
                email_normalised=f"b{round_number}@example.com",
                full_name="B",
                country="KZ",
                locale="kk",
                token_nonce=uuid.uuid4().hex,
                token_hash=uuid.uuid4().hex,
                expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=30),
            )
            results.append(
                await measure(
                    "new invitation (QUEUED)",
                    sockets,
                    bus,
                    InvitationEvent(second.id, exchange.id, organisers, None, InvitationStatus.QUEUED),
                    within=10,
                )
            )
            results.append(
                await measure(
                    "QUEUED->SENT, predecessor heard (the live case)",
                    sockets,
                    bus,
                    InvitationEvent(
                        second.id, exchange.id, organisers, InvitationStatus.QUEUED, InvitationStatus.SENT
                    ),
                    within=10,
                )
            )

        print(
            f"fan-out benchmark: {subscribers} subscribers over {servers} server processes, Redis pub/sub, "
            f"permessage-deflate {'on' if compression else 'off'}"
        )
        print(f"  load average (1 min) at the start: {load_at_start:.1f} on {os.cpu_count()} cores")
        print(f"  connect + subscribe all: {connect_seconds:.1f} s")
        print(
            f"  server RSS before/after: {[r // 1024 for r in rss_before]} -> {[r // 1024 for r in rss_after]} MiB;"
            f" per subscriber: {per_subscriber_kib:.1f} KiB"
        )
        ok = True
        for result in results:
            print(
                f"  {result['event']}: received {result['received']}/{result['of']}, "
                f"median {result['median_ms']} ms, p99 {result['p99_ms']} ms, max {result['max_ms']} ms"
            )
            ok = ok and result["received"] == result["of"]
        live = sorted(r["p99_ms"] for r in results if r["event"].startswith("QUEUED->SENT") and r["p99_ms"])
        typical = live[len(live) // 2] if live else None
        met = ok and typical is not None and typical < 250
        print(
            f"  live case p99 over {len(live)} round(s): min {live[0] if live else None} ms, "
            f"median {typical} ms, max {live[-1] if live else None} ms"
        )
        print(f"  load average (1 min) at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"  target (all receive; median round's p99 < 250 ms): {'met' if met else 'NOT met'}")
        print(
            json.dumps(
                {
                    "subscribers": subscribers,
                    "servers": servers,
                    "per_subscriber_kib": per_subscriber_kib,
                    "results": results,
                }
            )
        )
        return 0 if met else 1
    finally:
        for sock in sockets:
            try:
                await asyncio.wait_for(sock.close(), 1)
            except (TimeoutError, OSError):
                pass
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        events.set_bus(None)
        await bus.close()
        await db.close_db()
        await drop_database(name)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument(
        "--rounds", type=int, default=5, help="repeat the new-invitation and live-case events"
    )
    parser.add_argument(
        "--no-compression", action="store_true", help="clients do not offer permessage-deflate"
    )
    args = parser.parse_args()
    raise SystemExit(asyncio.run(run(args.subscribers, args.servers, args.rounds, not args.no_compression)))


if __name__ == "__main__":
    main()
