"""Row mode's compiled shapes (schema.engine.rows): a selection on an object type served
from rows (its columns, fields, joined to-one relations and next-level children), a
and a connection's selection (a field's arguments: schema.engine.arguments)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from graphql import (
    FieldNode,
    GraphQLField,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    SelectionSetNode,
)
from strawberry.types.field import StrawberryField
from tortoise.models import Model

from schema.engine.arguments import Arguments
from schema.engine.declarations import ChildPage, Children, Declaration, Projection, ToOne, declaration_of
from schema.engine.fastpath import BACKREF

PAGING_ARGUMENTS = frozenset({"first", "after", "last", "before"})


class RowNull(Exception):
    """A null where the schema allows none: graphql-core's answer (an error) is needed."""


class Collecting(Protocol):
    """What row mode needs of the compiled operation (schema.engine.compiling.OperationPlan)."""

    def collect(
        self, runtime: GraphQLObjectType, selection_sets: Iterable[SelectionSetNode]
    ) -> dict[str, list[FieldNode]]: ...


def null() -> Any:
    raise RowNull


def unwrap(type_: GraphQLOutputType) -> tuple[GraphQLOutputType, bool]:
    if isinstance(type_, GraphQLNonNull):
        return type_.of_type, True
    return type_, False


def declared(definition: GraphQLField) -> Declaration | None:
    """The declaration (schema.engine.declarations) of the Strawberry field behind ``definition``."""
    strawberry_field = (definition.extensions or {}).get(BACKREF)
    return declaration_of(strawberry_field) if isinstance(strawberry_field, StrawberryField) else None


def given_arguments(nodes: Iterable[FieldNode]) -> set[str]:
    """The names of the arguments the field's nodes give."""
    return {argument.name.value for node in nodes for argument in node.arguments or ()}


# ---------------------------------------------------------------- compiled shapes


@dataclass(eq=False)
class Child:
    """A field of a shape whose value comes from the next level's fetch."""

    key: str
    reads: ToOne | Children | ChildPage
    shape: Shape | None  # ToOne, Children: the target's selection
    connection: Connection | None  # ChildPage
    non_null: bool
    key_index: int = -1  # position of the parent's key in the parent's rows
    key_column: str = ""
    arguments: Arguments | None = None  # ChildPage: its paging arguments
    # Children of a shape: the env slot of this request's lists by parent key, which the
    # parents' builders place in their dicts as they build them (row_builders.finish), so the
    # level below appends to them and nothing is placed parent by parent afterwards.
    lists_slot: int = -1


@dataclass(frozen=True)
class Levels:
    """A shape's generated builders for a whole level of rows (schema.engine.row_builders):
    ``build_rows(rows, env)`` the result dicts in row order; ``build_keyed(rows, env)`` them by
    the row's first column; ``fill(rows, env, lists, objects)`` each appended to its parent's
    list (``lists[row[0]]``) and, when the shape has children, to ``objects``;
    ``page(parent_rows, start, end, env, kept, objects)`` one parent's page of a connection:
    the edges of the rows whose index ``row[1]`` is in [start, end), their rows and node dicts
    also appended to ``kept`` and ``objects`` when the shape has children; ``whole_page(
    parent_rows, env, kept, objects)`` the same where every row is in the page (the statement
    kept exactly the page)."""

    build_rows: Callable[[Any, list[Any]], list[dict[str, Any]]]
    build_keyed: Callable[[Any, list[Any]], dict[Any, dict[str, Any]]]
    fill: Callable[[Any, list[Any], dict[Any, list[dict[str, Any]]], list[dict[str, Any]]], None]
    page: Callable[[Any, int, int, list[Any], list[Any], list[dict[str, Any]]], list[dict[str, Any]]]
    whole_page: Callable[[Any, list[Any], list[Any], list[dict[str, Any]]], list[dict[str, Any]]]


@dataclass(eq=False)
class Shape:
    """A selection on an object type served from rows: its columns, its fields, the to-one
    relations joined into the same rows, and the fields fetched at the next level."""

    object_type: GraphQLObjectType
    model: type[Model]
    columns: list[str]  # database columns, primary key first
    entries: list[tuple[str, str, Any]]  # (result key, kind, details) in result order
    joined: list[tuple[str, Shape, bool]]  # (join name, shape, non-null) in projection order
    children: list[Child]
    joins: Mapping[str, Any]  # what the fetch of these rows offers to join
    base: int = 0
    build: Callable[[Any, list[Any]], dict[str, Any]] | None = None
    levels: Levels | None = None
    # A joined shape built once per primary key in a request: the env slot of the request's
    # dict of them (row_compiler.Compiler.place_dicts), -1 when every row builds its own.
    memo_slot: int = -1

    def column(self, name: str) -> int:
        if name not in self.columns:
            self.columns.append(name)
        return self.columns.index(name)

    def projection(self) -> Projection:
        return Projection(
            tuple(self.columns), tuple((name, shape.projection()) for name, shape, _non_null in self.joined)
        )

    @property
    def width(self) -> int:
        return len(self.columns) + sum(shape.width for _name, shape, _non_null in self.joined)


# Connection fields, edge fields and pageInfo fields.
TOTAL, EDGES, PAGE_INFO, TYPENAME = "total", "edges", "pageInfo", "typename"
CURSOR, NODE = "cursor", "node"
HAS_NEXT, HAS_PREVIOUS, START_CURSOR, END_CURSOR = "next", "previous", "start", "end"
PAGE_INFO_FIELDS = {
    "hasNextPage": HAS_NEXT,
    "hasPreviousPage": HAS_PREVIOUS,
    "startCursor": START_CURSOR,
    "endCursor": END_CURSOR,
}


@dataclass(eq=False)
class Connection:
    """A connection's selection: its fields, its edges' fields and the node's shape."""

    fields: list[tuple[str, str, Any]]  # (key, TOTAL | EDGES | PAGE_INFO | TYPENAME, details)
    edge_fields: list[tuple[str, str, Any]]  # (key, CURSOR | NODE | TYPENAME, typename)
    page_info: list[tuple[str, str, Any]]
    node: Shape | None
    cursor: Callable[[int], str]
    # build(nodes, start, total): the connection's result dict for a page of built nodes
    # starting at offset ``start`` of ``total``, generated once the selection is compiled
    # (schema.engine.row_builders.generate_connection).
    build: Callable[[list[Any], int, int], dict[str, Any]] = field(init=False)
    # build_page(edges, start, total): the same around a page's edges, built by the node's
    # page builders (a connection per parent, schema.engine.row_run.fill_pages).
    build_page: Callable[[list[Any], int, int], dict[str, Any]] = field(init=False)
