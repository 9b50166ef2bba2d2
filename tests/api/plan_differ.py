"""The differential check of the compiled plan against graphql-core: the same request sent
with ``compiled_execution`` on and off on the same app and data, answers compared as sent
(key order kept, request ids left out), and the plan's statistics checked against what the
case expects (tests/api/plan_corpus.py). Used by test_plan, test_rows, test_node_rows,
test_plan_failures and test_reports."""

from __future__ import annotations

import collections
import json
import uuid
from dataclasses import dataclass
from typing import Any

from exchange.settings import Settings
from schema.engine import plan
from tests.api.plan_corpus import BYPASSED, NOT_COMPILED, PLANNED, Case, World
from tests.conftest import GraphQLClient

STAT_KEYS = (PLANNED, NOT_COMPILED)


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


def report(problems: list[str]) -> str:
    return f"{len(problems)} problem(s):\n" + "\n".join(problems)
