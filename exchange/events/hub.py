"""The in-process fan-out: every event the bus receives goes to the matching subscribers of
this process, each through its own bounded queue.

Promises kept here, whatever the backend:
- an event reaches each matching subscriber once (duplicates by event id are dropped);
- per invitation and per participation (``order_key``), events reach subscribers in status
  order: an event whose predecessor has not arrived yet waits up to ``order_window`` seconds
  (from the event's time) for it;
- a subscriber that falls ``queue_size`` events behind is dropped with an error, so one
  slow reader never holds memory or other readers hostage;
- when the bus goes down every subscriber gets an error (so clients re-query), and nobody
  may subscribe until it is back.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable, Hashable, Iterable
from datetime import UTC, datetime

from exchange.errors import ErrorCode, TransportCode
from exchange.events import Event

log = logging.getLogger("exchange.events")


class StreamError(Exception):
    """Why a subscriber's stream ended early; ``code`` goes out as extensions.code."""

    def __init__(self, code: TransportCode | ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# Codes a stream can end with (documented in the README, "Live updates").
EVENTS_UNAVAILABLE = TransportCode.EVENTS_UNAVAILABLE
SLOW_CONSUMER = TransportCode.SLOW_CONSUMER
TOO_MANY_SUBSCRIPTIONS = TransportCode.TOO_MANY_SUBSCRIPTIONS
KEY_REVOKED = ErrorCode.UNAUTHENTICATED


def bus_unavailable() -> StreamError:
    return StreamError(
        EVENTS_UNAVAILABLE, "Live updates are interrupted; re-query and subscribe again shortly."
    )


def key_revoked_error() -> StreamError:
    return StreamError(KEY_REVOKED, "The API key was revoked.")


Matcher = Callable[[Event], bool]


class Subscriber:
    """One subscription's queue. Iterate it; it raises StreamError when dropped and stops
    when the hub closes (server shutdown)."""

    __slots__ = ("_items", "_waiter", "closed", "error", "hub", "key_id", "matches", "scope")

    def __init__(self, hub: Hub, key_id: str | None, scope: int | None, matches: Matcher) -> None:
        self.hub = hub
        self.key_id = key_id
        # The organisation whose exchanges this subscriber may hear (None: every exchange).
        self.scope = scope
        self.matches = matches
        self._items: deque[Event] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self.error: StreamError | None = None
        self.closed = False

    def offer(self, event: Event) -> bool:
        if len(self._items) >= self.hub.queue_size:
            return False
        self._items.append(event)
        self._wake()
        return True

    def fail(self, error: StreamError) -> None:
        if self.error is None and not self.closed:
            self.error = error
            self._items.clear()
            self._wake()

    def finish(self) -> None:
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def __aiter__(self) -> Subscriber:
        return self

    async def __anext__(self) -> Event:
        while True:
            if self.error is not None:
                error, self.error = self.error, None
                self.closed = True
                raise error
            if self._items:
                return self._items.popleft()
            if self.closed:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    def close(self) -> None:
        """Leave the hub (idempotent); called when the stream ends for any reason."""
        self.closed = True
        self.hub._remove(self)


class Hub:
    def __init__(
        self,
        queue_size: int = 1000,
        per_key_cap: int = 10_000,
        order_window: float = 0.05,
        memory: int = 100_000,
    ) -> None:
        self.queue_size = queue_size
        self.per_key_cap = per_key_cap
        self.order_window = order_window
        self._memory = memory
        self.available = True
        self.closing = False
        self._everything: set[Subscriber] = set()
        self._by_scope: dict[int, set[Subscriber]] = {}
        self._by_key: dict[str, set[Subscriber]] = {}
        # Last status delivered per order key (and when), for ordering; bounded LRU. A
        # participation's status is None once it is removed.
        self._last: OrderedDict[Hashable, tuple[object, datetime]] = OrderedDict()
        self._held: dict[Hashable, list[Event]] = {}
        self._timers: dict[Hashable, asyncio.TimerHandle] = {}
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._drained = asyncio.Event()
        self.delivered = 0

    # ------------------------------------------------------------ subscribers

    @property
    def count(self) -> int:
        return len(self._everything) + sum(len(s) for s in self._by_scope.values())

    def subscribe(self, key_id: str | None, scope: int | None, matches: Matcher) -> Subscriber:
        self.admit(key_id)
        subscriber = Subscriber(self, key_id, scope, matches)
        if scope is None:
            self._everything.add(subscriber)
        else:
            self._by_scope.setdefault(scope, set()).add(subscriber)
        if key_id is not None:
            self._by_key.setdefault(key_id, set()).add(subscriber)
        self._drained.clear()
        return subscriber

    async def every_event(self) -> AsyncIterator[Event]:
        """Every event, unfiltered and without a key (the buses' ``subscribe``)."""
        subscriber = self.subscribe(None, None, lambda _event: True)
        try:
            async for event in subscriber:
                yield event
        finally:
            subscriber.close()

    def admit(self, key_id: str | None) -> None:
        """Raises the StreamError a new subscription would meet now."""
        if self.closing:
            raise StreamError(EVENTS_UNAVAILABLE, "The server is shutting down; subscribe again shortly.")
        if not self.available:
            raise bus_unavailable()
        if key_id is not None and len(self._by_key.get(key_id, ())) >= self.per_key_cap:
            raise StreamError(
                TOO_MANY_SUBSCRIPTIONS,
                f"This API key already has {self.per_key_cap} live subscriptions on this server.",
            )

    def _remove(self, subscriber: Subscriber) -> None:
        if subscriber.scope is None:
            self._everything.discard(subscriber)
        else:
            group = self._by_scope.get(subscriber.scope)
            if group is not None:
                group.discard(subscriber)
                if not group:
                    del self._by_scope[subscriber.scope]
        if subscriber.key_id is not None:
            keyed = self._by_key.get(subscriber.key_id)
            if keyed is not None:
                keyed.discard(subscriber)
                if not keyed:
                    del self._by_key[subscriber.key_id]
        if not self._everything and not self._by_scope:
            self._drained.set()

    def _all(self) -> list[Subscriber]:
        return [*self._everything, *(s for group in self._by_scope.values() for s in group)]

    def key_ids(self) -> list[str]:
        return list(self._by_key)

    def fail_key(self, key_id: str, error: StreamError) -> None:
        for subscriber in list(self._by_key.get(key_id, ())):
            subscriber.fail(error)
            self._remove(subscriber)

    def key_revoked(self, key_id: str) -> None:
        """The key's subscriptions end with UNAUTHENTICATED; events queued for them are dropped."""
        self.fail_key(key_id, key_revoked_error())

    def fail_all(self, error: StreamError) -> None:
        for subscriber in self._all():
            subscriber.fail(error)
            self._remove(subscriber)

    def set_available(self, available: bool) -> None:
        if self.available and not available:
            self.fail_all(bus_unavailable())
        self.available = available

    def close(self) -> None:
        """Server shutdown: every stream ends normally (clients see `complete`)."""
        self.closing = True
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        for subscriber in self._all():
            subscriber.finish()

    async def wait_drained(self, seconds: float) -> bool:
        if not self._everything and not self._by_scope:
            return True
        try:
            await asyncio.wait_for(self._drained.wait(), seconds)
        except TimeoutError:
            return False
        return True

    # ------------------------------------------------------------ events

    def dispatch(self, event: Event) -> None:
        """Called by the backend for every event, in the order the backend received them.
        Never raises: a bad subscriber must not stop the listener or fail a publisher whose
        change has committed."""
        try:
            self._dispatch(event)
        except Exception:
            log.exception("event %s could not be fanned out", event.event_id)

    def _dispatch(self, event: Event) -> None:
        if event.event_id in self._seen:
            return
        self._seen[event.event_id] = None
        if len(self._seen) > self._memory:
            self._seen.popitem(last=False)

        key = event.order_key
        last = self._last.get(key)
        if last is not None and event.at < last[1]:
            # Its successor was already delivered: late beyond the ordering window. Still
            # delivered (once beats never), and logged, because it breaks the order promise.
            log.warning("event %s for %s arrived out of order", event.event_id, key)
            self._fan_out(event)
            return
        follows = event.previous_status is None or (last is not None and last[0] == event.previous_status)
        if follows or self.order_window <= 0:
            self._deliver(event)
            self._release_followers(key)
            return
        # Its predecessor has not been seen here: give it a moment to arrive (another process
        # may have committed it first but published it later).
        due = event.at.timestamp() + self.order_window
        # Capped: a producer whose clock runs ahead must not hold events for longer.
        delay = min(due - datetime.now(UTC).timestamp(), self.order_window)
        if delay <= 0:
            self._deliver(event)
            self._release_followers(key)
            return
        self._held.setdefault(key, []).append(event)
        if key not in self._timers:
            loop = asyncio.get_running_loop()
            self._timers[key] = loop.call_later(delay, self._flush, key)

    def _deliver(self, event: Event) -> None:
        self._last[event.order_key] = (event.status, event.at)
        self._last.move_to_end(event.order_key)
        if len(self._last) > self._memory:
            self._last.popitem(last=False)
        self._fan_out(event)

    def _release_followers(self, key: Hashable) -> None:
        held = self._held.get(key)
        while held:
            last_status = self._last[key][0]
            follower = next((e for e in held if e.previous_status == last_status), None)
            if follower is None:
                return
            held.remove(follower)
            self._deliver(follower)
        self._held.pop(key, None)
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()

    def _flush(self, key: Hashable) -> None:
        self._timers.pop(key, None)
        for event in sorted(self._held.pop(key, []), key=lambda e: e.at):
            self._deliver(event)

    def _fan_out(self, event: Event) -> None:
        for subscriber in self._candidates(event.organiser_ids):
            if subscriber.closed or not subscriber.matches(event):
                continue
            if not subscriber.offer(event):
                subscriber.fail(
                    StreamError(
                        SLOW_CONSUMER,
                        f"This subscription fell {self.queue_size} events behind and was dropped; "
                        "re-query and subscribe again.",
                    )
                )
                self._remove(subscriber)
            else:
                self.delivered += 1

    def _candidates(self, organiser_ids: Iterable[int]) -> list[Subscriber]:
        found = list(self._everything)
        for organisation_id in organiser_ids:
            found.extend(self._by_scope.get(organisation_id, ()))
        return found
