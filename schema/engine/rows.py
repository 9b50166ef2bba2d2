"""Row mode: a declared subtree of a query answered from database rows, without resolvers.

Where a field's declaration is a fetch (schema.engine.declarations: ToOne, Children,
ChildPage, RootPage) and every field selected below it is declared (or a plain column),
the compiled plan (schema.engine.plan) hands the whole subtree to a ``RowField``:

* one statement per nesting level, over the keys in hand (``= ANY($1)`` on PostgreSQL, an IN
  list on SQLite, see exchange.sql.Statement.is_in), selecting only the columns the selection
  reads; a to-one relation whose fetch offers it is joined into its parent's statement;
* the rows stay the driver's tuples: no model instance, no DataLoader, no future per key;
* each selection's result dicts are built by a function generated once per document and
  selection (field order, global ids, localized texts with their fallbacks, date-times and
  enums as the schema's scalars serialise them, connections with cursors and pageInfo).

Values are exactly what graphql-core gives through the resolvers (tests/api/test_plan.py
compares both). Where a selection has a field that declares nothing, ``compile_row_field``
returns None and the plan runs that field through its resolver as before; fields below it
may again be row subtrees over the model instances it returns.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from graphql import (
    FieldNode,
    GraphQLEnumType,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    SelectionSetNode,
    VariableNode,
)
from graphql.execution.values import VariableValues, get_argument_values
from strawberry.types.field import StrawberryField
from tortoise import timezone
from tortoise.fields import data as tortoise_data
from tortoise.models import Model

from schema.engine.columns import MODELS
from schema.engine.declarations import (
    ChildPage,
    Children,
    Declaration,
    GlobalId,
    Localized,
    Paging,
    Projection,
    RootPage,
    ToOne,
    declaration_of,
)
from schema.engine.fastpath import BACKREF

PAGING_ARGUMENTS = frozenset({"first", "after", "last", "before"})

# Row mode on (tests that pin the resolvers' own behaviour, e.g. injected resolver failures,
# turn it off; the resolvers then answer every field).
ENABLED = [True]


class RowNull(Exception):
    """A null where the schema allows none: graphql-core's answer (an error) is needed."""


class Collecting(Protocol):
    """What row mode needs of the compiled operation (schema.engine.plan.OperationPlan)."""

    def collect(
        self, runtime: GraphQLObjectType, selection_sets: Iterable[SelectionSetNode]
    ) -> dict[str, list[FieldNode]]: ...


def _null() -> Any:
    raise RowNull


def _unwrap(type_: GraphQLOutputType) -> tuple[GraphQLOutputType, bool]:
    if isinstance(type_, GraphQLNonNull):
        return type_.of_type, True
    return type_, False


# ---------------------------------------------------------------- arguments


@dataclass(eq=False)
class _Arguments:
    """A field's argument values: coerced once when they use no variable, else per request."""

    definition: GraphQLField
    node: FieldNode
    static: dict[str, Any] | None

    def values(self, variables: VariableValues) -> dict[str, Any]:
        if self.static is not None:
            return self.static
        return get_argument_values(self.definition, self.node, variables)


def _arguments(definition: GraphQLField, node: FieldNode) -> _Arguments:
    static = None if uses_variables(node) else get_argument_values(definition, node)
    return _Arguments(definition, node, static)


def uses_variables(node: Any) -> bool:
    """Whether a field's arguments reference a variable anywhere (lists and objects too)."""
    stack: list[Any] = [argument.value for argument in node.arguments or ()]
    while stack:
        value = stack.pop()
        if isinstance(value, VariableNode):
            return True
        stack.extend(getattr(value, "values", None) or ())
        stack.extend(item.value for item in getattr(value, "fields", None) or ())
    return False


# ---------------------------------------------------------------- compiled shapes


