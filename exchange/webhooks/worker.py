"""The webhook delivery worker: claims due WebhookDelivery rows with a lease, POSTs them
signed, and records the outcome; failures are retried with exponential backoff until
``webhook_max_attempts``. Any number of processes may run it: a row is claimed by one
compare-and-set update, and a crashed worker's rows come back when their lease runs out.

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
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import orjson
from tortoise.expressions import Q

from exchange.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from exchange.settings import Settings
from exchange.webhooks import signing
from exchange.webhooks.safety import UnsafeUrl, resolve

log = logging.getLogger("exchange.webhooks")

_wakeups: set[asyncio.Event] = set()


def notify() -> None:
    """New rows were written in this process: workers here look now rather than at their
    next poll."""
    for event in _wakeups:
        event.set()


def backoff(settings: Settings, attempts: int) -> float:
    delay = min(settings.webhook_retry_base_seconds * 2 ** max(attempts - 1, 0), settings.webhook_retry_max_seconds)
    return delay * random.uniform(0.8, 1.2)


class WebhookWorker:
    def __init__(self, settings: Settings, name: str | None = None) -> None:
        self.settings = settings
        self.name = name or f"{socket.gethostname()}:{id(self):x}"
        self._wake = asyncio.Event()
        self._stopping = False
        self._inflight: dict[int, asyncio.Task[None]] = {}
        self._client: httpx.AsyncClient | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._client = httpx.AsyncClient(
            timeout=self.settings.webhook_timeout_seconds, follow_redirects=False, trust_env=False
        )
        _wakeups.add(self._wake)
        self._task = asyncio.create_task(self._run(), name="webhook-worker")

    async def _run(self) -> None:
        while not self._stopping:
            try:
                claimed = await self.claim()
            except Exception:
                log.exception("webhook worker: could not claim deliveries")
                claimed = []
            for row in claimed:
                task = asyncio.create_task(self._deliver_guarded(row))
                self._inflight[row.id] = task
                task.add_done_callback(self._forget(row.id))
            if len(claimed) >= self.settings.webhook_batch_size:
                await asyncio.sleep(0)
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.webhook_poll_seconds)

    def _forget(self, pk: int) -> Callable[[asyncio.Task[None]], None]:
        def forget(_task: asyncio.Task[None]) -> None:
            self._inflight.pop(pk, None)

        return forget

    async def claim(self) -> list[WebhookDelivery]:
        now = datetime.now(UTC)
        room = self.settings.webhook_batch_size - len(self._inflight)
        if room <= 0:
            return []
        candidates = (
            await WebhookDelivery.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            .filter(Q(claimed_until=None) | Q(claimed_until__lt=now))
            .exclude(id__in=list(self._inflight))
            .order_by("next_attempt_at", "id")
            .limit(room)
        )
        lease = now + timedelta(seconds=self.settings.webhook_lease_seconds)
        claimed = []
        for row in candidates:
            # Compare-and-set on the lease we read: of several workers, exactly one wins.
            won = await WebhookDelivery.filter(
                id=row.id, status=DeliveryStatus.PENDING, claimed_until=row.claimed_until, attempts=row.attempts
            ).update(claimed_until=lease)
            if won:
                row.claimed_until = lease
                claimed.append(row)
        return claimed

    async def _deliver_guarded(self, row: WebhookDelivery) -> None:
        try:
            await self.deliver(row)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("webhook worker: delivery %s failed unexpectedly", row.id)
            await self._record(row, None, "internal error")

    async def deliver(self, row: WebhookDelivery) -> None:
        endpoint = await WebhookEndpoint.get_or_none(id=row.endpoint_id)  # type: ignore[attr-defined]
        if endpoint is None or endpoint.disabled_at is not None:
            await WebhookDelivery.filter(id=row.id).update(
                status=DeliveryStatus.FAILED, last_error="endpoint removed", claimed_until=None
            )
            return
        body = orjson.dumps(row.payload)
        headers = signing.headers(endpoint.secret, row.event_id, int(time.time()), body)
        headers["user-agent"] = "volunteer-exchange-webhooks/1"
        try:
            status_code = await self._post(endpoint.url, headers, body)
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
        async with self._client.stream("POST", target, content=body, headers=headers, extensions=extensions) as response:
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
        log.info("webhook %s to endpoint %s: %s (attempt %d)", row.event_id, row.endpoint_id, error, attempts)  # type: ignore[attr-defined]

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
