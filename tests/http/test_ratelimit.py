"""Rate limits in cost points: per key or address, 429 with Retry-After, shared by processes
through Redis, and counted in memory when Redis is away."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests import databases
from tests.conftest import make_key, make_organisation
from tests.http.conftest import AppFactory, codes, post
from tests.http.servers import free_port, issue_admin_key, uvicorn_server
from tests.services import REDIS_URL, need_redis

FOUR_POINTS = "{ organisations(first: 3) { edges { node { slug } } } }"  # 1 + 3


async def test_budget_in_points_then_429(make_client: AppFactory) -> None:
    async with make_client(rate_limit_points=10, rate_limit_window_seconds=60) as client:
        first = await post(client, FOUR_POINTS)
        assert first.status_code == 200
        assert first.headers["ratelimit-limit"] == "10"
        assert first.headers["ratelimit-remaining"] == "6"
        assert first.json()["extensions"]["rateLimit"]["remaining"] == 6
        second = await post(client, FOUR_POINTS)
        assert second.headers["ratelimit-remaining"] == "2"
        refused = await post(client, FOUR_POINTS)
        assert refused.status_code == 429
        assert codes(refused) == ["RATE_LIMITED"]
        assert int(refused.headers["retry-after"]) >= 1
        assert "data" not in refused.json()
        # A refused request spends nothing: a cheaper one still fits.
        cheap = await post(client, "{ organisations(first: 1) { edges { node { slug } } } }")
        assert cheap.status_code == 200
        assert cheap.headers["ratelimit-remaining"] == "0"


async def test_keys_have_their_own_budgets(make_client: AppFactory) -> None:
    async with make_client(rate_limit_points=5) as client:
        org = await make_organisation("budget-org")
        key_a, key_b = await make_key(org), await make_key(org)
        assert (await post(client, FOUR_POINTS, key=key_a)).status_code == 200
        assert (await post(client, FOUR_POINTS, key=key_a)).status_code == 429
        assert (await post(client, FOUR_POINTS, key=key_b)).status_code == 200
        assert (await post(client, FOUR_POINTS)).status_code == 200  # anonymous: by address


async def test_redis_unreachable_degrades_to_memory(
    make_client: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()  # nothing listens there
    async with make_client(redis_url=f"redis://127.0.0.1:{port}/0", rate_limit_points=10) as client:
        for _ in range(2):
            response = await post(client, FOUR_POINTS)
            assert response.status_code == 200
            assert response.json()["data"]["organisations"] is not None
        assert (await post(client, FOUR_POINTS)).status_code == 429
    assert any("Redis unreachable" in record.getMessage() for record in caplog.records)


@pytest.mark.slow
def test_two_processes_share_one_budget_through_redis(tmp_path: Path) -> None:
    need_redis()
    database_url = databases.sqlite_url(tmp_path)
    key = issue_admin_key(database_url)  # a new key: a budget no earlier run has touched
    env = {
        "EXCHANGE_DATABASE_URL": database_url,
        "EXCHANGE_REDIS_URL": REDIS_URL,
        "EXCHANGE_RATE_LIMIT_POINTS": "20",
        "EXCHANGE_RATE_LIMIT_WINDOW_SECONDS": "600",
    }
    headers = {"Authorization": f"Bearer {key}", "Accept": "application/graphql-response+json"}
    with (
        uvicorn_server(env, tmp_path / "a.log") as server_a,
        uvicorn_server(env, tmp_path / "b.log") as server_b,
        httpx.Client(timeout=10) as client,
    ):
        statuses = []
        for i in range(8):
            url = (server_a if i % 2 == 0 else server_b) + "/graphql"
            response = client.post(url, json={"query": FOUR_POINTS}, headers=headers)
            statuses.append(response.status_code)
        # 20 points / 4 per request: five requests in all, whichever process took them.
        assert statuses == [200] * 5 + [429] * 3
