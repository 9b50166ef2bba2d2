"""The server's answers to reads (the compiled plan, schema/engine/plan.py, through the real
ASGI app) against graphql-core's for the same request, byte for byte, errors included: for
every role of tests/engine/world.py, on SQLite and PostgreSQL, for tests/api/plan_corpus.py's
documents and for documents generated over the whole schema (tests/engine/queries.py).

The generated run is bounded (fixed seed, ``EXAMPLES`` documents, each sent for all six
roles); ``-m deep`` runs ``DEEP_EXAMPLES`` with a fresh seed each time (README: Tests)."""

from __future__ import annotations

import os
from typing import Any

import pytest
from graphql import GraphQLInterfaceType, GraphQLObjectType, get_named_type
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from schema.build import default_schema
from schema.transport import execution
from tests.api import plan_corpus
from tests.engine import world as engine_world
from tests.engine.differential import FALLBACK, PLANNED, Difference, Differential, Request
from tests.engine.queries import read_requests
from tests.engine.world import ROLES, Catalogue, EngineWorld

SCHEMA = default_schema()._schema
EXAMPLES = 40
DEEP_EXAMPLES = int(os.environ.get("EXCHANGE_DEEP_EXAMPLES", "2000"))

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
    assert not found, report(found)
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


def generated(examples: int, deep: bool = False) -> Any:
    """The generated test, bounded: derandomized by default, a fresh seed when deep."""
    chosen = settings(
        HYPOTHESIS,
        max_examples=examples,
        derandomize=not deep,
        # A failure is reported as found: shrinking replays each candidate for six roles.
        phases=[Phase.explicit, Phase.reuse, Phase.generate, *([Phase.shrink] if deep else [])],
    )

    async def run(differential: Differential, world: EngineWorld, data: st.DataObject) -> None:
        request = data.draw(read_requests(SCHEMA, world.catalogue), label="request")
        found = await differences_for_every_role(differential, world, request)
        assert not found, report(found)

    return chosen(given(data=st.data())(run))


test_generated_reads_match_graphql_core_for_every_role = seed(14)(generated(EXAMPLES))
test_generated_reads_match_graphql_core_for_every_role.__doc__ = (
    "Generated documents (fixed seed), each sent for all six roles."
)
test_deep_generated_reads = pytest.mark.deep(generated(DEEP_EXAMPLES, deep=True))


# ---------------------------------------------------------------- the generator itself


def sample(count: int, seen: set[str]) -> list[Request]:
    """The documents of a bounded run (the same seed and settings, made-up ids)."""
    ids = {name: [f"id-{name}-{n}" for n in range(3)] for name in engine_world.NODE_MODELS}
    catalogue = Catalogue(ids, ["aral-open"], ["host-a"], ["token"], ["endpoint"])
    drawn: list[Request] = []

    @seed(14)
    @settings(HYPOTHESIS, max_examples=count, derandomize=True, phases=[Phase.generate])
    @given(read_requests(SCHEMA, catalogue, seen))
    def collect(request: Request) -> None:
        drawn.append(request)

    collect()
    return drawn


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
    drawn = sample(EXAMPLES, seen)
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
