"""Rate limits in cost points per time window, per API key (or client address).

A sliding-window counter (the ``limits`` package): a request is admitted only if its whole
cost fits in what is left, so a refused request spends nothing. With ``EXCHANGE_REDIS_URL``
every process counts in Redis and shares one budget; without it each process counts in
memory. If Redis stops answering, each process falls back to its own memory budget for a
while (logged once) instead of failing queries, and tries Redis again later.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass

from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

from exchange.settings import Settings

log = logging.getLogger("exchange.ratelimit")

REDIS_TIMEOUT_SECONDS = 0.5
REDIS_RETRY_SECONDS = 15.0


@dataclass(frozen=True)
class Decision:
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


def _redis_uri(url: str) -> str:
    return url if url.startswith("async+") else "async+" + url


class RateLimiter:
    def __init__(self, settings: Settings) -> None:
        self.item = RateLimitItemPerSecond(settings.rate_limit_points, settings.rate_limit_window_seconds)
        self.memory = SlidingWindowCounterRateLimiter(MemoryStorage())
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

    @property
    def limit(self) -> int:
        return int(self.item.amount)

    async def hit(self, scope: str, cost: int) -> Decision:
        """Spend ``cost`` points of ``scope``'s budget if they fit."""
        cost = max(1, cost)
        if self.redis is not None and time.monotonic() >= self._redis_down_until:
            try:
                async with asyncio.timeout(REDIS_TIMEOUT_SECONDS * 2):
                    return await self._hit(self.redis, scope, cost, "redis")
            except Exception as error:
                if self._redis_down_until == 0.0:
                    log.warning("rate limits: Redis unreachable (%s); counting in memory", error)
                self._redis_down_until = time.monotonic() + REDIS_RETRY_SECONDS
        decision = await self._hit(self.memory, scope, cost, "memory")
        return decision

    async def _hit(
        self, limiter: SlidingWindowCounterRateLimiter, scope: str, cost: int, storage: str
    ) -> Decision:
        allowed = await limiter.hit(self.item, scope, cost=cost)
        if storage == "redis" and self._redis_down_until:
            log.info("rate limits: Redis is back")
            self._redis_down_until = 0.0
        stats = await limiter.get_window_stats(self.item, scope)
        reset = max(0, math.ceil(stats.reset_time - time.time()))
        return Decision(allowed, self.limit, int(stats.remaining), reset, storage)

    async def reset(self) -> None:
        """Forget every count (tests, and the CLI after a limit change)."""
        await self.memory.storage.reset()
        if self._redis_storage is not None:
            await self._redis_storage.reset()
