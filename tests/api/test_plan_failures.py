"""Errors and partial data produced by the compiled plan itself (schema/engine/plan.py,
schema/engine/failures.py), against graphql-core's for the same failures.

Failures (tests/api/plan_injections.py) are injected into the corpus' documents
(tests/api/plan_corpus.py), at every depth and list position where their field appears. Where
the failure also fails row mode's fetch of the same rows (a batch: ``Injection.rows``), row
mode stays on: the row subtree that meets it must answer as the resolvers do
(schema/engine/execution.py, resolve_instead_of_rows). Each request is answered with compiled
execution on, then off; the bodies must be byte-identical (orjson, request ids and the
cost/rate-limit extensions left out), and the compiled answer must come from one execution:
the plan answered (STATS), and no resolver call or loader key was repeated (each is counted,
and never more than in the same compiled request without the failure)."""

from __future__ import annotations

import asyncio
import collections
import gc
import traceback
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from exchange.settings import Settings
from schema.engine import plan, rows
from tests.api import plan_fixtures
from tests.api.plan_corpus import ANONYMOUS, HAPPY, Case, World
from tests.api.plan_differ import comparable
from tests.api.plan_injections import INJECTIONS, Injection, caller, concerned, injected
from tests.conftest import GraphQLClient
from tests.coroutines import Abandoned, never_awaited, release_abandoned_coroutines


@pytest.fixture(autouse=True)
def rows_back_on() -> Iterator[None]:
    """Each run sets row mode for its injection (``Injection.rows``); on again afterwards."""
    try:
        yield
    finally:
        rows.ENABLED[0] = True


@pytest.fixture(autouse=True)
def collections_scan_this_test_only(world: World) -> Iterator[None]:
    """Each run ends with a full collection (its abandoned coroutines are finalised in its own
    window). Objects older than the test (the imported code, the app, the seeded world; in a
    worker that ran other tests, theirs) are frozen first, so those collections scan only what
    the test made (~500 collections; A/B in one process: 8-16 s a database frozen, 46-111 s not)."""
    with never_awaited([]):  # earlier tests' leftovers, as a first run's collection did
        gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


# The corpus's fixtures, bound by name so that pytest finds them here (see plan_fixtures).
settings = plan_fixtures.settings
world = plan_fixtures.world


# GRAPHQL_CORE_CRASHES: graphql-core itself sometimes gives no answer (the request raises
# CancelledError), depending on timing: a non-null error cancels its sibling tasks
# (gather_with_cancel), and cancelling a task that awaits a DataLoader future cancels that
# future, which other fields of the request await too; their CancelledError escapes the
# execution. The plan cancels nothing a sibling shares and answers these; the comparison
# then uses a run of graphql-core that did answer (up to five tries).


# Same data and the same errors, in another order that graphql-core gives every time (five
# runs): failures in unrelated root fields whose loads reach the same batch after different
# numbers of database round trips. graphql-core adds them as its tasks happen to run (a
# non-null error only after it has been handed up through its gathers, a loop turn each);
# the plan orders them by the round trips above them (schema.engine.failures). Where
# graphql-core's own order varies from run to run, an order it gave in one of five runs counts.
ORDERED_BY_THE_DATABASE = {
    "organisations by id: database away / node: every type through inline fragments [anonymous]",
}
# Two failures that each null the whole data: one error survives, the one graphql-core reaches
# first. On PostgreSQL graphql-core reports the one under exchanges.edges[4] every time, the
# plan the one under edges[2] (document order); why graphql-core's tasks reach edges[4] first
# (something its resolvers wait on there and not under edges[2]) was not established.
ANOTHER_ERROR_SURVIVES = {
    "Invitation.sessions / exchanges, every field of every reachable type [admin]",
}


def same_but_for_order(text: bytes, canonical: bytes) -> bool:
    """The same data and the same errors (each as sent), in another order."""
    ours, theirs = orjson.loads(text), orjson.loads(canonical)
    ours_errors, their_errors = ours.pop("errors", []), theirs.pop("errors", [])
    key = orjson.dumps
    return ours == theirs and sorted(map(key, ours_errors)) == sorted(map(key, their_errors))


