"""A request's headers looked up by name in a dict: Starlette's ``Headers`` scans the list on
every lookup, and the endpoint asks for five or six of them per request."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from starlette.datastructures import Headers
from starlette.requests import Request

# Header names as the list holds them (lower-case bytes), per name asked for: the endpoint asks
# for the same few names by constant strings; a name not yet seen is encoded each time once
# the table is full, so the table stays small whoever asks.
_RAW_NAMES: dict[str, bytes] = {}
_MOST_NAMES = 64


def _raw(key: str) -> bytes:
    raw = _RAW_NAMES.get(key)
    if raw is None:
        raw = key.lower().encode("latin-1")
        if len(_RAW_NAMES) < _MOST_NAMES:
            _RAW_NAMES[key] = raw
    return raw


class IndexedHeaders(Headers):
    """``Headers`` with ``[]``, ``get`` and ``in`` answered from a dict of the first value of
    each name (what Starlette's scan answers); everything else as Starlette's."""

    def __init__(self, scope: MutableMapping[str, Any]) -> None:
        super().__init__(scope=scope)
        # Reversed, so that the first of repeated names wins, as in the scan.
        self._first = dict(reversed(self._list))

    def __getitem__(self, key: str) -> str:
        value = self._first.get(_raw(key))
        if value is None:
            raise KeyError(key)
        return value.decode("latin-1")

    def get(self, key: str, default: Any = None) -> Any:
        value = self._first.get(_raw(key))
        return default if value is None else value.decode("latin-1")

    def __contains__(self, key: Any) -> bool:
        return _raw(key) in self._first


def index_headers(request: Request) -> None:
    """Give ``request`` indexed headers (before anything reads ``request.headers``)."""
    request._headers = IndexedHeaders(request.scope)
