"""bench.bare: ours' engine behind a bare handler answers the benchmark's documents with ours'
data (its measurement takes minutes under valgrind: run by hand, bench/RESULTS.md, session 12)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bench.bare import BARE, create_app
from bench.runner import operations
from bench.servers import ASYNCPG
from exchange.settings import Settings
from tests.conftest import GraphQLClient
from tests.perf.seed import seed


async def test_the_bare_handler_answers_the_benchmark_as_ours_does(
    gql: GraphQLClient, settings: Settings
) -> None:
    await seed()
    documents = operations()
    page = await gql(documents["ExchangesPage"], {"first": 10})
    assert "errors" not in page and len(page["data"]["exchanges"]["edges"]) == 10
    node_id = page["data"]["exchanges"]["edges"][3]["node"]["id"]
    asked: list[tuple[str, dict[str, Any]]] = [
        ("ExchangesPage", {"first": 10}),
        ("LargeResult", {"first": 50}),
        ("NodeLookup", {"id": node_id}),
    ]
    # The database is the one ours' test app started (no second lifespan).
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for name, variables in asked:
            ours = await gql(documents[name], variables)
            answered = await client.post("/graphql", json={"query": documents[name], "variables": variables})
            assert answered.status_code == 200, answered.text
            assert answered.json() == {"data": ours["data"]}, name
            assert "x-request-id" not in answered.headers  # no middleware: nothing but the engine
        with pytest.raises(RuntimeError, match="compiled plan"):
            await client.post("/graphql", json={"query": "mutation { __typename }"})


def test_the_bare_handler_starts_where_the_baselines_start() -> None:
    assert "bench.bare:create_app" in BARE.argv(8000)
    assert [part for part in BARE.argv(8000) if "create_app" not in part] == [
        part for part in ASYNCPG.argv(8000) if "create_app" not in part
    ]
    assert not BARE.is_ours
