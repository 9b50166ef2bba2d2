"""Which external services the tests may use: PostgreSQL and Redis on this machine.

Without them the tests that need them skip with a visible reason; with
EXCHANGE_TEST_REQUIRE_SERVICES=1 (set by .ci/run) they fail instead.
"""

from __future__ import annotations

import os
import socket
from functools import cache
from urllib.parse import urlparse

import pytest

POSTGRES_URL = os.environ.get("EXCHANGE_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("EXCHANGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRE_SERVICES = os.environ.get("EXCHANGE_TEST_REQUIRE_SERVICES") == "1"


@cache
def reachable(url: str) -> bool:
    parts = urlparse(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), timeout=1):
            return True
    except OSError:
        return False


def need(url: str, what: str) -> None:
    if reachable(url):
        return
    message = f"{what} is not reachable at {url}"
    if REQUIRE_SERVICES:
        pytest.fail(message + " (EXCHANGE_TEST_REQUIRE_SERVICES=1 makes it mandatory)")
    pytest.skip(message)


def need_postgres() -> None:
    need(POSTGRES_URL, "PostgreSQL")


def need_redis() -> None:
    need(REDIS_URL, "Redis")
