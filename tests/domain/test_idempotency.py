"""exchange.idempotency without HTTP, beyond tests/http/test_idempotency: keys belong to their
scope, a waiting retry gets the answer the first request completes with, a released claim
is free again (a completed one is not), a stale claim is taken over, and the fingerprint of
a request cannot be forged by moving bytes between its parts."""

from __future__ import annotations

import asyncio
import datetime as dt

from exchange import idempotency
from exchange.idempotency import STALE_CLAIM, Status, claim, complete, release, request_hash
from exchange.models import IdempotencyRecord
from tests.domain.conftest import RecordingBus


async def test_keys_belong_to_their_scope(bus: RecordingBus) -> None:
    first = await claim("key:a", "retry-1", "hash")
    other_scope = await claim("key:b", "retry-1", "hash")
    assert first.status is other_scope.status is Status.NEW and first.record_id != other_scope.record_id
    assert idempotency.scope_for_token("token-a") != idempotency.scope_for_token("token-b")


async def test_a_waiting_retry_gets_the_first_answer(bus: RecordingBus) -> None:
    first = await claim("key:a", "k", "hash")
    assert first.record_id is not None

    async def finish_later() -> None:
        await asyncio.sleep(0.2)
        await complete(first.record_id, {"status": 200, "body": {"data": {"ok": True}}})  # type: ignore[arg-type]

    finishing = asyncio.create_task(finish_later())
    retry = await claim("key:a", "k", "hash", wait_seconds=5)
    await finishing
    assert retry == idempotency.Claim(
        Status.REPLAY, first.record_id, {"status": 200, "body": {"data": {"ok": True}}}
    )


async def test_released_claims_are_free_and_completed_ones_stay(bus: RecordingBus) -> None:
    first = await claim("key:a", "k", "hash")
    await release(first.record_id)  # type: ignore[arg-type]
    second = await claim("key:a", "k", "hash")
    assert second.status is Status.NEW
    await complete(second.record_id, {"status": 200})  # type: ignore[arg-type]
    await release(second.record_id)  # type: ignore[arg-type]  # a completed answer is kept
    assert (await claim("key:a", "k", "hash")).status is Status.REPLAY

    # A claim whose worker died (never completed, older than STALE_CLAIM) is taken over.
    stale = await claim("key:a", "stale", "hash")
    await IdempotencyRecord.filter(id=stale.record_id).update(
        created_at=dt.datetime.now(dt.UTC) - STALE_CLAIM - dt.timedelta(seconds=1)
    )
    taken_over = await claim("key:a", "stale", "hash", wait_seconds=0)
    assert taken_over.status is Status.NEW and taken_over.record_id != stale.record_id


def test_the_fingerprint_keeps_the_parts_apart() -> None:
    assert request_hash(b"ab", b"c") != request_hash(b"a", b"bc")
    assert request_hash(b"ab", b"c") == request_hash(b"ab", b"c")
