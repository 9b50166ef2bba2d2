"""Row mode's generated builders (schema.engine.rows): per selection, Python source for the
function turning one row into its result dict (field order, global ids, localized texts with
their fallbacks, date-times and enums as the scalars serialise them), compiled once per
document and selection."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterator
from typing import Any

from schema.engine.declarations import Children
from schema.engine.row_shapes import (
    CURSOR,
    EDGES,
    END_CURSOR,
    HAS_NEXT,
    HAS_PREVIOUS,
    NODE,
    PAGE_INFO,
    START_CURSOR,
    TOTAL,
    TYPENAME,
    Child,
    Connection,
    Levels,
    RowNull,
    Shape,
    null,
)
from schema.engine.row_values import UTC_ZONE

# ---------------------------------------------------------------- generated builders


def finish(
    shape: Shape, base: int, namespace: dict[str, Any], counter: Iterator[int], firsts: set[int]
) -> str:
    """Place the shape's columns at ``base`` in its rows (joined shapes after its own columns)
    and return the expression of its result dict over ``row`` and ``env``; ``firsts`` gets the
    locale slots whose first locale the expression reads (``f<slot>``)."""
    shape.base = base
    offset = base + len(shape.columns)
    joined_expressions: list[str] = []
    for _name, joined, non_null in shape.joined:
        expression = finish(joined, offset, namespace, counter, firsts)
        missing = "_null()" if non_null else "None"
        key = f"row[{offset}]"  # the joined row's primary key: None when there is none
        if joined.memo_slot >= 0:  # a shared target: built once per key in a request
            number, memo = next(counter), f"env[{joined.memo_slot}]"
            expression = (
                f"(m{number} if (m{number} := {memo}.get({key})) is not None "
                f"else {memo}.setdefault({key}, {expression}))"
            )
        joined_expressions.append(f"({missing} if {key} is None else {expression})")
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
            index, (decode, slow), nullable, fallback_index, fallback, pick, first_first, slot, checked = (
                detail
            )
            number = next(counter)
            namespace[f"_p{number}"] = pick
            # The driver's JSON text decoded as the model field decodes a text. Both drivers
            # hand these columns over as text; anything else (a driver decoding JSON itself)
            # makes the decoder raise, and the field's resolvers answer instead (row_run).
            decoder = f"_d{number}"
            namespace[decoder] = slow if decode is None else decode
            if nullable:
                texts = f"(None if (v := row[{base + index}]) is None else {decoder}(v))"
                value = f"_p{number}({texts}, env[{slot}])"
            elif first_first:  # the first locale's text read in place; pick for the rest
                firsts.add(slot)
                texts = f"{decoder}(row[{base + index}])"
                value = f"(t[f{slot}] if f{slot} in (t := {texts}) else _p{number}(t, env[{slot}]))"
            else:
                value = f"_p{number}({decoder}(row[{base + index}]), env[{slot}])"
            if fallback_index is not None:
                value = f"({value} or row[{base + fallback_index}])"
            elif fallback is not None:
                value = f"({value} or {fallback!r})"
            if checked:  # a non-null field whose text can be missing
                value = f"(_null() if (t := {value}) is None else t)"
        elif kind == "joined":
            value = joined_expressions[detail[0]]
        elif detail.lists_slot >= 0:  # Children: this request's list for the parent's key
            value = _placed_list(shape, detail)
        else:  # child: filled by the next level, the key holds its place in the field order
            value = "None"
        items.append(f"{key!r}: {value}")
    return "{" + ", ".join(items) + "}"


def _placed_list(shape: Shape, child: Child) -> str:
    """The expression of a Children field's value: the list its level appends to, from the
    dict of lists in env (created per request, keyed by the parents' keys). A parent without
    a key has none (None, or a null error where the list is non-null)."""
    lists, key = f"env[{child.lists_slot}]", f"row[{child.key_index}]"
    if child.key_column == shape.columns[0]:  # the primary key: never null
        return f"{lists}[{key}]"
    missing = "_row_null()" if child.non_null else "None"
    return f"({missing} if (k := {key}) is None else {lists}[k])"


def _row_null() -> Any:
    raise RowNull


def generate(shape: Shape, base: int, connection: Connection | None = None) -> None:
    """The shape's builders: one row (``build``), and whole levels with the row's expression
    inlined in the loop (``build_rows``, ``build_keyed``, ``fill``, ``page``): a level of
    rows costs one call, not one per row (row_run). For the node of a connection per parent
    (``connection``), ``page`` and ``whole_page`` build the page's edges around the nodes in
    the same loop (``Connection.build_page`` takes them as they are). Columns are read as ``row[i]``: measured
    with callgrind over asyncpg records, cheaper than one ``itemgetter`` call into locals
    (rows may also carry columns after the projection's, e.g. a page's total, so they are not
    unpacked whole)."""
    namespace: dict[str, Any] = {
        "_cursor": None if connection is None else connection.cursor,
        "_null": null,
        "_row_null": _row_null,
        "_datetime": dt.datetime,
        "_UTC": dt.UTC,
        "_utc": UTC_ZONE,
    }
    firsts: set[int] = set()
    expression = finish(shape, base, namespace, itertools.count(), firsts)
    # The request's locale lists and children's lists, read from env once per level, not
    # once per row.
    slots = sorted({int(slot) for slot in _ENV_ITEM.findall(expression)})
    expression = _ENV_ITEM.sub(r"e\1", expression)
    env = "".join(f"    e{slot} = env[{slot}]\n" for slot in slots)
    # The first locale of each locale list read in place (None when the list is empty: in no
    # texts).
    env += "".join(f"    f{slot} = e{slot}[0] if e{slot} else None\n" for slot in sorted(firsts))
    # Only a shape with children hands its rows and dicts to the next level.
    keep = "\n        objects.append(built)" if shape.children else ""
    kept_lines = ("kept.append(row)", "objects.append(built)") if shape.children else ()
    kept = "".join(f"\n            {line}" for line in kept_lines)  # inside page's window test
    whole_kept = "".join(f"\n        {line}" for line in kept_lines)
    # Rows of exactly the shape's width (a level below the root: keys, then the projection)
    # are unpacked into locals, cheaper than indexing a driver record column by column; the
    # root's may carry a column after the projection's (a page's total), so they are indexed.
    unpacked = _ROW_ITEM.sub(r"c\1", expression)
    columns = ", ".join(f"c{index}" for index in range(base + shape.width))
    # A connection's edge around each node (its cursor from the row's 0-based index, c1).
    edge = "built" if connection is None else _dict_of(connection.edge_fields, _PAGE_EDGE_VALUES)
    source = (
        f"def build(row, env):\n{env}    return {expression}\n\n"
        f"def build_rows(rows, env):\n{env}    return [{expression} for row in rows]\n\n"
        f"def build_keyed(rows, env):\n{env}    return {{c0: {unpacked} for {columns} in rows}}\n\n"
        f"def fill(rows, env, lists, objects):\n{env}"
        f"    for {columns} in rows:\n"
        f"        built = {unpacked}\n"
        f"        lists[c0].append(built){keep}\n\n"
        f"def page(parent_rows, start, end, env, kept, objects):\n{env}"
        "    nodes = []\n"
        "    for row in parent_rows:\n"
        f"        {columns} = row\n"
        "        if start <= c1 < end:\n"
        f"            built = {unpacked}\n"
        f"            nodes.append({edge}){kept}\n"
        "    return nodes\n\n"
        f"def whole_page(parent_rows, env, kept, objects):\n{env}"
        "    nodes = []\n"
        "    for row in parent_rows:\n"
        f"        {columns} = row\n"
        f"        built = {unpacked}\n"
        f"        nodes.append({edge}){whole_kept}\n"
        "    return nodes\n"
    )
    exec(compile(source, f"<rows for {shape.object_type.name}>", "exec"), namespace)  # noqa: S102
    shape.build = namespace["build"]
    shape.levels = Levels(
        namespace["build_rows"],
        namespace["build_keyed"],
        namespace["fill"],
        namespace["page"],
        namespace["whole_page"],
    )
    generate_children(shape)


_ENV_ITEM = re.compile(r"\benv\[(\d+)\]")
_ROW_ITEM = re.compile(r"\brow\[(\d+)\]")


def generate_children(shape: Shape) -> None:
    for child in shape.children:
        if child.shape is not None:
            generate(child.shape, 1 if isinstance(child.reads, Children) else 0)
        elif child.connection is not None and child.connection.node is not None:
            generate(child.connection.node, 3, child.connection)
    for _name, joined, _non_null in shape.joined:
        generate_children(joined)


# What a connection's edge and pageInfo fields read, by kind (any other kind: __typename, its name).
_EDGE_VALUES = {NODE: "node", CURSOR: "_cursor(offset)"}
# The same inside a connection node's page builders: the node just built, its row's index.
_PAGE_EDGE_VALUES = {NODE: "built", CURSOR: "_cursor(c1)"}
_PAGE_INFO_VALUES = {
    HAS_NEXT: "start + len(nodes) < total",
    HAS_PREVIOUS: "start > 0",
    START_CURSOR: "_cursor(start) if nodes else None",
    END_CURSOR: "_cursor(start + len(nodes) - 1) if nodes else None",
}


def _dict_of(fields: list[tuple[str, str, Any]], values: dict[str, str]) -> str:
    return "{" + ", ".join(f"{key!r}: {values.get(kind, repr(name))}" for key, kind, name in fields) + "}"


def generate_connection(connection: Connection) -> None:
    """``connection.build(nodes, start, total)``: the selection's result dict (its fields in
    order: totalCount, edges with their cursors and nodes, pageInfo, __typename); and
    ``connection.build_page(edges, start, total)`` the same around edges already built (by the
    node's page builders, ``generate``)."""
    items: list[str] = []
    page_items: list[str] = []
    for key, kind, detail in connection.fields:
        page_value = None
        if kind == TOTAL:
            value = "total"
        elif kind == EDGES:
            numbered = any(edge_kind == CURSOR for _key, edge_kind, _name in connection.edge_fields)
            loop = "offset, node in enumerate(nodes, start)" if numbered else "node in nodes"
            value = f"[{_dict_of(connection.edge_fields, _EDGE_VALUES)} for {loop}]"
            page_value = "nodes"  # the edges, one per node: pageInfo counts them alike
        elif kind == PAGE_INFO:
            value = _dict_of(connection.page_info, _PAGE_INFO_VALUES)
        else:
            value = repr(detail)
        items.append(f"{key!r}: {value}")
        page_items.append(f"{key!r}: {page_value or value}")
    namespace: dict[str, Any] = {"_cursor": connection.cursor}
    source = (
        f"def build(nodes, start, total):\n    return {{{', '.join(items)}}}\n\n"
        f"def build_page(nodes, start, total):\n    return {{{', '.join(page_items)}}}\n"
    )
    exec(compile(source, "<connection>", "exec"), namespace)  # noqa: S102
    connection.build = namespace["build"]
    connection.build_page = namespace["build_page"]