@dataclass(eq=False)
class _Child:
    """A field of a shape whose value comes from the next level's fetch."""

    key: str
    reads: ToOne | Children | ChildPage
    shape: _Shape | None  # ToOne, Children: the target's selection
    connection: _Connection | None  # ChildPage
    non_null: bool
    key_index: int = -1  # position of the parent's key in the parent's rows
    key_column: str = ""
    arguments: _Arguments | None = None  # ChildPage: its paging arguments


@dataclass(eq=False)
class _Shape:
    """A selection on an object type served from rows: its columns, its fields, the to-one
    relations joined into the same rows, and the fields fetched at the next level."""

    object_type: GraphQLObjectType
    model: type[Model]
    columns: list[str]  # database columns, primary key first
    entries: list[tuple[str, str, Any]]  # (result key, kind, details) in result order
    joined: list[tuple[str, _Shape, bool]]  # (join name, shape, non-null) in projection order
    children: list[_Child]
    joins: Mapping[str, Any]  # what the fetch of these rows offers to join
    base: int = 0
    build: Callable[[Any, list[Any]], dict[str, Any]] | None = None

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
_PAGE_INFO_FIELDS = {
    "hasNextPage": HAS_NEXT,
    "hasPreviousPage": HAS_PREVIOUS,
    "startCursor": START_CURSOR,
    "endCursor": END_CURSOR,
}


@dataclass(eq=False)
class _Connection:
    """A connection's selection: its fields, its edges' fields and the node's shape."""

    fields: list[tuple[str, str, Any]]  # (key, TOTAL | EDGES | PAGE_INFO | TYPENAME, details)
    edge_fields: list[tuple[str, str, Any]]  # (key, CURSOR | NODE | TYPENAME, typename)
    page_info: list[tuple[str, str, Any]]
    node: _Shape | None
    cursor: Callable[[int], str]

    def build(self, nodes: list[dict[str, Any]], start: int, total: int) -> dict[str, Any]:
        end = start + len(nodes)
        cursor = self.cursor
        result: dict[str, Any] = {}
        for key, kind, detail in self.fields:
            if kind == TOTAL:
                result[key] = total
            elif kind == EDGES:
                edge_fields = self.edge_fields
                if len(edge_fields) == 1 and edge_fields[0][1] == NODE:
                    node_key = edge_fields[0][0]
                    result[key] = [{node_key: node} for node in nodes]
                    continue
                edges = []
                for offset, node in enumerate(nodes, start):
                    edge: dict[str, Any] = {}
                    for edge_key, edge_kind, typename in edge_fields:
                        if edge_kind == NODE:
                            edge[edge_key] = node
                        elif edge_kind == CURSOR:
                            edge[edge_key] = cursor(offset)
                        else:
                            edge[edge_key] = typename
                    edges.append(edge)
                result[key] = edges
            elif kind == PAGE_INFO:
                info: dict[str, Any] = {}
                for info_key, info_kind, typename in self.page_info:
                    if info_kind == HAS_NEXT:
                        info[info_key] = end < total
                    elif info_kind == HAS_PREVIOUS:
                        info[info_key] = start > 0
                    elif info_kind == START_CURSOR:
                        info[info_key] = cursor(start) if nodes else None
                    elif info_kind == END_CURSOR:
                        info[info_key] = cursor(end - 1) if nodes else None
                    else:
                        info[info_key] = typename
                result[key] = info
            else:
                result[key] = detail
        return result


