"""Admission step 9: one of the process's execution slots (Settings.max_concurrent_executions),
held while a query or mutation executes (a subscription waits for events and holds none)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from exchange.errors import TransportCode
from schema.admission.refusal import RequestError


async def take_slot(slots: asyncio.Semaphore, timeout_seconds: float) -> None:
    """A request that waits longer than an execution may take is answered SERVICE_UNAVAILABLE
    (retry shortly) instead of queueing without end."""
    if not slots.locked():
        await slots.acquire()  # a slot is free: taken at once, no timer to arm
        return
    try:
        async with asyncio.timeout(timeout_seconds):
            await slots.acquire()
    except TimeoutError:
        raise RequestError.of(
            "The server is busy; retry in a moment.",
            TransportCode.SERVICE_UNAVAILABLE,
            503,
            headers={"Retry-After": "1"},
        ) from None


@contextlib.asynccontextmanager
async def execution_slot(slots: asyncio.Semaphore, timeout_seconds: float) -> AsyncIterator[None]:
    """A slot for the time of the block, given back however the block ends."""
    await take_slot(slots, timeout_seconds)
    try:
        yield
    finally:
        slots.release()
