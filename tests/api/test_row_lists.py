"""Children lists placed by their parents' builders (schema.engine.row_builders, row_run): a
level's parents put this request's list for their key in their dicts as they are built, and the
level below appends to those lists; nothing is placed parent by parent afterwards. The answers
are graphql-core's, for every caller on both databases, wherever the parents come from (a root
page, a lookup, a to-one level, a connection's page)."""

from __future__ import annotations

from collections import defaultdict
from types import SimpleNamespace
from typing import Any

import pytest

from bench.runner import operations as bench_operations
from exchange.settings import Settings
from schema.engine import plan
from schema.engine.row_builders import _placed_list, _row_null
from schema.engine.row_run import Run
from schema.engine.row_shapes import RowNull
from tests.api import plan_fixtures
from tests.api.plan_corpus import ANONYMOUS, EVERYONE, Case, World
from tests.api.plan_differ import Differ, check, report
from tests.api.test_row_slots import root_row_field

settings = plan_fixtures.settings
world = plan_fixtures.world
differ = plan_fixtures.differ

PLACED = [
    Case(
        "the exchanges page of the benchmark",
        bench_operations()["ExchangesPage"],
        {"first": 10},
        actors=EVERYONE,
    ),
    Case(
        "lists below a to-one level and below a connection's page",
        """{ sessions: exchanges(first: 4) { edges { node { sessions { id exchange { slug sessions { id speakers { id } } } } } } }
            paged: exchanges(first: 3) { edges { node { participants(first: 3) { edges { node { role
                exchange { slug partners { slug } sessions { title } } } } } } } } }""",
        actors=EVERYONE,
    ),
    Case(
        "empty lists, and lists shared by parents with the same key",
        """{ exchanges(first: 30) { edges { node { id partners { id } a: sessions { id speakers { id } }
            b: sessions { speakers { fullName } } host { id } } } } }""",
        actors=EVERYONE,
    ),
]


async def test_children_lists_are_placed_by_their_parents(
    differ: Differ, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    placed_afterwards: list[str] = []
    fill_children = Run.fill_children

    async def counted(self: Run, child: Any, *arguments: Any) -> Any:
        placed_afterwards.append(child.key)
        return await fill_children(self, child, *arguments)

    monkeypatch.setattr(Run, "fill_children", counted)
    before = plan.STATS["rows"]
    problems = await check(differ, world, PLACED)
    assert not problems, report(problems)
    assert plan.STATS["rows"] > before
    assert placed_afterwards == []


async def test_a_lookups_lists_are_placed_by_the_object(differ: Differ, world: World) -> None:
    page = await differ.answer(
        "{ exchanges(first: 3) { edges { node { id } } } }", None, world.keys[ANONYMOUS], {}, True
    )
    ids = [edge["node"]["id"] for edge in page.body["data"]["exchanges"]["edges"]]
    cases = [
        Case(
            f"a node with lists {index}",
            """query($id: ID!) { node(id: $id) { id ... on ExperienceExchange { partners { slug }
                sessions { id speakers { fullName } } } } }""",
            {"id": global_id},
            actors=EVERYONE,
        )
        for index, global_id in enumerate(ids)
    ]
    problems = await check(differ, world, cases)
    assert not problems, report(problems)


def test_the_benchmark_page_has_a_dict_of_lists_per_children_field(settings: Settings) -> None:
    rows = root_row_field(bench_operations()["ExchangesPage"], settings)
    # partners, sessions, speakers: after the one locale slot.
    assert rows.lists == 3
    node = rows.root[1].node
    slots = {child.key: child.lists_slot for child in node.children}
    assert slots["partners"] >= 1 and slots["sessions"] >= 1 and slots["participants"] == -1
    (sessions,) = [child for child in node.children if child.key == "sessions"]
    assert sessions.shape.children[0].lists_slot not in slots.values()


def _evaluate(shape_columns: list[str], key_column: str, non_null: bool, row: tuple[Any, ...]) -> Any:
    child = SimpleNamespace(lists_slot=0, key_index=1, key_column=key_column, non_null=non_null)
    expression = _placed_list(SimpleNamespace(columns=shape_columns), child)  # type: ignore[arg-type]
    env: list[Any] = [defaultdict(list)]
    value = eval(expression, {"_row_null": _row_null}, {"env": env, "row": row})
    return value, env[0]


def test_a_parent_without_a_key_has_no_list() -> None:
    # Keyed by a nullable column (not the primary key): no list, or null where none is allowed.
    value, lists = _evaluate(["id", "host_id"], "host_id", False, (7, None))
    assert value is None and not lists
    with pytest.raises(RowNull):
        _evaluate(["id", "host_id"], "host_id", True, (7, None))
    value, lists = _evaluate(["id", "host_id"], "host_id", True, (7, 3))
    assert value == [] and value is lists[3]


def test_a_parent_keyed_by_its_primary_key_always_has_a_list() -> None:
    value, lists = _evaluate(["x", "id"], "x", True, (0, 5))
    assert value == [] and list(lists) == [5]
