"""Admission step 7: the rate limit, in cost points per caller (API key, else address), for
operations that arrive over HTTP (requests and event streams). A socket's subscriptions are
bounded by subscriptions per connection and per key instead (README: Limits, errors and safe
retries)."""

from __future__ import annotations

from typing import Any

from exchange import access
from exchange.errors import TransportCode
from exchange.ratelimit import RateLimiter
from exchange.settings import Settings
from schema.admission.operation import Carriage
from schema.admission.refusal import RequestError


async def charge(
    limiter: RateLimiter,
    settings: Settings,
    carriage: Carriage,
    actor: access.Actor | None,
    address: str,
    cost: int,
    cost_extension: dict[str, Any],
) -> tuple[dict[str, str], dict[str, Any]]:
    """The response headers and extensions that report the limit; raises RequestError (429)
    when the caller has no points left."""
    if carriage.socket:
        return {}, {"cost": cost_extension}
    scope = f"key:{actor.key_id}" if actor is not None and actor.key_id else f"addr:{address}"
    decision = await limiter.hit(scope, cost)
    headers = decision.headers()
    extensions_out: dict[str, Any] = {"cost": cost_extension, "rateLimit": decision.extension()}
    if not decision.allowed:
        raise RequestError.of(
            f"Rate limit reached: {decision.limit} points per {settings.rate_limit_window_seconds} s; "
            f"retry in {decision.retry_after} s.",
            TransportCode.RATE_LIMITED,
            429,
            headers=headers,
            extensions=extensions_out,
        )
    return headers, extensions_out
