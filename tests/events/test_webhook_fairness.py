"""One organisation's slow receivers must not stop another's webhooks (SQLite and
PostgreSQL): every attempt has one deadline for the whole request, however slowly the
receiver trickles its answer, and the worker's slots are shared between organisations
(each at most its share, free slots round-robin), on real receivers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exchange.events import AfterCommit, InvitationEvent
from exchange.models import DeliveryStatus, InvitationStatus, Organisation, WebhookDelivery, WebhookEndpoint
from exchange.settings import Settings
from exchange.webhooks.worker import WebhookWorker
from tests.conftest import make_organisation, make_settings
from tests.events.test_webhooks import receiver
from tests.webhooks import sealed_endpoint

DEADLINE = 1.0
DRIP_SECONDS = 0.5
SLACK = 2.0  # for a loaded machine: the bounds are about the deadline, not precise timing


@dataclass
class Connection:
    opened: float
    closed: float | None = None
    bytes_sent: int = 0


@dataclass
class Trickler:
    """Reads a request, then answers one byte every DRIP_SECONDS, forever: each byte keeps
    a per-read timeout happy. Notes when each connection opened and when the caller hung up."""

    connections: list[Connection] = field(default_factory=list)
    port: int = 0

    def url(self, path: str = "hook") -> str:
        return f"http://127.0.0.1:{self.port}/{path}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        connection = Connection(opened=loop.time())
        self.connections.append(connection)
        answer = b"HTTP/1.1 200 OK\r\nx-drip: "
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            await reader.readexactly(length)
            hung_up = asyncio.ensure_future(reader.read())  # b"" once the caller closes
            while not hung_up.done():
                writer.write(answer[connection.bytes_sent : connection.bytes_sent + 1] or b"a")
                connection.bytes_sent += 1
                await asyncio.wait([hung_up], timeout=DRIP_SECONDS)
            connection.closed = loop.time()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            connection.closed = loop.time()
        finally:
            writer.close()


@contextlib.asynccontextmanager
async def trickler() -> AsyncIterator[Trickler]:
    slow = Trickler()
    server = await asyncio.start_server(slow.handle, "127.0.0.1", 0)
    slow.port = server.sockets[0].getsockname()[1]
    try:
        yield slow
    finally:
        server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 2)


def worker_settings(database_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "webhook_timeout_seconds": DEADLINE,
        "webhook_poll_seconds": 0.05,
        # No retry within a test: each delivery is attempted once, which the checks count on.
        "webhook_retry_base_seconds": 600,
    }
    values.update(overrides)
    return make_settings(database_url, tmp_path, **values)


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[WebhookWorker]:
    worker = WebhookWorker(settings)
    await worker.start()
    try:
        yield worker
    finally:
        await worker.stop(0)


async def publish(organisation: Organisation, count: int = 1) -> list[InvitationEvent]:
    """Invitation events of an exchange the organisation hosts, recorded as the services do."""
    events = [
        InvitationEvent(n, 1, frozenset({organisation.id}), None, InvitationStatus.QUEUED)
        for n in range(count)
    ]
    after = AfterCommit()
    for event in events:
        after.add(event)
    await after.publish()
    return events


async def endpoint(organisation: Organisation, url: str) -> WebhookEndpoint:
    return (await sealed_endpoint(organisation.id, url))[0]


async def test_a_trickling_receiver_is_cut_off_at_the_deadline(
    app: Any, database_url: str, tmp_path: Path
) -> None:
    org = await make_organisation("slow-org")
    async with trickler() as slow, running(worker_settings(database_url, tmp_path)):
        await endpoint(org, slow.url())
        [event] = await publish(org)
        loop = asyncio.get_running_loop()
        give_up = loop.time() + DEADLINE + SLACK + 2
        while (row := await WebhookDelivery.get(event_id=event.event_id)).attempts == 0:
            assert loop.time() < give_up, "the attempt was not cut off at the deadline"
            await asyncio.sleep(0.05)

    # A failed attempt like any other: recorded with its reason, retried after the backoff.
    assert row.status is DeliveryStatus.PENDING and row.attempts == 1
    assert row.last_error == "timed out: no answer within 1 s"
    assert row.last_status_code is None and row.claimed_until is None
    assert row.next_attempt_at > dt.datetime.now(dt.UTC) + dt.timedelta(seconds=60)
    [connection] = slow.connections
    assert connection.closed is not None
    # Hung up by the deadline (not by a per-read timeout: the bytes kept coming meanwhile).
    assert connection.bytes_sent >= 2
    assert DEADLINE / 2 <= connection.closed - connection.opened <= DEADLINE + SLACK


async def test_a_tenants_slow_receivers_do_not_delay_another_tenant(
    app: Any, database_url: str, tmp_path: Path
) -> None:
    slow_org, healthy_org = await make_organisation("slow-org"), await make_organisation("healthy-org")
    settings = worker_settings(database_url, tmp_path)
    assert (settings.webhook_batch_size, settings.webhook_in_flight_per_organisation) == (20, 5)
    async with trickler() as slow, receiver() as healthy, running(settings):
        # The most endpoints an organisation may have, each with a queue: 80 deliveries, all
        # older than the healthy tenant's one. First come, first served would put it after
        # four rounds of deadlines.
        for n in range(20):
            await endpoint(slow_org, slow.url(f"hook/{n}"))
        await publish(slow_org, 4)
        await endpoint(healthy_org, f"http://127.0.0.1:{healthy.port}/hook")

        claimed_at_once: list[int] = []

        async def watch_slow_claims() -> None:
            while True:
                claimed_at_once.append(
                    await WebhookDelivery.filter(
                        endpoint__organisation_id=slow_org.id, claimed_until__isnull=False
                    ).count()
                )
                await asyncio.sleep(0.05)

        watcher = asyncio.create_task(watch_slow_claims())
        try:
            await asyncio.sleep(0.3)  # the slow tenant's deliveries are in flight
            loop = asyncio.get_running_loop()
            started = loop.time()
            [event] = await publish(healthy_org)
            try:
                [received] = await healthy.wait_for(1, within=2 * DEADLINE)
            except TimeoutError:
                raise AssertionError(
                    "the healthy tenant's delivery waited behind the slow tenant's"
                ) from None
            waited = loop.time() - started
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    assert received.headers["webhook-id"] == event.event_id
    assert waited < 2 * DEADLINE
    # The slow tenant was busy throughout, never with more than its share of the 20 slots.
    assert 1 <= max(claimed_at_once) <= 5
    assert len(slow.connections) >= 5


async def make_due(organisation: Organisation, count: int, minutes_ago: float) -> list[int]:
    hook = await endpoint(organisation, "http://127.0.0.1:9/hook")
    due = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes_ago)
    rows = [
        await WebhookDelivery.create(
            endpoint=hook,
            event_id=f"evt_{organisation.id}_{n}",
            event_type="invitation.status_changed",
            payload={},
            next_attempt_at=due + dt.timedelta(seconds=n),
        )
        for n in range(count)
    ]
    return [row.id for row in rows]


def by_organisation(rows: list[WebhookDelivery], owners: dict[int, str]) -> Counter[str]:
    return Counter(owners[row.id] for row in rows)


async def test_claims_take_turns_between_organisations_within_their_share(
    app: Any, database_url: str, tmp_path: Path
) -> None:
    """The claiming query itself: a long queue of one organisation does not push back the
    others' oldest rows, and no organisation gets more than its share."""
    big, small, late = [await make_organisation(slug) for slug in ("big", "small", "late")]
    owners = {pk: "big" for pk in await make_due(big, 30, minutes_ago=60)}
    owners |= {pk: "small" for pk in await make_due(small, 2, minutes_ago=10)}
    owners |= {pk: "late" for pk in await make_due(late, 1, minutes_ago=1)}

    narrow = WebhookWorker(worker_settings(database_url, tmp_path, webhook_batch_size=6))
    # Turn by turn: one each (oldest first), then the rest of the room to whoever has more.
    assert by_organisation(await narrow.claim(), owners) == {"big": 3, "small": 2, "late": 1}
    assert await narrow.claim() == []  # no room left

    wide = WebhookWorker(worker_settings(database_url, tmp_path))
    first = await wide.claim()
    # Of big's 27 unclaimed rows only its share; the narrow worker's claims are not retaken.
    assert by_organisation(first, owners) == {"big": 5}
    assert not {row.id for row in first} & set(narrow._organisation_of)
    assert await wide.claim() == []  # big is at its share; nobody else has due rows
    more_small = await make_due(small, 3, minutes_ago=1)
    second = await wide.claim()
    assert sorted(row.id for row in second) == sorted(more_small)


async def test_workers_racing_for_rows_claim_each_once(app: Any, database_url: str, tmp_path: Path) -> None:
    org = await make_organisation("busy")
    await make_due(org, 30, minutes_ago=5)
    workers = [WebhookWorker(worker_settings(database_url, tmp_path)) for _ in range(3)]
    claimed: list[list[WebhookDelivery]] = [[] for _ in workers]
    # Rounds of simultaneous claims until none takes anything: a worker that lost a race
    # takes the next rows in a later round.
    for _round in range(50):
        rounds = await asyncio.gather(*(worker.claim() for worker in workers))
        for mine, rows in zip(claimed, rounds, strict=True):
            mine.extend(rows)
        if not any(rounds):
            break
    ids = [row.id for rows in claimed for row in rows]
    assert len(ids) == len(set(ids)) == 15  # each worker its share of the one organisation
    assert [len(rows) for rows in claimed] == [5, 5, 5]
