"""exchange.ratelimit without HTTP: a budget in points per scope and window, a request that
does not fit spends nothing, scopes do not share, and with Redis every limiter of the
deployment shares one budget."""

from __future__ import annotations

import uuid
from typing import Any

from exchange.ratelimit import RateLimiter
from exchange.settings import Settings
from tests.services import REDIS_URL, need_redis


def limiter(points: int = 10, **overrides: Any) -> RateLimiter:
    return RateLimiter(
        Settings(_env_file=None, rate_limit_points=points, rate_limit_window_seconds=600, **overrides)  # type: ignore[call-arg]
    )


async def test_points_per_scope_and_a_refusal_spends_nothing() -> None:
    budget = limiter(10)
    first = await budget.hit("key:a", 6)
    assert (first.allowed, first.remaining, first.storage) == (True, 4, "memory")
    assert "Retry-After" not in first.headers()
    refused = await budget.hit("key:a", 5)
    assert not refused.allowed and refused.remaining == 4
    assert refused.headers()["Retry-After"] == str(refused.retry_after) and refused.retry_after >= 1
    assert (await budget.hit("key:a", 4)).allowed  # the refused 5 were not spent
    assert (await budget.hit("key:b", 10)).allowed  # another key, another budget
    free = await budget.hit("key:c", 0)  # nothing is free: a cost of 0 counts 1
    assert free.remaining == 9
    assert first.extension() == {"limit": 10, "remaining": 4, "resetSeconds": first.reset_seconds}


async def test_limiters_share_one_budget_through_redis() -> None:
    need_redis()
    scope = f"key:{uuid.uuid4().hex}"
    a, b = limiter(10, redis_url=REDIS_URL), limiter(10, redis_url=REDIS_URL)
    assert (await a.hit(scope, 6)).storage == "redis"
    shared = await b.hit(scope, 6)
    assert not shared.allowed and shared.remaining == 4


async def test_memory_windows_count_as_the_limits_package_does(monkeypatch: Any) -> None:
    """MemoryWindows replaced the ``limits`` package's memory storage (a task per key and
    window): over random hits, pauses and scopes it decides, counts and times exactly as
    that package's sliding-window counter does (the Redis path still uses it)."""
    import math
    import random
    import time as real_time

    from limits import RateLimitItemPerSecond
    from limits.aio.storage import MemoryStorage
    from limits.aio.strategies import SlidingWindowCounterRateLimiter

    from exchange.ratelimit import MemoryWindows

    clock = [1_700_000_123.25]
    fake_time = type("FakeTime", (), {"time": staticmethod(lambda: clock[0])})
    monkeypatch.setattr("limits.aio.storage.memory.time", fake_time)
    monkeypatch.setattr("limits.aio.strategies.time", fake_time)
    rng = random.Random(12)
    for limit, window in ((10, 60), (100, 7), (3, 1)):
        item = RateLimitItemPerSecond(limit, window)
        theirs = SlidingWindowCounterRateLimiter(MemoryStorage())
        ours = MemoryWindows(limit, window)
        for _ in range(400):
            clock[0] += rng.choice((0.0, 0.01, 0.3, window / 3, window * 0.9, window * 2.5))
            scope, cost = rng.choice(("key:a", "key:b", "addr:c")), rng.choice((1, 1, 2, 5, limit, limit + 1))
            allowed = await theirs.hit(item, scope, cost=cost)
            stats = await theirs.get_window_stats(item, scope)
            expected = (allowed, int(stats.remaining), max(0, math.ceil(stats.reset_time - clock[0])))
            assert ours.hit(scope, cost, clock[0]) == expected, (limit, window, scope, cost, clock[0])
    assert real_time.time() != clock[0]


def test_memory_windows_stay_bounded() -> None:
    """A flood of new callers cannot grow the table past its capacity; callers whose windows
    ended go first, then those counted longest ago."""
    from exchange.ratelimit import MemoryWindows

    windows = MemoryWindows(limit=10, window_seconds=60, capacity=100)
    windows.hit("key:old", 3, now=0.0)
    windows.hit("key:regular", 3, now=100.0)
    for n in range(1_000):
        windows.hit(f"addr:{n}", 1, now=130.0)
        windows.hit("key:regular", 0, now=130.0)  # counted again: kept
    assert len(windows.counts) <= 100
    assert "key:old" not in windows.counts  # its window ended long ago
    assert "key:regular" in windows.counts
    assert windows.hit("key:regular", 1, now=130.0)[1] < 10  # its spending was not forgotten
