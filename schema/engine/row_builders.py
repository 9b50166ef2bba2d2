"""Row mode's generated builders (schema.engine.rows): per selection, Python source for the
function turning one row into its result dict (field order, global ids, localized texts with
their fallbacks, date-times and enums as the scalars serialise them), compiled once per
document and selection."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from typing import Any

from schema.engine.declarations import Children
from schema.engine.row_shapes import TYPENAME, Shape, null
from schema.engine.row_values import UTC_ZONE

# ---------------------------------------------------------------- generated builders


def finish(shape: Shape, base: int, namespace: dict[str, Any], counter: Iterator[int]) -> str:
    """Place the shape's columns at ``base`` in its rows (joined shapes after its own columns)
    and return the expression of its result dict over ``row`` and ``env``."""
    shape.base = base
    offsets: list[int] = []
    offset = base + len(shape.columns)
    joined_expressions: list[str] = []
    for _name, joined, non_null in shape.joined:
        offsets.append(offset)
        expression = finish(joined, offset, namespace, counter)
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


def generate(shape: Shape, base: int) -> None:
    namespace: dict[str, Any] = {"_null": null, "_datetime": dt.datetime, "_UTC": dt.UTC, "_utc": UTC_ZONE}
    expression = finish(shape, base, namespace, itertools.count())
    source = f"def build(row, env):\n    return {expression}\n"
    exec(compile(source, f"<rows for {shape.object_type.name}>", "exec"), namespace)  # noqa: S102
    shape.build = namespace["build"]
    generate_children(shape)


def generate_children(shape: Shape) -> None:
    for child in shape.children:
        if child.shape is not None:
            generate(child.shape, 1 if isinstance(child.reads, Children) else 0)
        elif child.connection is not None and child.connection.node is not None:
            generate(child.connection.node, 3)
    for _name, joined, _non_null in shape.joined:
        generate_children(joined)
