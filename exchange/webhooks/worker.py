"""The webhook delivery worker: claims due WebhookDelivery rows with a lease, POSTs them
signed, and records the outcome; failures are retried with exponential backoff until
``webhook_max_attempts``. Any number of processes may run it: a row is claimed by one
compare-and-set update, and a crashed worker's rows come back when their lease runs out.

One organisation's receivers must not hold up another's: each attempt has one deadline for
the whole request (``webhook_timeout_seconds``), and of the ``webhook_batch_size`` slots of a
process an organisation holds at most ``webhook_in_flight_per_organisation``; free slots go
round-robin, to the organisation with the fewest deliveries in flight first, however long
another's queue is.

At-least-once: a receiver may see an event twice (a crash after its 2xx, before we wrote it
down); ``webhook-id`` is the event id, the same on every attempt, for deduplication.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import orjson
from tortoise.expressions import Q

from exchange.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from exchange.sealed import Unsealable
from exchange.settings import Settings
from exchange.sql import Statement
from exchange.webhooks import signing
from exchange.webhooks.safety import UnsafeUrl, resolve

log = logging.getLogger("exchange.webhooks")

# The delivery log's words for an endpoint whose stored secret no key of the server opens;
# the organisation reads them (webhookDeliveries), the operator the log line with the reason.
CANNOT_SIGN = (
    "signing secret unreadable on the server: rotate the endpoint's secret (rotateWebhookSecret) "
    "to resume deliveries"
)

_wakeups: set[asyncio.Event] = set()


def notify() -> None:
    """New rows were written in this process: workers here look now rather than at their
    next poll."""
    for event in _wakeups:
        event.set()


def backoff(settings: Settings, attempts: int) -> float:
    delay = min(
        settings.webhook_retry_base_seconds * 2 ** max(attempts - 1, 0), settings.webhook_retry_max_seconds
    )
    return delay * random.uniform(0.8, 1.2)


class WebhookWorker:
    def __init__(self, settings: Settings, name: str | None = None) -> None:
        self.settings = settings
        self._sealer = signing.sealer(settings)
        self.name = name or f"{socket.gethostname()}:{id(self):x}"
        self._wake = asyncio.Event()
        self._stopping = False
        self._inflight: dict[int, asyncio.Task[None]] = {}
        # Claimed deliveries (from the claim until their outcome is written) by organisation.
        self._organisation_of: dict[int, int] = {}
        self._busy: Counter[int] = Counter()
        self._client: httpx.AsyncClient | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def slots(self) -> int:
        return max(1, self.settings.webhook_batch_size)

    @property
    def organisation_share(self) -> int:
        return max(1, min(self.settings.webhook_in_flight_per_organisation, self.slots))

    @property
    def deadline(self) -> float:
        return self.settings.webhook_timeout_seconds

    async def start(self) -> None:
        self._client = httpx.AsyncClient(timeout=self.deadline, follow_redirects=False, trust_env=False)
        _wakeups.add(self._wake)
        self._task = asyncio.create_task(self._run(), name="webhook-worker")

    async def _run(self) -> None:
        while not self._stopping:
            # Cleared before claiming, so a slot freed or a row written meanwhile is not missed.
            self._wake.clear()
            try:
                claimed = await self.claim()
            except Exception:
                log.exception("webhook worker: could not claim deliveries")
                claimed = []
            for row in claimed:
                task = asyncio.create_task(self._deliver_guarded(row))
                self._inflight[row.id] = task
                task.add_done_callback(self._forget(row.id))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.webhook_poll_seconds)

    def _forget(self, pk: int) -> Callable[[asyncio.Task[None]], None]:
        def forget(_task: asyncio.Task[None]) -> None:
            self._inflight.pop(pk, None)
            self._release(pk)
            # A slot is free: waiting rows (another organisation's, perhaps) go now, not at
            # the next poll.
            self._wake.set()

        return forget

    def _release(self, pk: int) -> None:
        organisation = self._organisation_of.pop(pk, None)
        if organisation is not None:
            self._busy[organisation] -= 1
            if self._busy[organisation] <= 0:
                del self._busy[organisation]

    async def claim(self) -> list[WebhookDelivery]:
        """Due rows for the free slots, round-robin between organisations: each
        organisation's due rows are numbered oldest first (its turn), and a row's place is
        its turn plus what the organisation has in flight here, so a tenant's backlog of
        thousands waits behind the next row of every other tenant and never exceeds its
        share. Then each row is taken by a compare-and-set on its lease, so of several
        workers (processes) exactly one wins it; rows lost to another are skipped for the
        next candidates."""
        room = self.slots - len(self._organisation_of)
        if room <= 0:
            return []
        now = datetime.now(UTC)
        candidates = await self._candidates(now, room)
        lease = now + timedelta(seconds=self.settings.webhook_lease_seconds)
        busy = Counter(self._busy)
        won: dict[int, int] = {}
        lost = False
        for pk, organisation in candidates:
            if len(won) >= room:
                break
            if busy[organisation] >= self.organisation_share:
                continue
            taken = (
                await WebhookDelivery.filter(id=pk, status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
                .filter(Q(claimed_until=None) | Q(claimed_until__lt=now))
                .update(claimed_until=lease)
            )
            if taken:
                won[pk] = organisation
                busy[organisation] += 1
            else:
                lost = True
        if not won:
            if lost:
                self._wake.set()  # another worker took these; there may be more behind them
            return []
        rows = await WebhookDelivery.filter(id__in=list(won)).order_by("next_attempt_at", "id")
        for row in rows:
            self._organisation_of[row.id] = won[row.id]
            self._busy[won[row.id]] += 1
        if lost and len(rows) < room:
            self._wake.set()
        return list(rows)

    async def _candidates(self, now: datetime, room: int) -> list[tuple[int, int]]:
        """(delivery id, organisation id) in claiming order; hand-written SQL because the
        ORM has no window functions. Both databases; the literal 'PENDING' lets PostgreSQL
        use the partial index of migration 0007 in a prepared statement."""
        statement = Statement()
        at = statement.param(now)
        # Our own rows are leased anyway; this also covers a lease shorter than the deadline.
        mine = (
            f" AND NOT {statement.is_in('d.id', list(self._organisation_of))}"
            if self._organisation_of
            else ""
        )
        if self._busy:
            cases = " ".join(
                f"WHEN {statement.param(organisation)} THEN {statement.param(count)}"
                for organisation, count in self._busy.items()
            )
            in_flight = f"(CASE r.organisation_id {cases} ELSE 0 END)"
        else:
            in_flight = "0"
        # Only placeholders are formatted in; every value is a parameter.
        rows = await statement.fetch(
            "SELECT r.id, r.organisation_id FROM ("  # noqa: S608
            " SELECT d.id AS id, e.organisation_id AS organisation_id, d.next_attempt_at AS due,"
            "  ROW_NUMBER() OVER (PARTITION BY e.organisation_id ORDER BY d.next_attempt_at, d.id) AS turn"
            " FROM webhook_delivery d JOIN webhook_endpoint e ON e.id = d.endpoint_id"
            f" WHERE d.status = 'PENDING' AND d.next_attempt_at <= {at}"
            f"  AND (d.claimed_until IS NULL OR d.claimed_until < {at}){mine}"
            ") r"
            f" WHERE r.turn + {in_flight} <= {statement.param(self.organisation_share)}"
            f" ORDER BY r.turn + {in_flight}, r.due, r.id"
            # Twice the room: rows another worker wins meanwhile leave enough to fill it.
            f" LIMIT {statement.param(2 * room)}"
        )
        return [(int(row["id"]), int(row["organisation_id"])) for row in rows]

    async def _deliver_guarded(self, row: WebhookDelivery) -> None:
        try:
            await self.deliver(row)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("webhook worker: delivery %s failed unexpectedly", row.id)
            await self._record(row, None, "internal error")

    async def deliver(self, row: WebhookDelivery) -> None:
        endpoint = await WebhookEndpoint.get_or_none(id=row.endpoint_id)
        if endpoint is None or endpoint.disabled_at is not None:
            await WebhookDelivery.filter(id=row.id).update(
                status=DeliveryStatus.FAILED, last_error="endpoint removed", claimed_until=None
            )
            return
        try:
            secret = signing.unseal_secret(self._sealer, endpoint.id, endpoint.sealed_secret)
        except Unsealable as error:
            # A failed attempt like any other (retried with back-off, then given up), not an
            # exception: listing the old key in EXCHANGE_PREVIOUS_SECRET_KEYS, or a rotated
            # secret, lets the retries through. The error never carries the value.
            log.warning(
                "webhook endpoint %s: its signing secret cannot be unsealed (%s); its deliveries fail "
                "until the organisation rotates the secret",
                endpoint.id,
                error,
            )
            await self._record(row, None, CANNOT_SIGN)
            return
        body = orjson.dumps(row.payload)
        headers = signing.headers(secret, row.event_id, int(time.time()), body)
        headers["user-agent"] = "volunteer-exchange-webhooks/1"
        try:
            # One deadline for the whole attempt: httpx's timeout applies to each read, so a
            # receiver trickling a byte a second would otherwise hold the slot forever.
            async with asyncio.timeout(self.deadline):
                status_code = await self._post(endpoint.url, headers, body)
        except TimeoutError:
            await self._record(row, None, f"timed out: no answer within {self.deadline:g} s")
            return
        except UnsafeUrl as error:
            await self._record(row, None, str(error))
            return
        except httpx.HTTPError as error:
            await self._record(row, None, f"{type(error).__name__}: {error}"[:500])
            return
        error_text = None if 200 <= status_code < 300 else f"HTTP {status_code}"
        await self._record(row, status_code, error_text)

    async def _post(self, url: str, headers: dict[str, str], body: bytes) -> int:
        assert self._client is not None
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = await resolve(host, port, self.settings.is_production)
        # Connect to the address that passed the check, not to whatever the name says later.
        literal = f"[{address}]" if ":" in address else address
        target = urlunsplit(parts._replace(netloc=f"{literal}:{port}"))
        headers = {**headers, "host": parts.netloc}
        extensions: dict[str, Any] = {"sni_hostname": host} if parts.scheme == "https" else {}
        # Streamed and left unread: the status is the whole answer, so a receiver cannot make
        # us read an endless body; leaving the block closes the connection.
        async with self._client.stream(
            "POST", target, content=body, headers=headers, extensions=extensions
        ) as response:
            return response.status_code

    async def _record(self, row: WebhookDelivery, status_code: int | None, error: str | None) -> None:
        attempts = row.attempts + 1
        now = datetime.now(UTC)
        if error is None:
            await WebhookDelivery.filter(id=row.id).update(
                status=DeliveryStatus.DELIVERED,
                attempts=attempts,
                last_status_code=status_code,
                last_error=None,
                delivered_at=now,
                claimed_until=None,
            )
            return
        given_up = attempts >= self.settings.webhook_max_attempts
        await WebhookDelivery.filter(id=row.id).update(
            status=DeliveryStatus.FAILED if given_up else DeliveryStatus.PENDING,
            attempts=attempts,
            last_status_code=status_code,
            last_error=error,
            next_attempt_at=now + timedelta(seconds=backoff(self.settings, attempts)),
            claimed_until=None,
        )
        log.info("webhook %s to endpoint %s: %s (attempt %d)", row.event_id, row.endpoint_id, error, attempts)

    async def stop(self, grace: float) -> None:
        """Stop claiming; let deliveries in flight finish for ``grace`` seconds, then cancel
        them and hand their rows back (PENDING, lease cleared) for the next worker."""
        self._stopping = True
        self._wake.set()
        _wakeups.discard(self._wake)
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        pending = list(self._inflight.values())
        if pending:
            _done, still = await asyncio.wait(pending, timeout=grace)
            unfinished = [pk for pk, task in self._inflight.items() if task in still]
            for task in still:
                task.cancel()
            for task in still:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            if unfinished:
                await WebhookDelivery.filter(id__in=unfinished, status=DeliveryStatus.PENDING).update(
                    claimed_until=None
                )
        if self._client is not None:
            await self._client.aclose()


async def start_webhook_worker(settings: Settings, state: Any) -> Callable[[], Awaitable[None]]:
    worker = WebhookWorker(settings)
    await worker.start()
    state.services["webhook_worker"] = worker

    async def stop() -> None:
        await worker.stop(settings.shutdown_drain_seconds)

    return stop
