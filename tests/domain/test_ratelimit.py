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