class _Compiler:
    def __init__(self, operation: Collecting) -> None:
        self.operation = operation
        self.slots: list[_Arguments] = []  # env slots: localized fields' locale arguments
        self.locales: list[Localized] = []
        self.pages: list[_Child] = []

    def shape(
        self,
        type_: GraphQLObjectType,
        nodes: Sequence[FieldNode],
        joins: Mapping[str, Any],
    ) -> _Shape | None:
        model = MODELS.get(type_.name)
        if model is None:
            return None
        meta = model._meta
        projection = meta.fields_db_projection
        shape = _Shape(type_, model, [meta.db_pk_column], [], [], [], joins)
        selection_sets = [node.selection_set for node in nodes if node.selection_set is not None]
        for key, field_nodes in self.operation.collect(type_, selection_sets).items():
            name = field_nodes[0].name.value
            if name == "__typename":
                shape.entries.append((key, TYPENAME, type_.name))
                continue
            definition = type_.fields.get(name)
            if definition is None or name.startswith("__"):
                return None
            strawberry_field = (definition.extensions or {}).get(BACKREF)
            if not isinstance(strawberry_field, StrawberryField):
                return None
            declaration = declaration_of(strawberry_field)
            given = {argument.name.value for node in field_nodes for argument in node.arguments or ()}
            resolve = definition.resolve
            if declaration is None:
                attribute = strawberry_field.python_name
                if given or not getattr(resolve, "_is_default", False) or attribute not in projection:
                    return None
                converter = _converter(model, attribute, definition.type)
                if converter is None:
                    return None
                shape.entries.append((key, "column", (shape.column(projection[attribute]), converter)))
                continue
            reads = declaration.reads
            if isinstance(reads, GlobalId):
                if given or reads.attribute not in projection:
                    return None
                shape.entries.append(
                    (key, "id", (shape.column(projection[reads.attribute]), reads.type_name, reads.encode))
                )
            elif isinstance(reads, Localized):
                if not given <= {reads.argument} or reads.attribute not in projection:
                    return None
                fallback = reads.fallback_attribute
                if fallback is not None and fallback not in projection:
                    return None
                self.slots.append(_arguments(definition, field_nodes[0]))
                self.locales.append(reads)
                shape.entries.append(
                    (
                        key,
                        "localized",
                        (
                            shape.column(projection[reads.attribute]),
                            _json(model, reads.attribute),
                            None if fallback is None else shape.column(projection[fallback]),
                            reads.fallback,
                            reads.pick,
                            len(self.slots) - 1,
                            isinstance(definition.type, GraphQLNonNull),
                        ),
                    )
                )
            elif isinstance(reads, ToOne | Children | ChildPage):
                if reads.key not in projection:
                    return None
                relation = strawberry_field.python_name
                joined_names = {joined_name for joined_name, _shape, _non_null in shape.joined}
                if (
                    isinstance(reads, ToOne)
                    and relation in joins
                    and relation not in joined_names
                    and not given
                ):
                    # Joined into this shape's rows when the target needs no fetch of its own.
                    target_type, non_null = _unwrap(definition.type)
                    target = (
                        self.shape(target_type, field_nodes, joins[relation])
                        if isinstance(target_type, GraphQLObjectType)
                        else None
                    )
                    if target is not None and not target.children:
                        shape.column(projection[reads.key])
                        shape.joined.append((relation, target, non_null))
                        shape.entries.append((key, "joined", (len(shape.joined) - 1,)))
                        continue
                child = self.child(key, reads, declaration, definition, field_nodes, given)
                if child is None:
                    return None
                child.key_column = projection[reads.key]
                shape.column(child.key_column)
                shape.children.append(child)
                shape.entries.append((key, "child", None))
            else:
                return None
        return shape

    def child(
        self,
        key: str,
        reads: ToOne | Children | ChildPage,
        declaration: Declaration,
        definition: GraphQLField,
        nodes: Sequence[FieldNode],
        given: set[str],
    ) -> _Child | None:
        type_, non_null = _unwrap(definition.type)
        joins = declaration.joins
        if isinstance(reads, ToOne):
            if given or not isinstance(type_, GraphQLObjectType):
                return None
            shape = self.shape(type_, nodes, joins)
            return None if shape is None else _Child(key, reads, shape, None, non_null)
        if isinstance(reads, Children):
            item, _item_non_null = _unwrap(type_.of_type) if isinstance(type_, GraphQLList) else (None, False)
            if given or not isinstance(item, GraphQLObjectType) or not _item_non_null:
                return None
            shape = self.shape(item, nodes, joins)
            return None if shape is None else _Child(key, reads, shape, None, non_null)
        if not given <= PAGING_ARGUMENTS or not isinstance(type_, GraphQLObjectType):
            return None
        connection = self.connection(type_, nodes, joins, reads.paging)
        if connection is None:
            return None
        child = _Child(key, reads, None, connection, non_null, arguments=_arguments(definition, nodes[0]))
        self.pages.append(child)
        return child

    def connection(
        self, type_: GraphQLObjectType, nodes: Sequence[FieldNode], joins: Mapping[str, Any], paging: Paging
    ) -> _Connection | None:
        """The selection on a Connection type (schema.api.relay.Connection), or None."""
        selection_sets = [node.selection_set for node in nodes if node.selection_set is not None]
        connection = _Connection([], [], [], None, paging.cursor)
        collected = self.operation.collect(type_, selection_sets)
        # One edges and one pageInfo each: the builder fills a single list of their fields.
        for single in ("edges", "pageInfo"):
            if sum(1 for nodes_ in collected.values() if nodes_[0].name.value == single) > 1:
                return None
        for key, field_nodes in collected.items():
            name = field_nodes[0].name.value
            if name == "__typename":
                connection.fields.append((key, TYPENAME, type_.name))
            elif name == "totalCount" and not field_nodes[0].selection_set:
                connection.fields.append((key, TOTAL, None))
            elif name == "edges":
                edges_type, _ = _unwrap(type_.fields["edges"].type)
                edge_type = _unwrap(edges_type.of_type)[0] if isinstance(edges_type, GraphQLList) else None
                if not isinstance(edge_type, GraphQLObjectType):
                    return None
                edge_sets = [node.selection_set for node in field_nodes if node.selection_set is not None]
                edge_fields = self.operation.collect(edge_type, edge_sets)
                if sum(1 for nodes_ in edge_fields.values() if nodes_[0].name.value == "node") > 1:
                    return None
                for edge_key, edge_nodes in edge_fields.items():
                    edge_name = edge_nodes[0].name.value
                    if edge_name == "__typename":
                        connection.edge_fields.append((edge_key, TYPENAME, edge_type.name))
                    elif edge_name == "cursor":
                        connection.edge_fields.append((edge_key, CURSOR, None))
                    elif edge_name == "node":
                        node_type, _ = _unwrap(edge_type.fields["node"].type)
                        if not isinstance(node_type, GraphQLObjectType):
                            return None
                        connection.node = self.shape(node_type, edge_nodes, joins)
                        if connection.node is None:
                            return None
                        connection.edge_fields.append((edge_key, NODE, None))
                    else:
                        return None
                connection.fields.append((key, EDGES, None))
            elif name == "pageInfo":
                info_type, _ = _unwrap(type_.fields["pageInfo"].type)
                if not isinstance(info_type, GraphQLObjectType):
                    return None
                info_sets = [node.selection_set for node in field_nodes if node.selection_set is not None]
                for info_key, info_nodes in self.operation.collect(info_type, info_sets).items():
                    info_name = info_nodes[0].name.value
                    if info_name == "__typename":
                        connection.page_info.append((info_key, TYPENAME, info_type.name))
                    elif info_name in _PAGE_INFO_FIELDS:
                        connection.page_info.append((info_key, _PAGE_INFO_FIELDS[info_name], None))
                    else:
                        return None
                connection.fields.append((key, PAGE_INFO, None))
            else:
                return None
        if connection.node is None:
            return None  # the page's rows are read for its nodes: without one, the resolver answers
        return connection


