"""A row-served field sends its levels' statements on one pooled connection (Context.reading,
exchange/pinned.py): on PostgreSQL the benchmark's exchanges page takes one connection from
the pool, not one per statement, and answers exactly what it answers without that; several
row-served fields of one request each take their own (they run side by side)."""

from __future__ import annotations

import pytest

from bench.runner import operations as bench_operations
from schema.engine import plan
from tests.api import plan_fixtures
from tests.api.plan_corpus import ANONYMOUS, World
from tests.conftest import GraphQLClient
from tests.databases import on_postgres

# The corpus's fixtures, bound by name so that pytest finds them here (see plan_fixtures).
settings = plan_fixtures.settings
world = plan_fixtures.world


async def test_the_exchanges_page_takes_one_connection(
    gql: GraphQLClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    query, key = bench_operations()["ExchangesPage"], world.keys[ANONYMOUS]
    pinned, taken, through_tortoise = await plan_fixtures.answer_counting(
        gql, monkeypatch, query, {"first": 5}, key
    )
    assert "errors" not in pinned and pinned["data"]["exchanges"]["edges"], pinned
    unpinned, taken_unpinned, statements = await plan_fixtures.answer_counting_unpinned(
        gql, monkeypatch, query, {"first": 5}, key
    )
    assert pinned["data"] == unpinned["data"]
    if not on_postgres():
        return  # SQLite: one connection anyway
    assert statements >= 4  # the page, partners, sessions, speakers, participants: one each
    assert taken_unpinned == statements
    assert taken == 1
    assert through_tortoise == 0


async def test_row_served_fields_side_by_side_do_not_share(
    gql: GraphQLClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Row-served fields run side by side with resolver-served ones: each row field's
    connection stays its own (asyncpg refuses two statements at once on one connection)."""
    query = """query($first: Int) {
        a: exchanges(first: $first) { edges { node { slug sessions { id speakers { id } } } } }
        b: exchanges(last: $first) { totalCount edges { node { slug partners { slug } } } }
        c: exchanges(first: $first) { edges { node { participants(first: 2) { totalCount } } } }
        organisations(first: 3) { edges { node { slug } } } }"""
    before = plan.STATS["rows"]
    key = world.keys[ANONYMOUS]
    pinned, taken, _ = await plan_fixtures.answer_counting(gql, monkeypatch, query, {"first": 5}, key)
    assert plan.STATS["rows"] - before >= 2  # a and b (c and organisations run through resolvers)
    unpinned, taken_unpinned, _ = await plan_fixtures.answer_counting_unpinned(
        gql, monkeypatch, query, {"first": 5}, key
    )
    assert "errors" not in pinned, pinned
    assert all(pinned["data"][name]["edges"] for name in "abc")
    assert pinned["data"] == unpinned["data"]
    if on_postgres():
        assert taken < taken_unpinned
