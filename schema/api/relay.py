"""Global ids: encoding, decoding, and the BAD_USER_INPUT for an id of the wrong kind.

The page arguments and cursors live in ``schema.api.paging``, the connection types in
``schema.api.connections``; their names stay importable from here so code written against
this module's old contents keeps working (import them from their homes in new code).
"""

from __future__ import annotations

import binascii
from collections.abc import Sequence

import strawberry
from graphql import GraphQLError

from exchange.errors import ErrorCode, TransportCode
from schema.api.connections import (
    Connection,
    Edge,
    PageInfo,
    build_connection,
    empty_connection,
    paginate_queryset,
)
from schema.api.opaque import small_int, unpadded_b64decode
from schema.api.paging import PageArgs, bad_input, decode_cursor, encode_cursor

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
    raw = unpadded_b64decode(global_id)
    if raw is None:
        return None
    type_name, sep, pk = raw.partition(":")
    number = small_int(pk) if sep else None
    return None if number is None else (type_name, number)


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


__all__ = [
    "Connection",
    "Edge",
    "ErrorCode",
    "PageArgs",
    "PageInfo",
    "bad_input",
    "build_connection",
    "decode_cursor",
    "decode_id",
    "empty_connection",
    "encode_cursor",
    "encode_id",
    "malformed_id",
    "paginate_queryset",
    "pk_of",
    "pks_of",
]