def _field_of(model: type[Model], attribute: str) -> Any:
    return model._meta.fields_map[attribute]


def _json(model: type[Model], attribute: str) -> Callable[[Any], Any]:
    """The decoder of a JSON column's raw value (the model field's own)."""
    model_field = _field_of(model, attribute)
    decode = getattr(model_field, "decoder", None)
    slow: Callable[[Any], Any] = model_field.to_python_value
    if decode is None:
        return slow

    def loads(value: Any) -> Any:
        return decode(value) if value.__class__ is str else slow(value)

    return loads


_IDENTITY_FIELDS = (tortoise_data.CharField, tortoise_data.TextField)
_INT_FIELDS = (tortoise_data.IntField, tortoise_data.SmallIntField)


def _converter(model: type[Model], attribute: str, type_: GraphQLOutputType) -> tuple[str, Any] | None:
    """raw column value -> serialised GraphQL value, the way the model field reads it and the
    field's type serialises it (None for a type row mode does not serialise)."""
    model_field = _field_of(model, attribute)
    named, non_null = _unwrap(type_)
    item_non_null = False
    is_list = isinstance(named, GraphQLList)
    if is_list:
        named, item_non_null = _unwrap(named.of_type)  # type: ignore[union-attr]
    if not isinstance(named, GraphQLScalarType | GraphQLEnumType):
        return None
    serialize = named.coerce_output_value
    to_python: Callable[[Any], Any] = model_field.to_python_value
    # A text column served as a String (or a scalar serialised by ``str``, e.g. CountryCode),
    # an integer column as an Int: the value as the driver gives it.
    text = isinstance(model_field, _IDENTITY_FIELDS) and not isinstance(
        model_field, tortoise_data.CharEnumFieldInstance
    )
    direct = not is_list and (
        (text and (named.name == "String" or serialize is str))
        or (named.name == "Int" and isinstance(model_field, _INT_FIELDS))
    )
    is_datetime = not is_list and type(model_field) is tortoise_data.DatetimeField

    def item(value: Any) -> Any:
        if value is None:
            if item_non_null:
                raise RowNull
            return None
        serialized = serialize(value)
        if serialized is None:
            raise RowNull
        return serialized

    def convert(raw: Any) -> Any:
        if raw is None:
            if non_null:
                raise RowNull
            return None
        if direct:
            return raw
        if is_datetime and raw.__class__ is dt.datetime and raw.tzinfo is dt.UTC and _UTC_ZONE[0]:
            return raw.isoformat()  # what to_python_value then DateTime's serialize give
        value = to_python(raw)
        if value is None:
            if non_null:
                raise RowNull
            return None
        if is_list:
            return [item(element) for element in value]
        return item(value)

    # How the generated builder reads the value (see _finish): the raw value itself where the
    # conversion is the identity and a null needs no check, a lookup for enums, the date-time
    # fast path inline, else a call.
    model_null = bool(getattr(model_field, "null", True))
    if direct and (not non_null or not model_null):
        return ("raw", None)
    if (
        isinstance(named, GraphQLEnumType)
        and not is_list
        and isinstance(model_field, tortoise_data.CharEnumFieldInstance)
    ):
        table = {member.value: serialize(member) for member in model_field.enum_type}
        if not any(value is None for value in table.values()):
            if not non_null:
                table[None] = None
            return ("map", table)
    if is_datetime and not model_null:
        return ("datetime", convert)
    return ("call", convert)


