"""Compiled execution (schema/engine/plan.py) against graphql-core: the same requests, answered with
``compiled_execution`` on and off, must give the same ``data`` and ``errors`` — key order
included — on both databases, for anonymous callers, organisation keys and admins.

The documents must actually be answered by the plan (``schema.engine.plan.STATS``), so these
tests cannot pass by leaving them to graphql-core: the happy-path ones and the error ones alike
(the plan answers errors and partial data itself, running the operation once); only
introspection and mutations are never compiled or never planned."""

from __future__ import annotations

import collections
from typing import Any

import pytest

from bench.runner import operations as bench_operations
from exchange.models import ApiKeyRole
from exchange.settings import Settings
from schema.api.relay import encode_id
from tests.api import plan_fixtures
from tests.api.plan_corpus import (
    ERRORS,
    HAPPY,
    PARTIAL_DATA,
    PLANNED,
    UNPLANNED,
    Case,
    World,
)
from tests.api.plan_differ import Differ, check, report
from tests.conftest import make_key
from tests.coroutines import release_abandoned_coroutines
from tests.perf.seed import seed as seed_bench

# The corpus's fixtures, bound by name so that pytest finds them here (see plan_fixtures).
settings = plan_fixtures.settings
world = plan_fixtures.world
differ = plan_fixtures.differ


async def test_happy_path_documents_are_planned_and_match_graphql_core(differ: Differ, world: World) -> None:
    assert len(HAPPY) > 30
    problems = await check(differ, world, HAPPY)
    assert not problems, report(problems)


async def test_error_documents_are_planned_and_match_graphql_core(differ: Differ, world: World) -> None:
    problems = await check(differ, world, ERRORS)
    assert not problems, report(problems)


async def test_introspection_mutations_and_refused_requests_are_not_planned(
    differ: Differ, world: World
) -> None:
    problems = await check(differ, world, UNPLANNED)
    assert not problems, report(problems)


SIBLINGS = Case(
    "two root fields, each with its own SQL",
    """{ a: organisation(slug: "host-a") { slug } b: organisation(slug: "un") { slug } }""",
)


async def test_sibling_root_fields_that_each_query(
    differ: Differ, world: World, settings: Settings, database_url: str, request: pytest.FixtureRequest
) -> None:
    # A deadlock (two sibling queries on SQLite's one connection, once seen) costs 2 s, not 10.
    settings.execution_timeout_seconds = 2.0
    problems = await check(differ, world, [SIBLINGS])
    assert not problems, report(problems)


async def test_an_error_while_siblings_wait_on_the_database(
    differ: Differ, world: World, database_url: str, request: pytest.FixtureRequest
) -> None:
    try:
        problems = await check(differ, world, [PARTIAL_DATA])
    finally:
        release_abandoned_coroutines()
    assert not problems, report(problems)


async def test_answers_depend_on_the_caller(differ: Differ, world: World) -> None:
    """The corpus compares like with like; this checks it also sees what differs between
    callers (drafts, emails), so the comparison is not between empty answers."""
    listing = "{ exchanges { edges { node { slug } } } }"
    one = "query($slug: String!) { exchange(slug: $slug) { slug sessions { speakers { email } } } }"
    seen: dict[str, dict[str, Any]] = {}
    for actor in ("anonymous", "host", "admin"):
        seen[actor] = {}
        for query, variables in ((listing, None), (one, {"slug": "a-draft"})):
            compiled, canonical = await differ.both(query, variables, world.keys[actor])
            assert compiled.text == canonical.text
            assert compiled.stats[PLANNED] == 1
            seen[actor].update(compiled.body["data"])
    slugs = {actor: [e["node"]["slug"] for e in data["exchanges"]["edges"]] for actor, data in seen.items()}
    assert "a-draft" not in slugs["anonymous"]
    assert "a-draft" in slugs["host"]
    assert "b-draft" in slugs["admin"] and "b-draft" not in slugs["host"]
    assert seen["anonymous"]["exchange"] is None
    assert seen["host"]["exchange"]["sessions"][0]["speakers"][0]["email"] == "dana.nurlanova@example.org"
    # People too: hidden participants are left out of the list and its total (exchange.access).
    people = """{ exchange(slug: "aral-open") { participants { totalCount edges { node { volunteer { fullName } } } }
      participantCountsByCountry { country count } } }"""
    shown: dict[str, Any] = {}
    for actor in ("anonymous", "stranger", "host"):
        compiled, canonical = await differ.both(people, None, world.keys[actor])
        assert compiled.text == canonical.text
        assert compiled.stats[PLANNED] == 1
        shown[actor] = compiled.body["data"]["exchange"]
    names = {
        actor: [e["node"]["volunteer"]["fullName"] for e in data["participants"]["edges"]]
        for actor, data in shown.items()
    }
    assert names["anonymous"] == ["Aigerim Bekova", "Anna Schmidt"]
    assert names["stranger"] == ["Aigerim Bekova", "Anna Schmidt", "Dana Nurlanova"]  # B sends Dana
    assert names["host"] == ["Aigerim Bekova", "Timur Rashidov", "Anna Schmidt", "Dana Nurlanova"]
    assert [data["participants"]["totalCount"] for data in shown.values()] == [2, 3, 4]
    # Three people hold a place, all from KZ but Timur: exact for the host, merged for others.
    assert shown["host"]["participantCountsByCountry"] == [
        {"country": "KZ", "count": 2},
        {"country": "UZ", "count": 1},
    ]
    assert shown["anonymous"]["participantCountsByCountry"] == [{"country": None, "count": 3}]


async def test_the_plan_is_reused_and_keyed_by_directive_variables(differ: Differ, world: World) -> None:
    """A document sent again uses its cached plan; other @skip/@include values get their own."""
    query = (
        "query($x: Boolean!) { exchanges(first: 1) { totalCount @include(if: $x) edges { node { slug } } } }"
    )
    answers = []
    for value in (True, False, True, False):
        compiled, canonical = await differ.both(query, {"x": value}, None)
        assert compiled.text == canonical.text
        assert compiled.stats == collections.Counter({PLANNED: 1})
        answers.append(compiled.body["data"]["exchanges"])
    assert "totalCount" in answers[0] and "totalCount" not in answers[1]
    assert answers[0] == answers[2] and answers[1] == answers[3]


BENCH = bench_operations()


async def test_bench_documents_match_and_are_planned(differ: Differ, app: Any) -> None:
    data = await seed_bench()
    key = await make_key(None, ApiKeyRole.ADMIN)
    requests: list[tuple[str, dict[str, Any]]] = [
        ("ExchangesPage", {}),
        ("ExchangesPage", {"first": 7, "locale": "ru"}),
        ("LargeResult", {"first": 100}),
        ("NodeLookup", {"id": encode_id("ExperienceExchange", 1)}),
        ("NodeLookup", {"id": encode_id("Volunteer", 2), "locale": "kk"}),
        ("NodeLookup", {"id": encode_id("Organisation", 3)}),
    ]
    assert data.exchanges
    for name, variables in requests:
        for caller in (None, key):
            compiled, canonical = await differ.both(BENCH[name], variables, caller)
            assert compiled.status == canonical.status == 200
            assert "errors" not in canonical.body, canonical.body
            assert compiled.text == canonical.text, name
            assert compiled.stats == collections.Counter({PLANNED: 1}), (name, compiled.stats)
    edges = (await differ.both(BENCH["LargeResult"], {"first": 100}, None))[0].body["data"]["exchanges"][
        "edges"
    ]
    assert len(edges) == len(data.exchanges)
    assert sum(len(edge["node"]["sessions"]) for edge in edges) > 0
