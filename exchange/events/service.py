"""Wiring the bus into a process: build it from settings, start it with the app, watch for
revoked keys, and end live streams cleanly on shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from types import FrameType
from typing import Any

from exchange import events
from exchange.events.hub import Hub
from exchange.settings import Settings

log = logging.getLogger("exchange.events")


def live_status() -> dict[str, object]:
    """For /healthz: whether this process hears the bus, and how many streams it serves."""
    bus = events._bus
    if bus is None:
        return {"bus": "none", "subscriptions": 0}
    hub: Hub = bus.hub
    return {"bus": "up" if hub.available and not hub.closing else "down", "subscriptions": hub.count}


def hub_from_settings(settings: Settings) -> Hub:
    return Hub(
        queue_size=settings.subscriber_queue_size,
        per_key_cap=settings.subscriptions_per_key,
        order_window=settings.event_order_window_seconds,
    )


def bus_from_settings(settings: Settings, *, listen: bool = True) -> events.Bus:
    hub = hub_from_settings(settings)
    if settings.redis_url:
        from exchange.events.redis import RedisBus

        return RedisBus(
            settings.redis_url,
            hub,
            channel=settings.redis_channel,
            reconnect_max_seconds=settings.redis_reconnect_max_seconds,
            listen=listen,
        )
    from exchange.events.memory import MemoryBus

    return MemoryBus(hub)


async def watch_keys(hub: Hub, interval: float) -> None:
    """The fallback for revocations the bus did not carry (made by another process without
    Redis, or while Redis was away): a key revoked while its subscriptions run ends them
    within ``interval`` seconds; one query per interval for all the keys subscribed here."""
    from exchange.models import ApiKey

    while True:
        await asyncio.sleep(interval)
        keys = hub.key_ids()
        if not keys:
            continue
        try:
            active = set(
                await ApiKey.filter(public_id__in=keys, revoked_at=None).values_list("public_id", flat=True)
            )
        except Exception:
            log.exception("could not check subscribed API keys")
            continue
        for key_id in keys:
            if key_id not in active:
                hub.key_revoked(key_id)


def _drain_on_signal(hub: Hub, drain_seconds: float) -> Callable[[], None]:
    """Ends live streams before the server closes their connections.

    uvicorn closes WebSockets (1012) before it runs the lifespan shutdown, which would cut
    streams without their `complete`. So SIGTERM/SIGINT first end every stream here, wait
    (briefly) for the `complete` messages to go out, then hand over to the server's own
    handler. Returns a function that restores the previous handlers.
    """
    loop = asyncio.get_running_loop()
    previous: dict[int, Any] = {}

    def handler(signum: int, frame: FrameType | None) -> None:
        async def drain_then_exit() -> None:
            hub.close()
            await hub.wait_drained(drain_seconds)
            # Let the completes flush through the transports.
            await asyncio.sleep(0.05)
            original = previous.get(signum)
            if callable(original):
                original(signum, frame)

        loop.call_soon_threadsafe(lambda: loop.create_task(drain_then_exit()))

    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            current = signal.getsignal(sig)
        except (ValueError, OSError):
            continue
        if not callable(current) or not getattr(current, "__module__", "").startswith("uvicorn"):
            continue  # not under uvicorn (tests, scripts): leave the handler alone
        try:
            signal.signal(sig, handler)
        except ValueError:  # not the main thread (e.g. an embedded test server)
            continue
        previous[sig] = current

    def restore() -> None:
        for sig, original in previous.items():
            with contextlib.suppress(ValueError):
                if signal.getsignal(sig) is handler:
                    signal.signal(sig, original)

    return restore


async def start_event_bus(settings: Settings, state: Any) -> Callable[[], Awaitable[None]]:
    """The app's background service: the process bus, the key watch, the shutdown drain."""
    bus = bus_from_settings(settings)
    events.set_bus(bus)
    await bus.start()
    state.services["bus"] = bus
    watcher = asyncio.create_task(watch_keys(bus.hub, settings.subscription_key_check_seconds))
    restore = _drain_on_signal(bus.hub, settings.shutdown_drain_seconds)

    async def stop() -> None:
        restore()
        bus.hub.close()
        await bus.hub.wait_drained(settings.shutdown_drain_seconds)
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        await bus.close()
        if events._bus is bus:
            events.set_bus(None)

    return stop
