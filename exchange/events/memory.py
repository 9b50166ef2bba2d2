"""The single-process bus: publishing hands the event straight to this process's hub."""

from __future__ import annotations

from collections.abc import AsyncIterator

from exchange.events import Event
from exchange.events.hub import Hub


class MemoryBus:
    def __init__(self, hub: Hub | None = None) -> None:
        self.hub = hub or Hub()

    async def start(self) -> None:
        return None

    async def publish(self, event: Event) -> None:
        self.hub.dispatch(event)

    async def publish_key_revoked(self, key_id: str) -> None:
        self.hub.key_revoked(key_id)

    def subscribe(self) -> AsyncIterator[Event]:
        """Every event, unfiltered (for in-process consumers and tests)."""
        return self.hub.every_event()

    async def close(self) -> None:
        self.hub.close()
