"""Invitation events: one publishing interface, backends behind it (in-process by default,
Redis when EXCHANGE_REDIS_URL is set).

Services collect events while they work and publish them only after their transaction
commits (``AfterCommit``), so no subscriber ever hears of a change that was rolled back.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from exchange.models import InvitationStatus


@dataclass(frozen=True)
class InvitationEvent:
    invitation_id: int
    exchange_id: int
    # Host and partner organisations of the exchange when the event happened: who may hear it.
    organiser_ids: frozenset[int]
    previous_status: InvitationStatus | None
    status: InvitationStatus
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
    event_id: str = field(default_factory=lambda: "evt_" + uuid.uuid4().hex)


class Bus(Protocol):
    async def publish(self, event: InvitationEvent) -> None: ...

    def subscribe(self) -> AsyncIterator[InvitationEvent]: ...

    async def close(self) -> None: ...


class MemoryBus:
    """One process: every subscriber gets its own queue."""

    def __init__(self, queue_size: int = 1000) -> None:
        self._queues: set[asyncio.Queue[InvitationEvent]] = set()
        self._queue_size = queue_size

    async def publish(self, event: InvitationEvent) -> None:
        for queue in list(self._queues):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                # A slow consumer; the subscription layer decides what that means.
                queue.put_nowait  # noqa: B018
                continue

    async def subscribe(self) -> AsyncIterator[InvitationEvent]:
        queue: asyncio.Queue[InvitationEvent] = asyncio.Queue(self._queue_size)
        self._queues.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._queues.discard(queue)

    async def close(self) -> None:
        self._queues.clear()


_bus: Bus = MemoryBus()


def get_bus() -> Bus:
    return _bus


def set_bus(bus: Bus) -> None:
    global _bus
    _bus = bus


class AfterCommit:
    """Events gathered inside a transaction, published once it has committed."""

    def __init__(self) -> None:
        self.events: list[InvitationEvent] = []

    def add(self, event: InvitationEvent) -> None:
        self.events.append(event)

    async def publish(self) -> None:
        bus = get_bus()
        for event in self.events:
            await bus.publish(event)
        self.events.clear()
