"""Fixtures for the performance tests: the app's database traffic goes through a counter
(bench.pgwire's proxy on PostgreSQL, sqlite3's trace callback on SQLite)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from exchange.settings import Settings
from tests.conftest import make_settings
from tests.perf.sqlcount import CountingProxy, SqlCounter, StatementLog, attach_sqlite


@pytest.fixture
async def statement_log(database_url: str) -> AsyncIterator[tuple[StatementLog, str, CountingProxy | None]]:
    if database_url.startswith("sqlite"):
        yield StatementLog(), database_url, None
        return
    parts = urlparse(database_url)
    async with CountingProxy(parts.hostname or "127.0.0.1", parts.port or 5432) as proxy:
        yield proxy.log, proxy.url_for(database_url), proxy


@pytest.fixture
def settings(statement_log: tuple[StatementLog, str, Any], tmp_path: Path) -> Settings:
    # Page size 50 must be allowed whatever the defaults; the cost limit is not the subject here.
    return make_settings(
        statement_log[1],
        tmp_path,
        page_size_cap=100,
        max_cost=100_000_000,
        run_webhook_worker=False,
        rate_limit_points=10**9,
    )


@pytest.fixture
async def sql(app: Any, statement_log: tuple[StatementLog, str, Any]) -> SqlCounter:
    log, _url, proxy = statement_log
    if proxy is None:
        await attach_sqlite(log)
        return SqlCounter(log, "sqlite")
    return SqlCounter(log, "postgres")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from tests.perf.test_query_counts import NOTES

    if NOTES:
        terminalreporter.section("query counts")
        for note in NOTES:
            terminalreporter.write_line(note)
