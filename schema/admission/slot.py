"""Admission step: one of the process's execution slots (Settings.max_concurrent_executions)."""

from __future__ import annotations

import asyncio

from exchange.errors import TransportCode
from schema.admission.refusal import RequestError


async def take_slot(slots: asyncio.Semaphore, timeout_seconds: float) -> None:
    """A request that waits longer than an execution may take is answered SERVICE_UNAVAILABLE
    (retry shortly) instead of queueing without end."""
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