# Whether Tortoise reads date-times into UTC (use_tz and a UTC default zone): then an aware
# UTC value from the driver serialises as its own isoformat. Refreshed per request.
_UTC_ZONE = [False]


def _refresh_time_settings() -> None:
    zone = timezone.get_default_timezone()
    _UTC_ZONE[0] = timezone.get_use_tz() and (zone is dt.UTC or getattr(zone, "key", None) == "UTC")


# ---------------------------------------------------------------- generated builders


def _finish(shape: _Shape, base: int, namespace: dict[str, Any], counter: Iterator[int]) -> str:
    """Place the shape's columns at ``base`` in its rows (joined shapes after its own columns)
    and return the expression of its result dict over ``row`` and ``env``."""
    shape.base = base
    offsets: list[int] = []
    offset = base + len(shape.columns)
    joined_expressions: list[str] = []
    for _name, joined, non_null in shape.joined:
        offsets.append(offset)
        expression = _finish(joined, offset, namespace, counter)
        missing = "_null()" if non_null else "None"
        joined_expressions.append(f"({missing} if row[{offset}] is None else {expression})")
        offset += joined.width
    for child in shape.children:
        child.key_index = base + shape.columns.index(child.key_column)
    items: list[str] = []
    for key, kind, detail in shape.entries:
        if kind == TYPENAME:
            value = repr(detail)
        elif kind == "column":
            index, (how, converter) = detail
            name = f"_c{next(counter)}"
            namespace[name] = converter
            read = f"row[{base + index}]"
            if how == "raw":
                value = read
            elif how == "map":
                value = f"{name}[{read}]"
            elif how == "datetime":  # not null in the table: the fast path of convert, inline
                value = (
                    f"(v.isoformat() if (v := {read}).__class__ is _datetime and v.tzinfo is _UTC and _utc[0] "
                    f"else {name}(v))"
                )
            else:
                value = f"{name}({read})"
        elif kind == "id":
            index, type_name, encode = detail
            name = f"_e{next(counter)}"
            namespace[name] = encode
            value = f"{name}({type_name!r}, row[{base + index}])"
        elif kind == "localized":
            index, loads, fallback_index, fallback, pick, slot, non_null = detail
            number = next(counter)
            namespace[f"_p{number}"] = pick
            namespace[f"_j{number}"] = loads
            value = f"_p{number}(None if (v := row[{base + index}]) is None else _j{number}(v), env[{slot}])"
            if fallback_index is not None:
                value = f"({value} or row[{base + fallback_index}])"
            elif fallback is not None:
                value = f"({value} or {fallback!r})"
            if non_null:
                value = f"(_null() if (t := {value}) is None else t)"
        elif kind == "joined":
            value = joined_expressions[detail[0]]
        else:  # child: filled by the next level, the key holds its place in the field order
            value = "None"
        items.append(f"{key!r}: {value}")
    return "{" + ", ".join(items) + "}"


