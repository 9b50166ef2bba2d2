"""Global ids, cursors, and connection building with a page-size cap."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import strawberry
from graphql import GraphQLError

from exchange.errors import ErrorCode, TransportCode
from schema.admission.cost import FIRST_AND_LAST

T = TypeVar("T")


# ---------------------------------------------------------------- global ids


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def encode_id(type_name: str, pk: int | str) -> str:
    # base64.urlsafe_b64encode without its two Python-level calls (an id per object served).
    return (
        binascii.b2a_base64(f"{type_name}:{pk}".encode(), newline=False)
        .translate(_URLSAFE)
        .rstrip(b"=")
        .decode()
    )


def decode_id(global_id: str) -> tuple[str, int] | None:
    """(type name, primary key), or None for anything that is not one of our ids."""
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        raw = base64.urlsafe_b64decode(padded.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    type_name, sep, pk = raw.partition(":")
    number = _small_int(pk) if sep else None
    return None if number is None else (type_name, number)


# Primary keys and offsets are 32-bit integers in both databases: anything larger names no
# row and, sent along, would overflow the column's type in the statement.
_MAX_INT = 2**31 - 1


def _small_int(digits: str) -> int | None:
    """The value of 1-10 ASCII digits up to 2^31-1; None for anything else (e.g. "²", which
    str.isdigit accepts and int() refuses)."""
    if not (digits.isascii() and digits.isdigit() and len(digits) <= 10):
        return None
    value = int(digits)
    return value if value <= _MAX_INT else None


def malformed_id(type_name: str, field: Sequence[str | int], indexes: Sequence[int] = ()) -> GraphQLError:
    """BAD_USER_INPUT for ids that are not ids of ``type_name`` (at ``indexes`` of a list).

    Such an id names nothing any caller could see, so it is malformed input like a malformed
    scalar; a well-formed id of the right type that names nothing is NOT_FOUND (or a null node).
    ``extensions.field`` is the path inside the input, as in userErrors (the first bad index).
    """
    path = [str(part) for part in field]
    article = "an" if type_name[0] in "AEIOU" else "a"
    name = ".".join(path)
    if not indexes:
        message = f"`{name}` is not {article} {type_name} id."
    elif len(indexes) == 1:
        message = f"`{name}` item {indexes[0]} is not {article} {type_name} id."
    else:
        message = f"`{name}` items {', '.join(map(str, indexes))} are not {type_name} ids."
    if indexes:
        path.append(str(indexes[0]))
    return GraphQLError(message, extensions={"code": TransportCode.BAD_USER_INPUT, "field": path})


def pk_of(global_id: str, type_name: str, field: Sequence[str | int]) -> int:
    """The primary key in an id that must name ``type_name``; BAD_USER_INPUT otherwise."""
    decoded = decode_id(global_id)
    if decoded is None or decoded[0] != type_name:
        raise malformed_id(type_name, field)
    return decoded[1]


def pks_of(ids: list[strawberry.ID] | None, type_name: str, field: str) -> list[int] | None:
    """Primary keys of a list of global ids; BAD_USER_INPUT naming every index whose id is
    not one of ``type_name``."""
    if ids is None:
        return None
    decoded = [decode_id(global_id) for global_id in ids]
    bad = [index for index, item in enumerate(decoded) if item is None or item[0] != type_name]
    if bad:
        raise malformed_id(type_name, [field], bad)
    return [item[1] for item in decoded if item is not None]


# ---------------------------------------------------------------- connections


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


_CURSOR_PREFIX = "offset:"


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str, argument: str) -> int:
    try:
        raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    offset = _small_int(raw[len(_CURSOR_PREFIX) :]) if raw.startswith(_CURSOR_PREFIX) else None
    if offset is None:
        raise bad_input(f"`{argument}` is not a cursor returned by this API.")
    return offset


def bad_input(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": TransportCode.BAD_USER_INPUT})


@dataclass(frozen=True)
class PageArgs:
    """Validated first/after/last/before. ``after``/``before`` are offsets."""

    first: int | None = None
    after: int | None = None
    last: int | None = None
    before: int | None = None

    @classmethod
    def parse(
        cls,
        first: int | None,
        after: str | None,
        last: int | None,
        before: str | None,
        cap: int,
    ) -> PageArgs:
        if first is not None and last is not None:
            raise bad_input(FIRST_AND_LAST)
        for name, value in (("first", first), ("last", last)):
            if value is None:
                continue
            if value < 0:
                raise bad_input(f"`{name}` must not be negative.")
            if value > cap:
                raise bad_input(f"`{name}` must be at most {cap} (asked for {value}); page with cursors.")
        return cls(
            first=first,
            after=decode_cursor(after, "after") if after is not None else None,
            last=last,
            before=decode_cursor(before, "before") if before is not None else None,
        )

    def default_first(self, cap: int) -> PageArgs:
        if self.first is None and self.last is None:
            return PageArgs(first=cap, after=self.after, last=None, before=self.before)
        return self

    def window(self, total: int) -> tuple[int, int]:
        """[start, end) offsets of the page, per the Relay cursor connection algorithm."""
        start = 0 if self.after is None else min(self.after + 1, total)
        end = total if self.before is None else max(min(self.before, total), start)
        if self.first is not None:
            end = min(end, start + self.first)
        if self.last is not None:
            start = max(start, end - self.last)
        return start, end

    @property
    def needs_total(self) -> bool:
        """Whether the window can only be placed once the total is known."""
        return self.last is not None and self.before is None


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


__all__ = [
    "Connection",
    "Edge",
    "ErrorCode",
    "PageArgs",
    "PageInfo",
    "build_connection",
    "decode_id",
    "empty_connection",
    "encode_id",
    "malformed_id",
    "paginate_queryset",
    "pk_of",
    "pks_of",
]
