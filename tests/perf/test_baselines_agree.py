"""The benchmark's baselines answer its documents exactly as this server does, under the same
visibility rules (anonymous callers: published exchanges, participants with a public
profile, speakers of published sessions), on the benchmark's own kind of data. Checked by
calling the baselines' code directly; nothing is measured (see tests/perf/test_bench_smoke.py
for the whole benchmark)."""

from __future__ import annotations

import importlib
import warnings
from typing import Any

import asyncpg
import pytest

from bench import baseline_asyncpg
from bench.runner import operations
from exchange import models
from schema.api.relay import encode_id
from tests.conftest import GraphQLClient
from tests.perf.seed import seed

DOCUMENTS = operations()


async def test_baselines_answer_as_we_do(gql: GraphQLClient, database_url: str) -> None:
    if not database_url.startswith("postgres"):
        pytest.skip("the hand-written baseline speaks asyncpg to PostgreSQL")
    with warnings.catch_warnings():
        # The naive baseline declares its scalars the way Strawberry now deprecates.
        warnings.simplefilter("ignore", DeprecationWarning)
        baseline_naive = importlib.import_module("bench.baseline_naive")
    data = await seed()
    hidden = await models.Volunteer.filter(public_profile=False).count()
    assert 0 < hidden < len(data.volunteers), "the data set must hold both kinds of people"

    async def ours(name: str, variables: dict[str, Any]) -> Any:
        result = await gql(DOCUMENTS[name], variables)
        assert "errors" not in result, result
        return result["data"]

    async def naive(name: str, variables: dict[str, Any]) -> Any:
        result = await baseline_naive.schema.execute(
            DOCUMENTS[name], variable_values=variables, operation_name=name
        )
        assert result.errors is None, result.errors
        return result.data

    connection = await asyncpg.connect(database_url)
    try:
        await baseline_asyncpg._init(connection)
        for first, locale in ((20, "en"), (7, "ru")):
            variables = {"first": first, "locale": locale}
            expected = await ours("ExchangesPage", variables)
            # Some participants are hidden: the totals count only those listed.
            pages = {
                edge["node"]["id"]: edge["node"]["participants"] for edge in expected["exchanges"]["edges"]
            }
            assert len(pages) == first and any(page["edges"] for page in pages.values())
            stored = sum(1 for row in data.participations if encode_id("ExperienceExchange", row[5]) in pages)
            assert 0 < sum(page["totalCount"] for page in pages.values()) < stored
            hand_written = await baseline_asyncpg.exchanges_page(connection, first, locale)
            assert hand_written == {"data": expected}
            assert await naive("ExchangesPage", variables) == expected
        large = await ours("LargeResult", {"first": 40})
        assert await baseline_asyncpg.large_result(connection, 40, "en") == {"data": large}
        assert await naive("LargeResult", {"first": 40}) == large
        found = 0
        for pk in range(1, len(data.volunteers) + 1):
            variables = {"id": encode_id("Volunteer", pk)}
            expected = await ours("NodeLookup", variables)
            assert await naive("NodeLookup", variables) == expected
            assert await baseline_asyncpg.node_lookup(connection, variables["id"], "en") == {"data": expected}
            found += expected["node"] is not None
        for pk in range(1, 4):
            variables = {"id": encode_id("ExperienceExchange", pk)}
            expected = await ours("NodeLookup", variables)
            assert await baseline_asyncpg.node_lookup(connection, variables["id"], "en") == {"data": expected}
    finally:
        await connection.close()
    # Most are seen (public profiles, speakers of published sessions); some are not.
    assert 0 < found < len(data.volunteers)
