"""The server's answers to reads (the compiled plan, schema/engine/plan.py, through the real
ASGI app) against graphql-core's for the same request, byte for byte, errors included: for
every role of tests/engine/world.py, on SQLite and PostgreSQL, for tests/api/plan_corpus.py's
documents and for documents generated over the whole schema (tests/engine/queries.py).

The generated run is bounded (fixed seed, ``EXAMPLES`` documents, each sent for all six
roles); ``-m deep`` draws batches with new seeds for ``EXCHANGE_DEEP_SECONDS`` per database
(README: Tests)."""

from __future__ import annotations

import os
import random
import time
from pathlib import Path
from typing import Any

import pytest
from graphql import GraphQLInterfaceType, GraphQLObjectType, get_named_type
from hypothesis import HealthCheck, Phase, given, seed, settings

from schema.build import default_schema
from schema.transport import execution
from tests.api import plan_corpus
from tests.engine import world as engine_world
from tests.engine.differential import (
    ERROR_ORDER,
    FALLBACK,
    PLANNED,
    Difference,
    Differential,
    Request,
)
from tests.engine.queries import read_requests
from tests.engine.world import ROLES, Catalogue, EngineWorld

SCHEMA = default_schema()._schema
EXAMPLES = 40
SEED = 14
DEEP_SECONDS = float(os.environ.get("EXCHANGE_DEEP_SECONDS", "300"))
DEEP_BATCH = 25

HYPOTHESIS = settings(
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.large_base_example,
        HealthCheck.data_too_large,
    ],
)


async def differences_for_every_role(
    differential: Differential, world: EngineWorld, request: Request
) -> list[Difference]:
    found = []
    for role in ROLES:
        difference = await differential.compare(request, role, world.keys[role])
        if difference is not None:
            found.append(difference)
    return found


def report(differences: list[Difference]) -> str:
    return f"{len(differences)} difference(s):\n\n" + "\n\n".join(map(str, differences))


# Kinds of difference (Difference.kind) that mark a run xfail, every instance listed, instead
# of failing it; any other difference fails. Sibling fields' errors: where graphql-core's
# order follows the database's timing it gives several orders, and the plan's may be one it
# did not give in the 1 + REFERENCE_RETRIES runs (seen: organisation A's key, { e1:
# exchange(slug: "aral-open") { sessions { id } participants(after: "bad") { totalCount } }
# e2: exchange(slug: "a-draft") { participants(after: "zz") { totalCount } } }, e1's error
# first from the plan, e2's first from graphql-core 7 times running, e1's at other times).
# Add a kind here, with the bug's line, only while the engine has that bug.
UNDECIDED = {ERROR_ORDER: "the same errors in another order; graphql-core's order depends on timing here"}


def judge(differential: Differential, found: list[Difference]) -> None:
    unknown = [difference for difference in found if difference.kind not in UNDECIDED]
    assert not unknown, report(unknown)
    abandoned = differential.abandoned
    assert not abandoned, f"{len(abandoned)} served run(s) left coroutines never awaited:\n\n" + "\n\n".join(
        abandoned[:10]
    )
    if differential.abandoned_by_graphql_core:
        # graphql-core's own runs (seen once in a deep run): reported, not the engine's fault.
        print(
            f"graphql-core left coroutines never awaited in {len(differential.abandoned_by_graphql_core)} run(s)"
        )
    if found:
        pytest.xfail("undecided differences only:\n" + report(found))


async def test_corpus_reads_match_graphql_core_for_every_role(
    differential: Differential, world: EngineWorld
) -> None:
    """tests/api/test_plan.py's read documents, each for all six roles (the corpus names
    one or a few), with identical request ids so masked errors compare too."""
    reads = [
        case
        for case in plan_corpus.HAPPY + plan_corpus.ERRORS
        if not case.query.lstrip().startswith("mutation")
    ]
    assert len(reads) > 40
    found: list[Difference] = []
    for case in reads:
        request = Request(case.query, case.variables_for(world.corpus), tuple(case.headers.items()))
        found += await differences_for_every_role(differential, world, request)
    judge(differential, found)
    # The plan answered most of them itself (a check that always fell back would prove nothing).
    assert differential.paths[PLANNED] > differential.paths[FALLBACK], differential.paths