def _generate(shape: _Shape, base: int) -> None:
    namespace: dict[str, Any] = {"_null": _null, "_datetime": dt.datetime, "_UTC": dt.UTC, "_utc": _UTC_ZONE}
    expression = _finish(shape, base, namespace, itertools.count())
    source = f"def build(row, env):\n    return {expression}\n"
    exec(compile(source, f"<rows for {shape.object_type.name}>", "exec"), namespace)  # noqa: S102
    shape.build = namespace["build"]
    _generate_children(shape)


def _generate_children(shape: _Shape) -> None:
    for child in shape.children:
        if child.shape is not None:
            _generate(child.shape, 1 if isinstance(child.reads, Children) else 0)
        elif child.connection is not None and child.connection.node is not None:
            _generate(child.connection.node, 3)
    for _name, joined, _non_null in shape.joined:
        _generate_children(joined)


# ---------------------------------------------------------------- the compiled field


@dataclass(eq=False)
class RowField:
    """A field of the plan answered from rows with everything below it."""

    child: _Child | None  # ToOne, Children, ChildPage over model instances
    root: tuple[RootPage, _Connection, _Arguments] | None  # a root connection
    slots: list[_Arguments]
    locales: list[Localized]
    pages: list[_Child]  # the connections in the subtree
    projections: dict[int, Projection] = field(default_factory=dict)

    def prepare(self, context: Any, variables: VariableValues) -> _Run | None:
        """This request's run, or None when an argument is refused (a bad cursor, a page
        too large): the field then runs through its resolver, which reports it exactly where
        and as often as graphql-core does."""
        if not ENABLED[0]:
            return None
        try:
            env = [
                reads.locales(context, arguments.values(variables).get(reads.argument))
                for arguments, reads in zip(self.slots, self.locales, strict=True)
            ]
            pages: dict[int, Any] = {}
            for child in self.pages:
                assert child.arguments is not None and isinstance(child.reads, ChildPage)
                pages[id(child)] = _page_args(child.reads.paging, context, child.arguments.values(variables))
            root_page = None
            if self.root is not None:
                reads, _connection, arguments = self.root
                root_page = _page_args(reads.paging, context, arguments.values(variables))
        except Exception:
            return None
        _refresh_time_settings()
        return _Run(self, context, env, pages, root_page)


