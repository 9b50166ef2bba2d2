"""Safe retries: a mutation sent again with the same ``Idempotency-Key`` gets the first
answer instead of doing the work twice.

The database decides who does the work: the first request inserts the (scope, key) row
(unique), later ones hit the constraint and read the row — the stored response once it is
complete, or they wait a bounded time for it, then hear that it is still in progress. The
same key with another request body is refused. Keys live 24 hours; a claim whose worker
died (never completed) is taken over after ``STALE_CLAIM``.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError

from exchange.models import IdempotencyRecord

log = logging.getLogger("exchange.idempotency")

TTL = timedelta(hours=24)
STALE_CLAIM = timedelta(minutes=5)
MAX_KEY_LENGTH = 200
POLL_SECONDS = 0.05


class Status(enum.Enum):
    NEW = "new"  # this request does the work, then calls complete() or release()
    REPLAY = "replay"  # the first request's response, to send again
    IN_PROGRESS = "in_progress"  # the first request is still running
    MISMATCH = "mismatch"  # the key was used with another request


@dataclass(frozen=True)
class Claim:
    status: Status
    record_id: int | None = None
    response: dict[str, Any] | None = None


def scope_for_token(token: str) -> str:
    """Scope for token-authorised calls: the token itself is never stored."""
    return "token:" + hashlib.sha256(token.encode()).hexdigest()[:40]


def request_hash(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


async def claim(scope: str, key: str, fingerprint: str, *, wait_seconds: float = 5.0) -> Claim:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    while True:
        now = datetime.now(UTC)
        try:
            record = await IdempotencyRecord.create(
                scope=scope, key=key, request_hash=fingerprint, expires_at=now + TTL
            )
            return Claim(Status.NEW, record.id)
        except IntegrityError:
            pass
        existing = await IdempotencyRecord.get_or_none(scope=scope, key=key)
        if existing is None:
            continue  # released or expired meanwhile: try to claim again
        if existing.expires_at <= now or (
            not existing.completed and existing.created_at <= now - STALE_CLAIM
        ):
            await IdempotencyRecord.filter(id=existing.id, completed=existing.completed).delete()
            continue
        if existing.request_hash != fingerprint:
            return Claim(Status.MISMATCH, existing.id)
        if existing.completed:
            return Claim(Status.REPLAY, existing.id, existing.response)
        if loop.time() >= deadline:
            return Claim(Status.IN_PROGRESS, existing.id)
        await asyncio.sleep(POLL_SECONDS)


async def complete(record_id: int, response: dict[str, Any]) -> None:
    await IdempotencyRecord.filter(id=record_id).update(response=response, completed=True)


async def release(record_id: int) -> None:
    """The work failed in a way a retry may fix (timeout, outage): forget the claim."""
    await IdempotencyRecord.filter(id=record_id, completed=False).delete()


async def purge_expired() -> int:
    return await IdempotencyRecord.filter(expires_at__lte=datetime.now(UTC)).delete()


PURGE_FIRST_DELAY_SECONDS = 60
PURGE_SECONDS = 3600.0


async def start_purger(settings: Any, state: Any) -> Callable[[], Awaitable[None]]:
    """Background service: deletes expired keys hourly (claims ignore them anyway; this keeps
    the table small). Safe in every process at once."""

    async def run() -> None:
        # Not at once: start-up is busy enough, and a statement of ours landing in the first
        # seconds of a process would blur what those seconds measure (the SQL-count tests).
        await asyncio.sleep(PURGE_FIRST_DELAY_SECONDS)
        while True:
            try:
                removed = await purge_expired()
                if removed:
                    log.info("idempotency: purged %d expired keys", removed)
            except Exception:  # a database hiccup: try again next round
                log.warning("idempotency: purge failed", exc_info=True)
            await asyncio.sleep(PURGE_SECONDS)

    task = asyncio.create_task(run(), name="idempotency-purge")

    async def stop() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return stop
