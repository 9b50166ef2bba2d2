"""``node(id:)`` from rows (schema/engine/lookup.py): a lookup whose id names a type with a row
fetch and whose selection on that type is declared is answered from rows, and the answer is
graphql-core's through the resolvers, byte for byte, for every kind of caller: visible,
hidden (drafts, people the rule hides, sessions of drafts) and unknown objects, and the ids
the resolver refuses (malformed, another type's, a type without a lookup), which stay with the
resolver. Statement counts are in tests/perf/test_query_counts.py (NodeLookup*)."""

from __future__ import annotations

from typing import Any

import pytest

from bench.runner import operations as bench_operations
from schema.api.relay import encode_id
from schema.engine import plan
from tests.api import plan_fixtures
from tests.api.plan_corpus import (
    EVERYONE,
    PLANNED,
    World,
)
from tests.api.plan_differ import Differ
from tests.conftest import GraphQLClient
from tests.databases import on_postgres

PAGE_INFO = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"


def lookup(selection: str) -> str:
    """A document looking one node up by the variable ``$id`` (and ``$l``, a locale, if used)."""
    locale = ", $l: LanguageCode" if "$l" in selection else ""
    return f"query($id: ID!{locale}) {{ node(id: $id) {{ __typename id {selection} }} }}"


# Selections on each row-served type made of declared fields only (row mode serves them; a
# field declared with ``Reads``, e.g. titles or email, runs its resolver).
ORGANISATION_FIELDS = (
    'id slug kind country website name ru: name(locale: "ru") parent { id slug name parent { slug } }'
)
VOLUNTEER_FIELDS = "id fullName country languages skills publicProfile organisation { id slug name }"
PARTICIPATION_FIELDS = f"""id role status hours joinedAt recordedAt recordedBy {{ slug }}
    volunteer {{ {VOLUNTEER_FIELDS} }} exchange {{ id slug status host {{ slug }} }}"""
EXCHANGE = f"""... on ExperienceExchange {{ slug status theme country city startsOn endsOn timeZone capacity
    languages sdgs waitlist title t2: title(locale: $l) description
    host {{ {ORGANISATION_FIELDS} }} partners {{ id slug name }}
    sessions {{ id title(locale: $l) startsAt cancelledAt exchange {{ slug }} speakers {{ id fullName country }} }}
    participants(first: 3) {{ totalCount {PAGE_INFO} edges {{ cursor node {{ {PARTICIPATION_FIELDS} }} }} }} }}"""
SESSION = """... on Session { title(locale: $l) startsAt endsAt format venue onlineUrl language capacity
    cancelledAt exchange { id slug status host { slug } } speakers { id fullName } }"""
PARTICIPATION = f"... on Participation {{ {PARTICIPATION_FIELDS} }}"
VOLUNTEER = f"... on Volunteer {{ {VOLUNTEER_FIELDS} }} ... on ExperienceExchange {{ slug }}"
ORGANISATION = f"... on Organisation {{ {ORGANISATION_FIELDS} }}"
ROW_SELECTIONS = {
    "ExperienceExchange": EXCHANGE,
    "Session": SESSION,
    "Participation": PARTICIPATION,
    "Volunteer": VOLUNTEER,
    "Organisation": ORGANISATION,
}
# World ids by type: visible to everyone, hidden from some callers, unknown.
IDS = {
    "ExperienceExchange": [
        "aral",
        "draft",
        "b-draft",
        "closed",
        "cancelled",
        "completed",
        "missing-exchange",
    ],
    "Session": ["opening", "dropped", "draft-session"],
    "Participation": ["p-aigerim"],
    "Volunteer": ["aigerim", "timur", "anna", "loner"],
    "Organisation": ["un", "unv", "host", "partner", "stranger"],
}


# The corpus's fixtures, bound by name so that pytest finds them here (see plan_fixtures).
settings = plan_fixtures.settings
world = plan_fixtures.world
differ = plan_fixtures.differ


async def compare(
    differ: Differ,
    world: World,
    query: str,
    variables: dict[str, Any],
    actor: str,
    rows: int,
    answered: list[Any] | None = None,
) -> list[str]:
    """Problems of one request: the compiled answer differs from graphql-core's, or the plan
    served ``rows`` fields from rows a different number of times. The compiled answer's body
    is added to ``answered``."""
    before = plan.STATS["rows"]
    compiled = await differ.answer(query, variables, world.keys[actor], {"Accept-Language": "ru"}, True)
    served = plan.STATS["rows"] - before
    canonical = await differ.answer(query, variables, world.keys[actor], {"Accept-Language": "ru"}, False)
    if answered is not None:
        answered.append(compiled.body)
    label = f"{variables} [{actor}]"
    problems = []
    if (compiled.status, compiled.text) != (canonical.status, canonical.text):
        problems.append(
            f"{label}: answers differ\n  compiled: {compiled.text}\n  graphql-core: {canonical.text}"
        )
    if compiled.stats[PLANNED] != 1:
        problems.append(f"{label}: not answered by the plan: {compiled.text[:300]}")
    if served != rows:
        problems.append(f"{label}: {served} fields served from rows, expected {rows}")
    return problems


async def test_lookups_are_row_served_and_match_graphql_core(differ: Differ, world: World) -> None:
    """Every row-served type, objects each caller may or may not see, and unknown ids."""
    problems: list[str] = []
    seen_null = seen_object = 0
    for type_name, names in IDS.items():
        query = lookup(ROW_SELECTIONS[type_name])
        for name in names:
            for actor in EVERYONE:
                variables = {"id": world.ids[name], **({"l": "kk"} if "$l" in query else {})}
                answered: list[Any] = []
                problems += await compare(differ, world, query, variables, actor, rows=1, answered=answered)
                [body] = answered  # the compiled answer (graphql-core's is compared with it)
                assert "errors" not in body, body
                if body["data"]["node"] is None:
                    seen_null += 1
                else:
                    seen_object += 1
    assert not problems, "\n".join(problems)
    # Hidden and unknown objects were asked for, and visible ones.
    assert seen_null >= len(EVERYONE) and seen_object >= len(EVERYONE) * 10