def _page_args(paging: Paging, context: Any, values: dict[str, Any]) -> Any:
    return paging.page_args(
        context, values.get("first"), values.get("after"), values.get("last"), values.get("before")
    )


class _Run:
    """One execution of a RowField: the request's context, locale lists and page args."""

    def __init__(
        self, field: RowField, context: Any, env: list[Any], pages: dict[int, Any], root_page: Any
    ) -> None:
        self.field = field
        self.context = context
        self.env = env
        self.pages = pages
        self.root_page = root_page
        self.projections = field.projections

    async def fill(
        self, sources: list[Any], column: list[Any], failed: Callable[[list[Any], BaseException], None]
    ) -> None:
        """Fill ``column`` with the field's serialised value for each source; on an error,
        ``failed(column, error)`` and nothing else."""
        reading = getattr(self.context, "reading", None)
        try:
            if reading is None:
                await self._fill(sources, column)
            else:
                # The context's scope for statements sent one after another (the levels
                # below are fetched in turn): e.g. one pooled connection for all of them.
                async with reading():
                    await self._fill(sources, column)
        except Exception as error:
            failed(column, error)

    async def _fill(self, sources: list[Any], column: list[Any]) -> None:
        field_, env, context = self.field, self.env, self.context
        if field_.root is not None:
            reads, connection, _arguments = field_.root
            node = connection.node
            projection = self.projection(node) if node is not None else Projection(("id",))
            rows, start, total = await reads.fetch(context, self.root_page, projection)
            objects = [] if node is None else [node.build(row, env) for row in rows]  # type: ignore[misc]
            for index in range(len(column)):
                column[index] = connection.build(objects, start, total)
            if node is not None:
                await self.levels([(child, rows, objects) for child in node.children])
            return
        child = field_.child
        assert child is not None
        holders: list[dict[str, Any]] = [{} for _ in sources]
        key_of = child.reads.key
        keys = [getattr(source, key_of) for source in sources]
        await self.levels([(child, keys, holders)], keyed=True)
        for index, holder in enumerate(holders):
            column[index] = holder[child.key]

    def projection(self, shape: _Shape) -> Projection:
        found = self.projections.get(id(shape))
        if found is None:
            found = self.projections[id(shape)] = shape.projection()
        return found

    async def levels(
        self, level: list[tuple[_Child, Any, list[dict[str, Any]]]], keyed: bool = False
    ) -> None:
        """Fetch level by level: each entry is a child field, its parents' rows (or, with
        ``keyed``, their keys) and their result dicts."""
        while level:
            following: list[tuple[_Child, Any, list[dict[str, Any]]]] = []
            for child, parents, results in level:
                keys = parents if keyed else [row[child.key_index] for row in parents]
                fetched = await self.fill_child(child, keys, results)
                if fetched is not None:
                    shape, rows, objects = fetched
                    following.extend((grandchild, rows, objects) for grandchild in shape.children)
            level, keyed = following, False

    async def fill_child(
        self, child: _Child, keys: list[Any], results: list[dict[str, Any]]
    ) -> tuple[_Shape, Sequence[Any], list[dict[str, Any]]] | None:
        reads, name, env, context = child.reads, child.key, self.env, self.context
        wanted = list(dict.fromkeys(key for key in keys if key is not None))
        if isinstance(reads, ToOne):
            shape = child.shape
            assert shape is not None and shape.build is not None
            build = shape.build
            rows: Sequence[Any]
            if reads.every_key and len(shape.columns) == 1 and not shape.joined:
                rows = [(key,) for key in wanted]  # only the key is read, and it names a row
            else:
                rows = await reads.fetch(context, wanted, self.projection(shape)) if wanted else []
            found = {row[0]: build(row, env) for row in rows}
            non_null = child.non_null
            for key, result in zip(keys, results, strict=True):
                value = None if key is None else found.get(key)
                if value is None and non_null:
                    raise RowNull
                result[name] = value
            return shape, rows, list(found.values())
        if isinstance(reads, Children):
            shape = child.shape
            assert shape is not None and shape.build is not None
            build = shape.build
            rows = await reads.fetch(context, wanted, self.projection(shape)) if wanted else []
            lists: dict[Any, list[dict[str, Any]]] = {key: [] for key in wanted}
            objects = []
            for row in rows:
                built = build(row, env)
                lists[row[0]].append(built)
                objects.append(built)
            for key, result in zip(keys, results, strict=True):
                if key is None and child.non_null:
                    raise RowNull
                result[name] = None if key is None else lists[key]
            return shape, rows, objects
        connection = child.connection
        assert connection is not None
        node = connection.node
        if not keys:
            return None
        page = self.pages[id(child)]
        projection = self.projection(node) if node is not None else Projection(("id",))
        rows = await reads.fetch(context, wanted, page, projection) if wanted else []
        by_parent: dict[Any, list[Any]] = {}
        for row in rows:
            by_parent.setdefault(row[0], []).append(row)
        pages: dict[Any, dict[str, Any]] = {}
        kept: list[Any] = []
        objects = []
        for key in wanted:
            parent_rows = by_parent.get(key)
            if not parent_rows:
                start, _end = page.window(0)
                pages[key] = connection.build([], start, 0)
                continue
            total = int(parent_rows[0][2])
            start, end = page.window(total)
            nodes = []
            for row in parent_rows:
                if start <= row[1] < end:
                    kept.append(row)
                    if node is not None:
                        built = node.build(row, self.env)  # type: ignore[misc]
                        nodes.append(built)
                        objects.append(built)
                    else:
                        nodes.append(None)
            pages[key] = connection.build(nodes, start, total)
        for key, result in zip(keys, results, strict=True):
            result[name] = pages[key] if key is not None else _null()
        return (node, kept, objects) if node is not None else None


