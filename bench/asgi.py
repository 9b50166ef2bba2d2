"""A request handed to the ASGI app directly, without a server: its scope as uvicorn builds it."""

from __future__ import annotations

from typing import Any


def post_scope(path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    """A POST over HTTP/1.1 from 127.0.0.1 to a server on 127.0.0.1:8000; ``headers`` (names in
    lower case) follow ``host``."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8000"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},  # the lifespan's state, which uvicorn copies into every scope
    }