def more_errors_under_nulls(text: bytes, canonical: bytes) -> bool:
    """The same data, graphql-core's errors all present, and each further error of ours under a
    position that is null in the data: an error graphql-core dropped because, in its timing,
    the position was nulled before that error was raised (in ours, after)."""
    ours, theirs = orjson.loads(text), orjson.loads(canonical)
    if ours["data"] != theirs["data"] or ours["data"] is None:
        return False
    ours_errors = {orjson.dumps(error) for error in ours.get("errors", [])}
    their_errors = {orjson.dumps(error) for error in theirs.get("errors", [])}
    if not their_errors <= ours_errors:
        return False
    for extra in ours_errors - their_errors:
        value: Any = ours["data"]
        path = orjson.loads(extra)["path"]
        for step in path[:-1]:
            value = value[step]
            if value is None:
                break
        else:
            return False
    return True


def same_data_and_error_count(text: bytes, canonical: bytes) -> bool:
    ours, theirs = orjson.loads(text), orjson.loads(canonical)
    return bool(ours["data"] == theirs["data"] and len(ours["errors"]) == len(theirs["errors"]))


async def answer(
    gql: GraphQLClient,
    settings: Settings,
    case: Case,
    world: World,
    injection: Injection,
    compiled: bool,
    fail: bool = True,
) -> tuple[int, bytes, dict[str, Any], collections.Counter[Any], int]:
    settings.compiled_execution = compiled
    rows.ENABLED[0] = injection.rows
    planned = plan.STATS["planned"]
    left: list[Abandoned] = []
    crashed = False
    with never_awaited(left, origin_depth=64):  # graphql-core's own told apart
        try:
            with injected(injection, fail) as calls:
                response = await gql.post(
                    case.query, case.variables_for(world), key=world.keys[caller(case, injection)]
                )
        except asyncio.CancelledError as crash:
            # graphql-core only: cancelling a task that awaits a DataLoader future cancels the
            # future other fields await too (see GRAPHQL_CORE_CRASHES); nothing is answered.
            assert not compiled
            traceback.clear_frames(crash.__traceback__)
            crashed = True
        finally:
            settings.compiled_execution = True
        for _turn in range(10):  # cancelled tasks end over the next loop turns
            await asyncio.sleep(0)
        release_abandoned_coroutines()  # frees the frames logged tracebacks keep, and collects
    # Coroutines created and never awaited are collected in the window of the run that left
    # them. graphql-core leaves some of its own when it crashes (GRAPHQL_CORE_CRASHES); one of
    # those may still be finalised in the next run's window. The plan must leave none. (The
    # resolvers' coroutines graphql-core cancelled before they started, Volunteer.email and
    # organisation, are closed by schema/engine/unstarted.py.)
    ours = [str(leftover) for leftover in left if not leftover.by_graphql_core]
    assert not (compiled and ours), (
        f"never awaited, in the compiled run of {injection.name} / {case.name}: {ours}"
    )
    if crashed:
        return 0, b"", {}, collections.Counter(), 0
    body = response.json()
    return response.status_code, orjson.dumps(comparable(body)), body, calls, plan.STATS["planned"] - planned