async def test_the_benchmark_lookup_is_row_served(differ: Differ, world: World) -> None:
    document = bench_operations()["NodeLookup"]
    problems: list[str] = []
    for name in ("aral", "draft", "timur", "loner", "missing-exchange"):
        for actor in EVERYONE:
            problems += await compare(
                differ, world, document, {"id": world.ids[name], "locale": "ru"}, actor, 1
            )
    assert not problems, "\n".join(problems)


async def test_ids_the_resolver_refuses_stay_with_it(differ: Differ, world: World) -> None:
    """Malformed ids, ids of types that are no Node or have no row fetch, keys too large:
    the resolver answers (BAD_USER_INPUT, or its own lookup for invitations), as before."""
    query = lookup(
        "... on ExperienceExchange { slug title(locale: $l) host { name } } ... on Volunteer { fullName }"
        " ... on Session { startsAt } ... on Participation { role } ... on Organisation { slug }"
        " ... on Invitation { email }"
    )
    ids = [
        "not-an-id",
        "",
        "!!",
        world.ids["endpoint"],  # a WebhookEndpoint: not a Node type
        world.ids["previewed"],  # an Invitation: resolver only
        world.ids["draft-invitation"],
        encode_id("Nothing", 1),
        encode_id("ExperienceExchange", 2**31),  # beyond the keys decode_id reads
    ]
    problems: list[str] = []
    for global_id in ids:
        for actor in EVERYONE:
            problems += await compare(differ, world, query, {"id": global_id, "l": None}, actor, rows=0)
    assert not problems, "\n".join(problems)


async def test_a_selection_with_an_undeclared_field_uses_the_resolver(differ: Differ, world: World) -> None:
    """seatsLeft declares nothing: an exchange's lookup runs its resolvers; a volunteer's, in
    the same document, is still served from rows."""
    query = lookup("... on ExperienceExchange { slug seatsLeft } ... on Volunteer { fullName }")
    problems: list[str] = []
    for name, rows in (("aral", 0), ("draft", 0), ("timur", 1), ("loner", 1)):
        for actor in EVERYONE:
            problems += await compare(differ, world, query, {"id": world.ids[name]}, actor, rows)
    assert not problems, "\n".join(problems)


async def test_aliased_lookups_and_literal_ids(differ: Differ, world: World) -> None:
    """Several lookups in one document, by variable and by literal, each served alone."""
    query = f"""query($a: ID!, $b: ID!) {{
        a: node(id: $a) {{ id {EXCHANGE.replace("$l", '"en"')} }}
        b: node(id: $b) {{ __typename {VOLUNTEER} }}
        c: node(id: "{world.ids["opening"]}") {{ id {SESSION.replace("$l", '"ru"')} }}
        d: node(id: "{world.ids["draft-session"]}") {{ id ... on Session {{ title }} }}
    }}"""
    problems: list[str] = []
    for actor in EVERYONE:
        variables = {"a": world.ids["draft"], "b": world.ids["loner"]}
        problems += await compare(differ, world, query, variables, actor, rows=4)
    assert not problems, "\n".join(problems)


async def test_a_lookup_whose_fetch_fails_is_answered_by_its_resolver(
    differ: Differ, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lookup's statement failing (here: every row lookup by id refused) leaves the field
    to its resolver in the same execution (schema.engine.execution, resolve_instead_of_rows): the
    answer is graphql-core's, for visible, hidden and unknown objects alike."""
    from tortoise.exceptions import DBConnectionError

    from exchange import lookups

    async def away(*_args: Any, **_kwargs: Any) -> Any:
        raise DBConnectionError("injected: connection refused")

    monkeypatch.setattr(lookups, "rows_by_ids", away)
    problems: list[str] = []
    for name in ("un", "aral", "draft", "loner", "missing-exchange"):
        type_name = next(type_name for type_name, names in IDS.items() if name in names)
        query = lookup(ROW_SELECTIONS[type_name])
        variables = {"id": world.ids[name], **({"l": "kk"} if "$l" in query else {})}
        for actor in EVERYONE:
            problems += await compare(differ, world, query, variables, actor, rows=1)
    assert not problems, "\n".join(problems)


async def test_a_nested_lookup_takes_one_connection(
    gql: GraphQLClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lookup's statement and its levels' go out on one pooled connection
    (Context.reading, as for a RowField): on PostgreSQL one pool acquire instead of one per
    statement, and the same answer."""
    query, variables = lookup(EXCHANGE), {"id": world.ids["aral"], "l": "kk"}
    before = plan.STATS["rows"]
    pinned, taken, through_tortoise = await plan_fixtures.answer_counting(gql, monkeypatch, query, variables)
    assert plan.STATS["rows"] - before == 1
    assert "errors" not in pinned and pinned["data"]["node"]["sessions"], pinned
    unpinned, taken_unpinned, statements = await plan_fixtures.answer_counting_unpinned(
        gql, monkeypatch, query, variables
    )
    assert pinned["data"] == unpinned["data"]
    if not on_postgres():
        return  # SQLite: one connection anyway
    # The exchange with its host and the host's parent joined, the grandparent, partners,
    # sessions (their exchange joined), speakers, participants (their relations joined).
    assert statements == 6
    assert taken_unpinned == statements
    assert (taken, through_tortoise) == (1, 0)
