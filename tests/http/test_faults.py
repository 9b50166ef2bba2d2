"""The database goes away and comes back (a TCP proxy between the app and PostgreSQL is cut
and restored): clear 503 errors with a code, no hang, no stack trace, and recovery without
a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest

from exchange import access
from exchange.models import ApiKeyRole
from schema.admission import pipeline
from tests.http.conftest import app_factory, codes, post
from tests.http.proxy import TcpProxy

QUERY = "{ organisations(first: 5) { totalCount } }"


def through(url: str, port: int) -> str:
    parts = urlparse(url)
    return urlunparse(
        parts._replace(netloc=f"{parts.username}@127.0.0.1:{port}" if parts.username else f"127.0.0.1:{port}")
    )


async def test_database_outage_is_a_clear_error_and_recovers(postgres_test_url: str, tmp_path: Path) -> None:
    target = urlparse(postgres_test_url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 5432)
    await proxy.start()
    try:
        make = app_factory(through(postgres_test_url, proxy.port), tmp_path)
        async with make(execution_timeout_seconds=5) as client:
            key = (await access.issue_key(ApiKeyRole.ADMIN, None)).secret
            assert (await post(client, QUERY)).status_code == 200
            assert (await client.get("/readyz")).status_code == 200

            await proxy.cut()
            for headers_key in (None, key):
                down = await asyncio.wait_for(post(client, QUERY, key=headers_key), 15)
                assert down.status_code == 503, down.text
                assert codes(down) == ["SERVICE_UNAVAILABLE"]
                assert down.headers["retry-after"] == "1"
                for leak in ("Traceback", "asyncpg", "SELECT", "Connection refused"):
                    assert leak not in down.text
            assert (await asyncio.wait_for(client.get("/readyz"), 15)).status_code == 503

            await proxy.restore()
            statuses = []
            for _ in range(5):
                statuses.append((await post(client, QUERY, key=key)).status_code)
                if statuses[-1] == 200:
                    break
            assert statuses[-1] == 200, statuses
            assert (await client.get("/readyz")).status_code == 200
    finally:
        await proxy.close()


async def test_database_that_stops_answering_does_not_hang_requests(
    postgres_test_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "DB_STEP_SECONDS", 1.0)
    target = urlparse(postgres_test_url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 5432)
    await proxy.start()
    try:
        make = app_factory(through(postgres_test_url, proxy.port), tmp_path)
        async with make(execution_timeout_seconds=1) as client:
            key = (await access.issue_key(ApiKeyRole.ADMIN, None)).secret
            assert (await post(client, QUERY, key=key)).status_code == 200

            proxy.blackhole = True
            # The key lookup (before execution) is bounded: 503.
            authenticated = await asyncio.wait_for(post(client, QUERY, key=key), 15)
            assert authenticated.status_code == 503
            assert codes(authenticated) == ["SERVICE_UNAVAILABLE"]
            # Anonymous reads go straight to execution, bounded by its time limit.
            anonymous = await asyncio.wait_for(post(client, QUERY), 15)
            assert codes(anonymous) == ["TIMEOUT"]
            assert (await asyncio.wait_for(client.get("/readyz"), 15)).status_code == 503

            await proxy.restore()
            statuses = []
            for _ in range(5):
                statuses.append((await post(client, QUERY, key=key)).status_code)
                if statuses[-1] == 200:
                    break
            assert statuses[-1] == 200, statuses
    finally:
        await proxy.close()
