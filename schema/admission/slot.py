"""Admission step 9: one of the process's execution slots (Settings.max_concurrent_executions),
held while a query or mutation executes (a subscription waits for events and holds none)."""

from __future__ import annotations

import asyncio

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


class ExecutionSlot:
    """A slot for the time of the block, given back however the block ends. A class, not an
    ``asynccontextmanager``: one is entered per request, and the generator-based helper costs
    about 90 bytecodes more (counted, bench.replay)."""

    __slots__ = ("slots", "timeout_seconds")

    def __init__(self, slots: asyncio.Semaphore, timeout_seconds: float) -> None:
        self.slots = slots
        self.timeout_seconds = timeout_seconds

    async def __aenter__(self) -> None:
        await take_slot(self.slots, self.timeout_seconds)

    async def __aexit__(self, *_exc: object) -> None:
        self.slots.release()
