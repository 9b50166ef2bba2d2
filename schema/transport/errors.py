"""The one place that formats a GraphQL error for a client and masks what the client must
not see: a domain refusal becomes its code and message; a database that is away becomes
SERVICE_UNAVAILABLE; anything else unexpected becomes INTERNAL_SERVER_ERROR with the request
id, and is logged with its traceback. Every transport (HTTP, SSE, multipart, both WebSocket
protocols) formats its results here."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from asyncpg import exceptions as pg
from graphql import GraphQLError
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult
from tortoise.exceptions import DBConnectionError

from exchange.errors import DomainError, TransportCode
from schema.admission.refusal import request_error_code

# The logger the HTTP layer has always logged masked errors under (operators filter on it).
log = logging.getLogger("exchange.graphql")

INTERNAL_MESSAGE = "Internal server error."
UNAVAILABLE_MESSAGE = "The service is temporarily unavailable; retry shortly."


# The database, or the network to it, is away (a retry may succeed): the socket and its
# timeouts (DBConnectionError is a ConnectionError), and asyncpg's errors for a connection
# that broke, was refused or cannot be had.
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    DBConnectionError,
    ConnectionError,
    TimeoutError,
    OSError,
    pg.ConnectionDoesNotExistError,
    pg.InterfaceError,
    pg.CannotConnectNowError,
    pg.ConnectionFailureError,
    pg.InternalClientError,
    pg.TooManyConnectionsError,
)
# SQLite's primary result codes for a database file that cannot be used just now (Tortoise
# raises its OperationalError from sqlite3's, whose code says which).
SQLITE_UNAVAILABLE = frozenset(
    {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN}
)


def is_unavailable(error: BaseException | None) -> bool:
    """Whether an exception, or one it was raised from, means the database is away."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, UNAVAILABLE_ERRORS):
            return True
        # Extended result codes (SQLITE_IOERR_READ, ...) keep the primary code in the low byte.
        if isinstance(error, sqlite3.OperationalError) and (
            (error.sqlite_errorcode & 0xFF) in SQLITE_UNAVAILABLE
        ):
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False


def format_error(error: GraphQLError, request_id: str) -> dict[str, Any]:
    original = error.original_error
    if isinstance(original, DomainError):
        error = GraphQLError(
            original.problems[0].message,
            nodes=error.nodes,
            path=error.path,
            extensions={"code": original.code.value},
        )
    elif original is not None and not isinstance(original, GraphQLError):
        locations = [loc._asdict() for loc in error.locations or []]
        if is_unavailable(original):
            log.warning("request %s: database unavailable at %s: %r", request_id, error.path, original)
            return {
                "message": UNAVAILABLE_MESSAGE,
                "locations": locations,
                "path": error.path,
                "extensions": {"code": TransportCode.SERVICE_UNAVAILABLE, "requestId": request_id},
            }
        log.error(
            "request %s: unexpected error at %s",
            request_id,
            error.path,
            exc_info=(type(original), original, original.__traceback__),
        )
        return {
            "message": INTERNAL_MESSAGE,
            "locations": locations,
            "path": error.path,
            "extensions": {"code": TransportCode.INTERNAL_SERVER_ERROR, "requestId": request_id},
        }
    formatted: dict[str, Any] = dict(error.formatted)
    extensions = dict(formatted.get("extensions") or {})
    if isinstance(original, GraphQLError) and original.extensions:
        extensions = {**original.extensions, **extensions}
    extensions.setdefault("code", request_error_code(error))
    formatted["extensions"] = extensions
    return formatted


def format_result(result: ExecutionResult, request_id: str) -> GraphQLHTTPResponse:
    data: GraphQLHTTPResponse = {"data": result.data}
    if result.errors:
        data["errors"] = [format_error(error, request_id) for error in result.errors]
    if result.extensions:
        data["extensions"] = result.extensions
    return data