def compile_row_field(
    operation: Collecting, parent: GraphQLObjectType, definition: GraphQLField, nodes: Sequence[FieldNode]
) -> RowField | None:
    """A RowField for this field of the plan, or None where its resolver must run."""
    strawberry_field = (definition.extensions or {}).get(BACKREF)
    declaration = declaration_of(strawberry_field) if isinstance(strawberry_field, StrawberryField) else None
    if declaration is None or len(nodes) == 0:
        return None
    reads = declaration.reads
    compiler = _Compiler(operation)
    given = {argument.name.value for node in nodes for argument in node.arguments or ()}
    if isinstance(reads, RootPage):
        type_, _ = _unwrap(definition.type)
        if not given <= reads.arguments or not isinstance(type_, GraphQLObjectType):
            return None
        connection = compiler.connection(type_, nodes, declaration.joins, reads.paging)
        if connection is None:
            return None
        if connection.node is not None:
            _generate(connection.node, 0)
        return RowField(
            None,
            (reads, connection, _arguments(definition, nodes[0])),
            compiler.slots,
            compiler.locales,
            compiler.pages,
        )
    if not isinstance(reads, Children | ChildPage):
        # A to-one relation of a model instance stays with its loader: the loader batches it
        # with the level's other loads of the same table and serves rows already primed
        # (the page of exchanges primes the hosts it joined).
        return None
    model = MODELS.get(parent.name)
    if model is None:
        return None
    child = compiler.child(
        nodes[0].alias.value if nodes[0].alias else nodes[0].name.value,
        reads,
        declaration,
        definition,
        nodes,
        given,
    )
    if child is None:
        return None
    if child.shape is not None:
        _generate(child.shape, 1 if isinstance(reads, Children) else 0)
    elif child.connection is not None and child.connection.node is not None:
        _generate(child.connection.node, 3)
    return RowField(child, None, compiler.slots, compiler.locales, compiler.pages)
