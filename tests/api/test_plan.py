"""Compiled execution (schema/engine/plan.py) against graphql-core: the same requests, answered with
``compiled_execution`` on and off, must give the same ``data`` and ``errors`` — key order
included — on both databases, for anonymous callers, organisation keys and admins.

The documents must actually be answered by the plan (``schema.engine.plan.STATS``), so these
tests cannot pass by leaving them to graphql-core: the happy-path ones and the error ones alike
(the plan answers errors and partial data itself, running the operation once); only
introspection and mutations are never compiled or never planned."""

from __future__ import annotations

import collections
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from bench.runner import operations as bench_operations
from exchange.models import ApiKeyRole
from exchange.settings import Settings
from schema.api.relay import encode_id
from schema.engine import plan
from tests.api import plan_fixtures
from tests.api.plan_corpus import (
    BYPASSED,
    ERRORS,
    HAPPY,
    NOT_COMPILED,
    PARTIAL_DATA,
    PLANNED,
    UNPLANNED,
    Case,
    World,
)
from tests.conftest import GraphQLClient, make_key
from tests.coroutines import release_abandoned_coroutines
from tests.perf.seed import seed as seed_bench

STAT_KEYS = (PLANNED, NOT_COMPILED)

# The corpus's fixtures, bound by name so that pytest finds them here (see plan_fixtures).
settings = plan_fixtures.settings
world = plan_fixtures.world


def comparable(body: dict[str, Any]) -> dict[str, Any]:
    """``data`` and ``errors`` as sent (order kept), without the random request ids; the
    top-level ``extensions`` (cost, rate limit) are left out."""
    kept: dict[str, Any] = {}
    for key, value in body.items():
        if key == "extensions":
            continue
        if key == "errors":
            value = [_without_request_id(error) for error in value]
        kept[key] = value
    return kept


def _without_request_id(error: dict[str, Any]) -> dict[str, Any]:
    error = dict(error)
    if isinstance(error.get("extensions"), dict):
        error["extensions"] = {k: v for k, v in error["extensions"].items() if k != "requestId"}
    return error


@dataclass
class Answer:
    status: int
    text: str  # the comparable body as JSON, key order kept
    body: dict[str, Any]
    stats: collections.Counter[str]


@dataclass
class Differ:
    """Sends a request with compiled execution on, then off, on the same app and data."""

    gql: GraphQLClient
    settings: Settings

    async def answer(
        self,
        query: str,
        variables: dict[str, Any] | None,
        key: str | None,
        headers: dict[str, str],
        compiled: bool,
    ) -> Answer:
        saved = self.settings.compiled_execution
        self.settings.compiled_execution = compiled
        before = collections.Counter(plan.STATS)
        try:
            response = await self.gql.post(query, variables, key=key, headers=headers)
        finally:
            self.settings.compiled_execution = saved
        stats = collections.Counter({k: plan.STATS[k] - before[k] for k in STAT_KEYS})
        body = response.json()
        assert isinstance(body, dict), response.text
        return Answer(response.status_code, json.dumps(comparable(body), ensure_ascii=False), body, stats)

    async def both(
        self,
        query: str,
        variables: dict[str, Any] | None,
        key: str | None,
        headers: dict[str, str] | None = None,
    ) -> tuple[Answer, Answer]:
        compiled = await self.answer(query, variables, key, headers or {}, compiled=True)
        canonical = await self.answer(query, variables, key, headers or {}, compiled=False)
        assert sum(canonical.stats.values()) == 0, "graphql-core's run touched the plan"
        return compiled, canonical


@pytest.fixture
def differ(gql: GraphQLClient, settings: Settings) -> Iterator[Differ]:
    assert settings.compiled_execution is True  # the default
    yield Differ(gql, settings)
    assert settings.compiled_execution is True  # restored after every request


async def check(differ: Differ, world: World, cases: list[Case]) -> list[str]:
    """Runs every case for each of its actors; returns the problems found (empty: all good)."""
    problems: list[str] = []
    not_compiled_seen: set[str] = set()
    # Prepared documents (and their plans) are cached by text for the whole process: a fresh
    # text makes the plan's refusal of this document count in STATS here.
    fresh = f"\n# {uuid.uuid4()}\n"
    for case in cases:
        query = case.query + fresh if case.expect == NOT_COMPILED else case.query
        for actor in case.actors:
            label = f"{case.name} [{actor}]"
            compiled, canonical = await differ.both(
                query, case.variables_for(world), world.keys[actor], case.headers
            )
            if compiled.status != canonical.status:
                problems.append(f"{label}: HTTP {compiled.status} compiled, {canonical.status} graphql-core")
            if compiled.text != canonical.text:
                problems.append(
                    f"{label}: answers differ\n  compiled: {compiled.text}\n  graphql-core: {canonical.text}"
                )
            has_errors = bool(canonical.body.get("errors"))
            stats = compiled.stats
            if case.expect == PLANNED:
                if has_errors != case.errors_expected:
                    problems.append(
                        f"{label}: errors {canonical.body.get('errors')}, expected: {case.errors_expected}"
                    )
                if canonical.body.get("data") is None and not case.errors_expected:
                    problems.append(f"{label}: no data")
                wanted = {PLANNED: 1, NOT_COMPILED: 0}
            elif case.expect == NOT_COMPILED:
                # A document refused once is remembered with the prepared document: counted once.
                first = case.query not in not_compiled_seen
                not_compiled_seen.add(case.query)
                wanted = {PLANNED: 0, NOT_COMPILED: 1 if first else 0}
                if canonical.body.get("data") is None:
                    problems.append(f"{label}: no data")
            else:
                assert case.expect == BYPASSED, case.expect
                if not has_errors:
                    problems.append(f"{label}: expected an error answer")
                wanted = {PLANNED: 0, NOT_COMPILED: 0}
            if dict(stats) != wanted:
                problems.append(f"{label}: plan statistics {dict(stats)}, expected {wanted}")
    return problems


def _report(problems: list[str]) -> str:
    return f"{len(problems)} problem(s):\n" + "\n".join(problems)


def runnable(cases: list[Case], database_url: str) -> list[Case]:
    """The cases to run on this backend (all of them: documents whose root fields each send
    SQL once deadlocked the plan on SQLite; see test_sibling_root_fields_that_each_query)."""
    return cases


def is_sqlite(database_url: str) -> bool:
    return database_url.startswith("sqlite")


async def test_happy_path_documents_are_planned_and_match_graphql_core(
    differ: Differ, world: World, database_url: str
) -> None:
    cases = runnable(HAPPY, database_url)
    assert len(cases) > 30
    problems = await check(differ, world, cases)
    assert not problems, _report(problems)


async def test_error_documents_are_planned_and_match_graphql_core(
    differ: Differ, world: World, database_url: str
) -> None:
    problems = await check(differ, world, runnable(ERRORS, database_url))
    assert not problems, _report(problems)


async def test_introspection_mutations_and_refused_requests_are_not_planned(
    differ: Differ, world: World
) -> None:
    problems = await check(differ, world, UNPLANNED)
    assert not problems, _report(problems)


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
    assert not problems, _report(problems)


async def test_an_error_while_siblings_wait_on_the_database(
    differ: Differ, world: World, database_url: str, request: pytest.FixtureRequest
) -> None:
    try:
        problems = await check(differ, world, [PARTIAL_DATA])
    finally:
        release_abandoned_coroutines()
    assert not problems, _report(problems)


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
