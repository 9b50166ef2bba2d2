"""A request's headers looked up by name in a dict: Starlette's ``Headers`` scans the list on
every lookup, and the endpoint asks for five or six of them per request."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from starlette.datastructures import Headers
from starlette.requests import Request


class IndexedHeaders(Headers):
    """``Headers`` with ``[]``, ``get`` and ``in`` answered from a dict of the first value of
    each name (what Starlette's scan answers); everything else as Starlette's."""

    def __init__(self, scope: MutableMapping[str, Any]) -> None:
        super().__init__(scope=scope)
        # Reversed, so that the first of repeated names wins, as in the scan.
        self._first = dict(reversed(self._list))

    def __getitem__(self, key: str) -> str:
        value = self._first.get(key.lower().encode("latin-1"))
        if value is None:
            raise KeyError(key)
        return value.decode("latin-1")

    def get(self, key: str, default: Any = None) -> Any:
        value = self._first.get(key.lower().encode("latin-1"))
        return default if value is None else value.decode("latin-1")

    def __contains__(self, key: Any) -> bool:
        return key.lower().encode("latin-1") in self._first


def index_headers(request: Request) -> None:
    """Give ``request`` indexed headers (before anything reads ``request.headers``)."""
    request._headers = IndexedHeaders(request.scope)