async def test_the_check_sees_a_difference(
    differential: Differential, world: EngineWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    request = Request('{ exchange(slug: "aral-open") { slug title } }')
    assert await differential.compare(request, "anonymous", None) is None
    assert differential.paths[PLANNED] == 1

    real_run_plan = execution.run_plan

    async def wrong_title(*args: Any) -> execution.Outcome | None:
        outcome = await real_run_plan(*args)
        assert outcome is not None
        outcome.body["data"]["exchange"]["title"] = "Not the Aral Sea"
        return outcome

    monkeypatch.setattr("schema.transport.http.run_plan", wrong_title)
    difference = await differential.compare(request, "anonymous", None)
    assert difference is not None
    assert b"Not the Aral Sea" in difference.served.body
    assert "Арал теңізі".encode() in difference.graphql_core.body
    assert "aral-open" in str(difference)


def draw_requests(
    catalogue: Catalogue, count: int, seed_value: int, seen: set[str] | None = None
) -> list[Request]:
    """``count`` documents drawn by the generator from this seed (the same every time).
    Drawn before they are sent: every difference of a run is reported, not only the first
    (the reproducer is the document as drawn; hypothesis does not shrink it)."""
    drawn: list[Request] = []

    @seed(seed_value)
    @settings(HYPOTHESIS, max_examples=count, phases=[Phase.generate])
    @given(read_requests(SCHEMA, catalogue, seen))
    def collect(request: Request) -> None:
        drawn.append(request)

    collect()
    return drawn


async def test_generated_reads_match_graphql_core_for_every_role(
    differential: Differential, world: EngineWorld
) -> None:
    """``EXAMPLES`` generated documents (fixed seed), each sent for all six roles."""
    found: list[Difference] = []
    for request in draw_requests(world.catalogue, EXAMPLES, SEED):
        found += await differences_for_every_role(differential, world, request)
    assert differential.paths[PLANNED] > EXAMPLES, differential.paths
    judge(differential, found)


def write_report(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


@pytest.mark.deep
async def test_deep_generated_reads(differential: Differential, world: EngineWorld) -> None:
    """Batches of generated documents, a new seed each, for ``EXCHANGE_DEEP_SECONDS``; the
    seeds are printed, and every difference is written to ``EXCHANGE_DEEP_REPORT`` if set."""
    first_seed = int(os.environ.get("EXCHANGE_DEEP_SEED") or random.randrange(2**32))
    stop = time.monotonic() + DEEP_SECONDS
    found: list[Difference] = []
    batch, examples = 0, 0
    while time.monotonic() < stop:
        for request in draw_requests(world.catalogue, DEEP_BATCH, first_seed + batch):
            found += await differences_for_every_role(differential, world, request)
            examples += 1
        batch += 1
        print(
            f"seeds {first_seed}..{first_seed + batch - 1}: {examples} documents, "
            f"{len(found)} difference(s), coroutines never awaited in {len(differential.abandoned)} served "
            f"runs and {len(differential.abandoned_by_graphql_core)} graphql-core runs, "
            f"served runs {dict(differential.paths)}",
            flush=True,
        )
    if os.environ.get("EXCHANGE_DEEP_REPORT"):
        abandoned = "\n\n".join(differential.abandoned)
        by_graphql_core = "\n\n".join(differential.abandoned_by_graphql_core)
        write_report(
            Path(os.environ["EXCHANGE_DEEP_REPORT"]),
            f"{report(found)}\n\nabandoned:\n{abandoned}\n\nabandoned by graphql-core:\n{by_graphql_core}",
        )
    judge(differential, found[:30])


# Found by the generator and reduced by hand: when a field's error nulls its parent,
# graphql-core keeps the errors raised before it, in the order raised, and drops later ones;
# the plan reported them by (round, document order) before 614c1f7. (The fourth kind found,
# sibling errors in another order, depends on timing: see UNDECIDED.)
ERROR_CHOICES = [
    # errors raised before the nulling one were missing
    ("anonymous", '{ a: volunteers { totalCount } b: node(id: "bad") { id } }'),
    # errors raised after it were kept
    (
        "anonymous",
        '{ a: organisation(slug: "host-a") { statistics(filter: {sdgs: [0]}) { exchangeCount } }'
        ' b: webhookEndpoints(organisationId: "T3JnYW5pc2F0aW9uOjI") { id } }',
    ),
    # data null: the first failure in document order was reported, not the first raised
    (
        "stranger",
        '{ a: webhookDeliveries(endpointId: "V2ViaG9va0VuZHBvaW50OjI") { totalCount }'
        ' b: webhookEndpoints(organisationId: "T3JnYW5pc2F0aW9uOjQ") { id } }',
    ),
]


async def test_which_errors_survive_a_nulled_parent(differential: Differential, world: EngineWorld) -> None:
    found = []
    for role, query in ERROR_CHOICES:
        answer = await differential.compare(Request(query), role, world.keys[role])
        if answer is not None:
            found.append(answer)
    assert not found, report(found)
    assert differential.paths[PLANNED] == len(ERROR_CHOICES), differential.paths


# Row-mode bugs the deep run found (seeds 6000 and 7000, after 6e58524), reduced by hand; fixed
# in schema/engine/rows.py (a connection without a node, or with two pageInfo keys, is left to
# its resolver), checked for every role on both databases.
ROW_MODE_REGRESSIONS = [
    # The root connection read no rows when no edge selected its node: edges empty, cursors
    # null, hasNextPage true.
    pytest.param("{ exchanges { edges { cursor } } }", id="edges-without-node"),
    pytest.param(
        "{ exchanges(first: 2) { totalCount pageInfo { hasNextPage startCursor endCursor } } }",
        id="page-info-without-edges",
    ),
    # Two aliases of pageInfo: each answered the union of both selections.
    pytest.param(
        "{ exchanges { pageInfo { hasNextPage } p2: pageInfo { endCursor } edges { node { slug } } } }",
        id="aliased-page-infos-merged",
    ),
]


@pytest.mark.parametrize("query", ROW_MODE_REGRESSIONS)
async def test_row_mode_regressions(differential: Differential, world: EngineWorld, query: str) -> None:
    found = await differences_for_every_role(differential, world, Request(query))
    assert not found, report(found)


# ---------------------------------------------------------------- the generator itself


def reachable_fields() -> set[str]:
    """Type.field of every field of every object type reachable from Query."""
    found: set[str] = set()
    query_type = SCHEMA.query_type
    assert query_type is not None
    todo: list[Any] = [query_type]
    done: set[str] = set()
    while todo:
        type_ = todo.pop()
        if type_.name in done:
            continue
        done.add(type_.name)
        if isinstance(type_, GraphQLInterfaceType):
            todo.extend(SCHEMA.get_possible_types(type_))
            continue
        for name, field_ in type_.fields.items():
            found.add(f"{type_.name}.{name}")
            named = get_named_type(field_.type)
            if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
                todo.append(named)
    return found


def test_the_generator_covers_the_schema_and_the_language() -> None:
    """The bounded run's documents select every root field, most object types reachable from
    Query and most of their fields, with each GraphQL feature the engine must handle."""
    seen: set[str] = set()
    ids = {name: [f"id-{name}-{n}" for n in range(3)] for name in engine_world.NODE_MODELS}
    catalogue = Catalogue(ids, ["aral-open"], ["host-a"], ["token"], ["endpoint"])
    drawn = draw_requests(catalogue, EXAMPLES, SEED, seen)
    text = "\n".join(request.query for request in drawn)
    reachable = reachable_fields()
    assert seen <= reachable, seen - reachable
    roots = {name for name in reachable if name.startswith("Query.")}
    assert roots <= seen, roots - seen
    # Forty documents reach most types and fields; the deep run reaches the rest.
    types = {name.split(".")[0] for name in reachable}
    missed = types - {name.split(".")[0] for name in seen}
    assert len(missed) <= 0.2 * len(types), sorted(missed)
    assert len(seen) >= 0.55 * len(reachable), (len(seen), len(reachable), sorted(reachable - seen))
    features = {
        "a named fragment": "fragment F",
        "an inline fragment on a Node type": "... on ExperienceExchange",
        "an inline fragment without a type": "... {",
        "an alias": ": ",
        "@skip with a variable": "@skip(if: $",
        "@include with a variable": "@include(if: $",
        "a variable's default": "Boolean = ",
        "first": "first: ",
        "last": "last: ",
        "after": "after: ",
        "a locale": "locale: ",
        "a filter": "filter: {",
        "node by id": "node(id: ",
        "__typename": "__typename",
    }
    absent = [name for name, marker in features.items() if marker not in text]
    assert not absent, absent
    assert any(request.variables for request in drawn)
    assert any(request.headers for request in drawn)