async def test_injected_failures_answer_as_graphql_core_in_one_execution(
    gql: GraphQLClient, settings: Settings, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    problems: list[str] = []
    graphql_core_crashed: list[str] = []
    reordered: list[str] = []
    another_survived: list[str] = []
    matched_a_later_run: list[str] = []
    graphql_core_varies: list[str] = []
    runs = partial = 0
    failed_injections: set[str] = set()
    row_answered: set[str] = set()  # injections met by row mode in some compiled run
    for injection in INJECTIONS:
        cases = [case for case in HAPPY if concerned(case, injection) and not case.errors_expected]
        assert cases, injection.name
        for case in cases:
            label = f"{injection.name} / {case.name} [{caller(case, injection)}]"
            rows_before = plan.STATS["rows"]
            status, text, _body, calls, planned = await answer(gql, settings, case, world, injection, True)
            if plan.STATS["rows"] > rows_before:
                row_answered.add(injection.name)
            for _attempt in range(5):  # graphql-core sometimes crashes here: see GRAPHQL_CORE_CRASHES
                canonical_status, canonical_text, canonical, _calls, _planned = await answer(
                    gql, settings, case, world, injection, False
                )
                if canonical_status:
                    break
                graphql_core_crashed.append(label)
            _status, _text, _body, happy_calls, _planned = await answer(
                gql, settings, case, world, injection, True, fail=False
            )
            runs += 1
            if canonical_status == 0:
                if not (status == 200 and b'"errors"' in text):
                    problems.append(
                        f"{label}: graphql-core crashed, compiled answered {status} {text.decode()}"
                    )
                continue
            if status != canonical_status:
                problems.append(f"{label}: HTTP {status} compiled, {canonical_status} graphql-core")
            if text != canonical_text:
                if same_but_for_order(text, canonical_text):
                    # graphql-core's order here may follow the database's timing: is ours one of
                    # the orders it gives (or does its own order vary from run to run)?
                    seen = {canonical_text}
                    for _again in range(4):
                        again_status, again, _b, _c, _p = await answer(
                            gql, settings, case, world, injection, False
                        )
                        if again_status:  # not a crash
                            seen.add(again)
                    if text in seen:
                        matched_a_later_run.append(label)
                    elif len(seen) > 1:
                        graphql_core_varies.append(label)
                    else:
                        reordered.append(label)
                elif label in ANOTHER_ERROR_SURVIVES and same_data_and_error_count(text, canonical_text):
                    another_survived.append(label)
                elif label in ORDERED_BY_THE_DATABASE and more_errors_under_nulls(text, canonical_text):
                    # Seen under heavy load (CI with the machine shared): graphql-core nulled
                    # `exchange` before the partners' failures arrived and dropped them.
                    another_survived.append(label)
                else:
                    problems.append(
                        f"{label}:\n  compiled:     {text.decode()}\n  graphql-core: {canonical_text.decode()}"
                    )
            if planned != 1:
                problems.append(f"{label}: the plan answered {planned} times")
            # A key whose row fetch failed is asked once more, through the resolvers that
            # answer instead (schema/engine/execution.py, resolve_instead_of_rows).
            repeated = {
                where: count
                for where, count in calls.items()
                if count > (max(happy_calls[where], 1) if injection.rows else happy_calls[where])
            }
            if repeated:
                problems.append(f"{label}: calls {dict(calls)}, without the failure {dict(happy_calls)}")
            if canonical.get("errors"):
                failed_injections.add(injection.name)
                partial += canonical.get("data") is not None
    assert not problems, f"{len(problems)} problem(s) in {runs} runs:\n" + "\n".join(problems)
    assert set(reordered) <= ORDERED_BY_THE_DATABASE, reordered
    print(
        f"{runs} runs; graphql-core crashed in: {dict(collections.Counter(graphql_core_crashed))}; "
        f"byte-identical to another run of graphql-core: {matched_a_later_run}; "
        f"graphql-core's own order varied: {graphql_core_varies}; reordered: {reordered}; "
        f"another error survived: {another_survived}"
    )
    # Every injection did fail something, and some answers kept partial data.
    assert failed_injections == {injection.name for injection in INJECTIONS}, failed_injections
    assert row_answered == {injection.name for injection in INJECTIONS if injection.rows}, row_answered
    assert partial > 0
    caplog.clear()


async def test_the_injected_errors_sit_where_they_happened(
    gql: GraphQLClient, settings: Settings, world: World
) -> None:
    """One answer spelled out: every even exchange's nullable description fails, at its own
    list position, each null alone, its siblings (titles) intact, in document order."""
    query = "{ exchanges { edges { node { slug description title } } } }"
    case = Case("descriptions", query, actors=(ANONYMOUS,))
    injection = INJECTIONS[1]
    _status, text, body, calls, planned = await answer(gql, settings, case, world, injection, True)
    _canonical_status, canonical_text, _canonical, _calls, _planned = await answer(
        gql, settings, case, world, injection, False
    )
    assert text == canonical_text
    assert planned == 1
    edges = body["data"]["exchanges"]["edges"]
    failed = [
        index
        for index, edge in enumerate(edges)
        if edge["node"]["description"] is None and edge["node"]["title"]
    ]
    paths = [error["path"] for error in body["errors"]]
    assert paths, body
    assert paths == sorted(paths, key=lambda path: path[2])
    assert {path[2] for path in paths} <= set(failed)
    assert all(path == ["exchanges", "edges", path[2], "node", "description"] for path in paths)
    assert {error["extensions"]["code"] for error in body["errors"]} == {"INTERNAL_SERVER_ERROR"}
    assert all(edge["node"]["title"] for edge in edges)
    assert calls and max(calls.values()) == 1
