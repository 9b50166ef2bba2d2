"""Rate limits in cost points per time window, per API key (or client address).

A sliding-window counter: the previous window's count, weighted by how much of that window
still overlaps the sliding one, plus the current window's. A request is admitted only if its
whole cost fits in what is left, so a refused request spends nothing. With
``EXCHANGE_REDIS_URL`` every process counts in Redis (the ``limits`` package) and shares one
budget; without it each process counts in memory (``MemoryWindows``, the same arithmetic).
If Redis stops answering, each process falls back to its own memory budget for a while
(logged once) instead of failing queries, and tries Redis again later.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import NamedTuple

from limits import RateLimitItemPerSecond
from limits.aio.storage import RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

from exchange.settings import Settings

log = logging.getLogger("exchange.ratelimit")

REDIS_TIMEOUT_SECONDS = 0.5
REDIS_RETRY_SECONDS = 15.0


class Decision(NamedTuple):  # a tuple: made for every request
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int
    # Where the count was kept: "redis" or "memory" (degraded or by configuration).
    storage: str

    @property
    def retry_after(self) -> int:
        return max(1, self.reset_seconds)

    def headers(self) -> dict[str, str]:
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after)
        return headers

    def extension(self) -> dict[str, int]:
        return {"limit": self.limit, "remaining": self.remaining, "resetSeconds": self.reset_seconds}


# Callers counted in memory at most: about 200 bytes each, so about 10 MB. When full, windows
# that ended are dropped first, then the callers counted longest ago (who thereby start again:
# a flood of new addresses cannot make the table grow, nor take anyone's budget away).
MEMORY_SCOPES = 50_000


class MemoryWindows:
    """The sliding-window counters of one process, kept in a dict: no task, no lock and no
    await per request (the ``limits`` package's memory storage schedules a task per key and
    window, profiled at 0.09 ms a request)."""

    def __init__(self, limit: int, window_seconds: int, capacity: int = MEMORY_SCOPES) -> None:
        self.limit = limit
        self.expiry = max(1, window_seconds)
        self.capacity = capacity
        # scope -> [index of the current window, previous window's count, current window's]
        self.counts: dict[str, list[int]] = {}

    def _counters(self, scope: str, window: int) -> list[int]:
        counters = self.counts.pop(scope, None)  # popped and put back: the dict stays in LRU order
        if counters is None:
            counters = [window, 0, 0]
            if len(self.counts) >= self.capacity:
                self._make_room(window)
        elif counters[0] != window:
            previous = counters[2] if counters[0] == window - 1 else 0
            counters[:] = [window, previous, 0]
        self.counts[scope] = counters
        return counters

    def _make_room(self, window: int) -> None:
        # The dict is in the order scopes were last counted, so in the order of their windows:
        # those whose windows ended lead it, and the walk stops at the first one still counting
        # once there is room. Scanning the whole table instead cost every new caller of a
        # flood a pass over all MEMORY_SCOPES entries.
        excess = len(self.counts) - self.capacity + 1
        dropped: list[str] = []
        for scope, counters in self.counts.items():
            if counters[0] >= window - 1 and len(dropped) >= excess:
                break
            dropped.append(scope)
        for scope in dropped:
            del self.counts[scope]

    def hit(self, scope: str, cost: int, now: float) -> tuple[bool, int, int]:
        """(allowed, remaining, seconds until a point comes back) after spending ``cost``
        if it fits."""
        expiry = self.expiry
        counters = self._counters(scope, int(now // expiry))
        into = now % expiry
        previous_left = expiry - into  # how much of the previous window still overlaps
        weight = counters[1] * previous_left / expiry
        allowed = cost <= self.limit and math.floor(weight + counters[2]) + cost <= self.limit
        if allowed:
            counters[2] += cost
        remaining = max(0, self.limit - math.floor(weight + counters[2]))
        if not (counters[1] or counters[2]):
            return allowed, remaining, 0
        resets = [expiry - into]
        if counters[1]:
            resets.append(previous_left % (expiry / counters[1]))
        return allowed, remaining, max(0, math.ceil(min(resets)))

    def reset(self) -> None:
        self.counts.clear()


def _redis_uri(url: str) -> str:
    return url if url.startswith("async+") else "async+" + url


class RateLimiter:
    def __init__(self, settings: Settings) -> None:
        self.item = RateLimitItemPerSecond(settings.rate_limit_points, settings.rate_limit_window_seconds)
        self.limit = int(self.item.amount)
        self.memory = MemoryWindows(settings.rate_limit_points, settings.rate_limit_window_seconds)
        self.redis: SlidingWindowCounterRateLimiter | None = None
        self._redis_storage: Storage | None = None
        if settings.redis_url:
            self._redis_storage = RedisStorage(
                _redis_uri(settings.redis_url),
                implementation="redispy",
                key_prefix="exchange-rl",
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
            )
            self.redis = SlidingWindowCounterRateLimiter(self._redis_storage)
        self._redis_down_until = 0.0

    async def hit(self, scope: str, cost: int) -> Decision:
        """Spend ``cost`` points of ``scope``'s budget if they fit."""
        cost = max(1, cost)
        if self.redis is not None and time.monotonic() >= self._redis_down_until:
            try:
                async with asyncio.timeout(REDIS_TIMEOUT_SECONDS * 2):
                    return await self._hit_redis(self.redis, scope, cost)
            except Exception as error:
                if self._redis_down_until == 0.0:
                    log.warning("rate limits: Redis unreachable (%s); counting in memory", error)
                self._redis_down_until = time.monotonic() + REDIS_RETRY_SECONDS
        allowed, remaining, reset = self.memory.hit(scope, cost, time.time())
        return Decision(allowed, self.limit, remaining, reset, "memory")

    async def _hit_redis(self, limiter: SlidingWindowCounterRateLimiter, scope: str, cost: int) -> Decision:
        allowed = await limiter.hit(self.item, scope, cost=cost)
        if self._redis_down_until:
            log.info("rate limits: Redis is back")
            self._redis_down_until = 0.0
        stats = await limiter.get_window_stats(self.item, scope)
        reset = max(0, math.ceil(stats.reset_time - time.time()))
        return Decision(allowed, self.limit, int(stats.remaining), reset, "redis")

    async def reset(self) -> None:
        """Forget every count (tests, and the CLI after a limit change)."""
        self.memory.reset()
        if self._redis_storage is not None:
            await self._redis_storage.reset()
