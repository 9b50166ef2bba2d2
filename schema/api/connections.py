"""The Relay connection types (Connection, Edge, PageInfo) and building one from a page of
nodes or a queryset."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import strawberry

from schema.api.paging import PageArgs, encode_cursor

T = TypeVar("T")


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


def _edge_cursor(root: strawberry.Parent[Any]) -> str:
    return encode_cursor(root.offset)


@strawberry.type
class Edge(Generic[T]):
    # The cursor is encoded only when a query asks for it (most list views never do).
    cursor: str = strawberry.field(resolver=_edge_cursor)
    node: T
    offset: strawberry.Private[int]


@strawberry.type
class Connection(Generic[T]):
    page_info: PageInfo
    edges: list[Edge[T]]
    total_count: int


def build_connection(
    nodes: Sequence[Any], start: int, total: int, wrap: Callable[[Any], Any] | None = None
) -> Connection[Any]:
    end = start + len(nodes)
    if wrap is not None:
        nodes = [wrap(node) for node in nodes]
    edges = [Edge(node=node, offset=offset) for offset, node in enumerate(nodes, start)]
    return Connection(
        page_info=PageInfo(
            has_next_page=end < total,
            has_previous_page=start > 0,
            start_cursor=encode_cursor(start) if edges else None,
            end_cursor=encode_cursor(end - 1) if edges else None,
        ),
        edges=edges,
        total_count=total,
    )


async def paginate_queryset(queryset: Any, args: PageArgs) -> Connection[Any]:
    """A connection over a Tortoise queryset: one COUNT and one page query."""
    total = await queryset.count()
    start, end = args.window(total)
    nodes = await queryset.offset(start).limit(end - start) if end > start else []
    return build_connection(nodes, start, total)


def empty_connection() -> Connection[Any]:
    return build_connection([], 0, 0)
