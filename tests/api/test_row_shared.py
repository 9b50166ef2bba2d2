"""Shared targets (``ToOne(shared=True)``: organisations): where such a target is joined into
its parents' rows, a request builds each target's object once and the parents share it
(schema.engine.row_builders). The answers are graphql-core's for every caller on both
databases (repeated organisations, nested ones, nulls, two locales one after another); the
builders share within a request and never across requests; a target not declared shared (a
participation's volunteer) is built per row."""

from __future__ import annotations

from typing import Any

from exchange.settings import Settings
from schema.api.relay import encode_id
from schema.engine import plan
from tests.api import plan_fixtures
from tests.api.plan_corpus import ADMIN, EVERYONE, Case, World
from tests.api.plan_differ import Differ, check, report
from tests.api.test_row_slots import root_row_field

settings = plan_fixtures.settings
world = plan_fixtures.world
differ = plan_fixtures.differ

# Organisations under participants (a volunteer's, nested parents), hosts and recordedBy.
REPEATED = """query($locale: LanguageCode) { exchanges(first: 30) { edges { node { slug
    host { id name(locale: $locale) parent { id slug } }
    participants(first: 10) { totalCount edges { node { role
        volunteer { id fullName organisation { id slug name(locale: $locale) parent { slug } } }
        recordedBy { slug } } } } } } } }"""

SHARED = [
    Case(
        "organisations repeated across participants, hosts and their parents",
        REPEATED,
        {"locale": "ru"},
        actors=EVERYONE,
    ),
    Case("the same document in another language right after", REPEATED, {"locale": "kk"}, actors=EVERYONE),
    Case(
        "one organisation selected two ways under one volunteer",
        """{ exchanges(first: 20) { edges { node { participants(first: 5) { edges { node {
            volunteer { a: organisation { id } b: organisation { name slug } } } } } } } } }""",
        actors=EVERYONE,
    ),
]


async def test_shared_targets_answer_as_graphql_core(differ: Differ, world: World) -> None:
    before = plan.STATS["rows"]
    problems = await check(differ, world, SHARED)
    assert not problems, report(problems)
    assert plan.STATS["rows"] > before
    # The data repeats organisations under participants, so sharing is exercised above.
    variables = SHARED[0].variables_for(world)
    answer = await differ.answer(REPEATED, variables, world.keys[ADMIN], {}, True)
    named = [
        edge["node"]["volunteer"]["organisation"]["id"]
        for exchange in answer.body["data"]["exchanges"]["edges"]
        for edge in exchange["node"]["participants"]["edges"]
        if edge["node"]["volunteer"]["organisation"] is not None
    ]
    assert len(named) > len(set(named)) > 1


PARTICIPANTS = """{ exchanges { edges { node { participants(first: 3) { edges { node {
    volunteer { id organisation { id slug } } } } } } } } }"""


def _participant_builders(settings: Settings) -> tuple[Any, Any]:
    rows = root_row_field(PARTICIPANTS, settings)
    (participants,) = rows.root[1].node.children
    node = participants.connection.node
    ((_name, volunteer, _non_null),) = node.joined
    ((_name, organisation, _non_null),) = volunteer.joined
    return rows, node, volunteer, organisation


def test_only_declared_targets_get_a_dict_per_request(settings: Settings) -> None:
    rows, _node, volunteer, organisation = _participant_builders(settings)
    assert volunteer.memo_slot == -1  # volunteers rarely repeat: built per row
    assert organisation.memo_slot >= 0
    assert rows.memos == 1


def test_a_request_builds_each_shared_target_once(settings: Settings) -> None:
    rows, node, _volunteer, organisation = _participant_builders(settings)
    # (parent, 0-based index, total, participation id, volunteer id, organisation id, slug)
    parent_rows = [
        (1, 0, 3, 10, 100, 7, "aral"),
        (1, 1, 3, 11, 101, 7, "aral"),
        (1, 2, 3, 12, 102, None, None),
    ]
    env: list[Any] = [{} for _ in range(organisation.memo_slot + 1)]
    edges = node.levels.whole_page(parent_rows, env, [], [])
    first, second, third = (edge["node"]["volunteer"] for edge in edges)
    assert first["organisation"] == {"id": encode_id("Organisation", 7), "slug": "aral"}
    assert first["organisation"] is second["organisation"]  # one object for the key
    assert first is not second and first["id"] != second["id"]  # volunteers: their own
    assert third["organisation"] is None
    assert list(env[organisation.memo_slot]) == [7]
    # The next request has its own dicts: nothing built for another request is reused.
    later: list[Any] = [{} for _ in range(organisation.memo_slot + 1)]
    again = node.levels.whole_page(parent_rows[:1], later, [], [])
    assert again[0]["node"]["volunteer"]["organisation"] == first["organisation"]
    assert again[0]["node"]["volunteer"]["organisation"] is not first["organisation"]
    assert rows.memos == 1
