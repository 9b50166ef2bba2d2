"""Content negotiation: which JSON media type answers a query or mutation (``Accept``), and
the entries of an ``Accept`` header that choose a subscription's stream transport."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from schema.admission.operation import GRAPHQL_RESPONSE_JSON, JSON


@dataclass(frozen=True)
class MediaRange:
    """One entry of an ``Accept`` header: its text without ``q``, its media type (lower case)
    and its quality."""

    text: str
    media: str
    quality: float


T = TypeVar("T")

# Clients send the same few Accept values on every request; what they mean is worked out once
# per distinct value (profiled: parsing them took 0.15 ms a request, 5% of a small page).
# Only short values are kept, so the caches stay small in bytes whatever clients send.
CACHED_ACCEPT_LENGTH = 256
CACHED_ACCEPT_VALUES = 128


def per_accept_value(decide: Callable[[str | None], T]) -> Callable[[str | None], T]:
    """``decide(accept)``, remembered for short values (it must depend on the value alone)."""
    cached = functools.lru_cache(maxsize=CACHED_ACCEPT_VALUES)(decide)

    @functools.wraps(decide)
    def decided(accept: str | None) -> T:
        if accept is not None and len(accept) > CACHED_ACCEPT_LENGTH:
            return decide(accept)
        return cached(accept)

    return decided


_ACCEPT_ENTRY = re.compile(r'(?:[^,"]|"[^"]*")+')


def media_ranges(accept: str) -> list[MediaRange]:
    """The entries of an ``Accept`` header in the order given (commas inside quoted
    parameter values do not split)."""
    ranges = []
    for entry in _ACCEPT_ENTRY.findall(accept):
        media, *params = (piece.strip() for piece in entry.split(";"))
        if not media:
            continue
        quality = 1.0
        kept = [media]
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    quality = 0.0
            elif param:
                kept.append(param)
        ranges.append(MediaRange(";".join(kept), media.lower(), quality))
    return ranges


@per_accept_value
def negotiate(accept: str | None) -> str | None:
    """The media type a query or mutation is answered with; None when the client accepts
    neither. graphql-response+json when the client names it (and likes it at least as much
    as application/json); application/json for a missing header or wildcards (legacy
    clients). Stream media types (text/event-stream, multipart/mixed) do not count here:
    they are chosen for subscriptions only (``ExchangeGraphQL._get_stream_transport_from_headers``)."""
    if not accept or not accept.strip():
        return JSON
    best: dict[str, float] = {}
    for entry in media_ranges(accept):
        for candidate in (GRAPHQL_RESPONSE_JSON, JSON):
            if entry.media == candidate:
                best[candidate] = max(best.get(candidate, 0.0), entry.quality)
        if entry.media in ("*/*", "application/*"):
            best.setdefault(f"wildcard:{JSON}", entry.quality)
    named = {key: value for key, value in best.items() if not key.startswith("wildcard:") and value > 0}
    if named:
        if named.get(GRAPHQL_RESPONSE_JSON, 0) >= named.get(JSON, 0):
            return GRAPHQL_RESPONSE_JSON
        return JSON
    if best.get(f"wildcard:{JSON}", 0) > 0:
        return JSON
    return None


def wants_html(accept: str | None) -> bool:
    return bool(accept) and "text/html" in (accept or "").lower()
