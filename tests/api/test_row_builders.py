"""schema.engine.row_builders' page builders: for a connection per parent, the node's ``page``
and ``whole_page`` build the edges (cursor from the row's 0-based index, node) in the loop that
builds the nodes, and ``Connection.build_page`` puts them in the connection's dict as they are.
The answers themselves are compared with graphql-core's in test_rows.py (cursors, windows and
pageInfo of participant pages)."""

from __future__ import annotations

from typing import Any

from exchange.settings import Settings
from schema.api.paging import encode_cursor
from schema.api.relay import encode_id
from tests.api.test_row_slots import root_row_field

QUERY = """{ exchanges { edges { node {
    participants(first: 2) { totalCount edges { cursor node { id } __typename } pageInfo { hasNextPage endCursor } }
} } } }"""


def _participants(settings: Settings) -> Any:
    rows = root_row_field(QUERY, settings)
    (child,) = rows.root[1].node.children
    return child.connection


def test_a_parents_page_builds_its_edges_with_its_nodes(settings: Settings) -> None:
    connection = _participants(settings)
    levels = connection.node.levels
    # (parent, 0-based index, total, then the node's columns: the participation's id)
    rows = [(7, 0, 5, 10), (7, 1, 5, 11)]
    edges = levels.whole_page(rows, [], [], [])
    expected = [
        {
            "cursor": encode_cursor(0),
            "node": {"id": encode_id("Participation", 10)},
            "__typename": "ParticipationEdge",
        },
        {
            "cursor": encode_cursor(1),
            "node": {"id": encode_id("Participation", 11)},
            "__typename": "ParticipationEdge",
        },
    ]
    assert edges == expected
    # A window of the rows (after the first): the cursor is the row's own index.
    assert levels.page(rows, 1, 3, [], [], []) == expected[1:]
    assert connection.build_page(edges, 0, 5) == {
        "totalCount": 5,
        "edges": expected,
        "pageInfo": {"hasNextPage": True, "endCursor": encode_cursor(1)},
    }


def test_the_connection_built_around_nodes_is_the_same(settings: Settings) -> None:
    connection = _participants(settings)
    edges = connection.node.levels.whole_page([(7, 0, 1, 10)], [], [], [])
    nodes = [edge["node"] for edge in edges]
    assert connection.build(nodes, 0, 1) == connection.build_page(edges, 0, 1)
