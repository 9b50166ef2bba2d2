"""The multi-process bus: Redis pub/sub on one channel.

Each process holds ONE Redis subscription (a listener task) and fans events out in-process
through its hub, however many GraphQL subscribers it has. Publishing uses a separate
connection from the client's pool.

When Redis goes away, every local subscriber gets an EVENTS_UNAVAILABLE error at once (a
stream that silently stops would look like a quiet day), new subscriptions are refused, and
the listener reconnects with exponential backoff, logging each failure and the recovery.
Queries and mutations never wait on Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import orjson
from redis import asyncio as aioredis
from redis.exceptions import RedisError

from exchange.events import Event, event_from_wire
from exchange.events.hub import Hub

log = logging.getLogger("exchange.events")

DEFAULT_CHANNEL = "exchange:invitation-events"
# A message on the channel that is not an event: {"kind": "key_revoked", "key": "key_..."}.
KEY_REVOKED_KIND = "key_revoked"


class RedisBus:
    def __init__(
        self,
        url: str,
        hub: Hub | None = None,
        *,
        channel: str = DEFAULT_CHANNEL,
        reconnect_max_seconds: float = 5.0,
        health_check_seconds: float = 5.0,
        listen: bool = True,
    ) -> None:
        self.url = url
        self.hub = hub or Hub()
        self.channel = channel
        self.reconnect_max_seconds = reconnect_max_seconds
        self.health_check_seconds = health_check_seconds
        # A publishing-only process (a script, the mail worker) needs no subscription.
        self.listen = listen
        self._client: aioredis.Redis | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        if listen:
            # Nobody can subscribe before the listener is on the channel.
            self.hub.available = False

    def _publisher(self) -> aioredis.Redis:
        if self._client is None:
            self._client = aioredis.Redis.from_url(
                self.url, socket_connect_timeout=2, socket_timeout=2, health_check_interval=30
            )
        return self._client

    async def start(self) -> None:
        if self.listen and self._task is None:
            self._task = asyncio.create_task(self._listen(), name="redis-event-listener")

    async def publish(self, event: Event) -> None:
        try:
            await self._publisher().publish(self.channel, orjson.dumps(event.to_wire()))
        except (RedisError, OSError) as error:
            # The change is committed; live subscribers lose this one (they were or will be
            # told the bus is down), webhooks come from durable rows.
            log.error("could not publish event %s to Redis: %s", event.event_id, error)

    async def publish_many(self, events: list[Event]) -> None:
        """One round trip for a batch (a bulk invite), in order."""
        try:
            async with self._publisher().pipeline(transaction=False) as pipe:
                for event in events:
                    pipe.publish(self.channel, orjson.dumps(event.to_wire()))
                await pipe.execute()
        except (RedisError, OSError) as error:
            log.error("could not publish %d events to Redis: %s", len(events), error)

    async def publish_key_revoked(self, key_id: str) -> None:
        # On the events' channel: every process already listens there, and a revocation
        # published after an event is heard after it.
        try:
            await self._publisher().publish(
                self.channel, orjson.dumps({"kind": KEY_REVOKED_KIND, "key": key_id})
            )
        except (RedisError, OSError) as error:
            log.error("could not announce the revocation of %s on Redis: %s", key_id, error)
        # This process hears its own message through Redis too; end its streams now anyway.
        self.hub.key_revoked(key_id)

    def subscribe(self) -> AsyncIterator[Event]:
        return self.hub.every_event()

    async def _listen(self) -> None:
        delay = 0.1
        failures = 0
        while not self._closing:
            client = aioredis.Redis.from_url(self.url, socket_connect_timeout=2)
            pubsub = client.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                # The subscription counts from Redis's confirmation, not from our request.
                while (await pubsub.get_message(timeout=2.0)) is None:
                    pass
                if failures:
                    log.warning("event bus: reconnected to Redis after %d failed attempt(s)", failures)
                else:
                    log.info("event bus: listening on Redis channel %s", self.channel)
                failures, delay = 0, 0.1
                self.hub.set_available(True)
                await self._pump(pubsub)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # any failure: tell the subscribers, then retry
                if not isinstance(error, RedisError | OSError):
                    log.exception("event bus: listener failed unexpectedly")
                failures += 1
                self.hub.set_available(False)
                log.warning(
                    "event bus: Redis unavailable (%s); subscribers were told; retrying in %.1fs",
                    error,
                    delay,
                )
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                with contextlib.suppress(Exception):
                    await client.aclose()
            if self._closing:
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.reconnect_max_seconds)

    async def _pump(self, pubsub: aioredis.client.PubSub) -> None:
        loop = asyncio.get_running_loop()
        next_ping = loop.time() + self.health_check_seconds
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message is not None and message.get("type") == "message":
                try:
                    data = orjson.loads(message["data"])
                    revoked = (
                        data["key"]
                        if isinstance(data, dict) and data.get("kind") == KEY_REVOKED_KIND
                        else None
                    )
                    event = None if revoked is not None else event_from_wire(data)
                except (ValueError, KeyError, TypeError):
                    log.error("event bus: ignoring a malformed message on %s", self.channel)
                    continue
                if event is not None:
                    self.hub.dispatch(event)
                else:
                    self.hub.key_revoked(str(revoked))
            if loop.time() >= next_ping:
                # A half-open connection (no FIN from a dead host) would otherwise look
                # like a quiet channel forever.
                await pubsub.ping()
                next_ping = loop.time() + self.health_check_seconds

    async def close(self) -> None:
        self._closing = True
        self.hub.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        if self._client is not None:
            with contextlib.suppress(Exception):
                await self._client.aclose()
            self._client = None
