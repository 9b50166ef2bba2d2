"""Refusals the domain raises; the GraphQL layer maps them to userErrors or coded errors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class ErrorCode(StrEnum):
    # userErrors (the contract's UserErrorCode)
    INVALID = "INVALID"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    CAPACITY_REACHED = "CAPACITY_REACHED"
    EXPIRED = "EXPIRED"
    ALREADY_RESPONDED = "ALREADY_RESPONDED"
    REVOKED = "REVOKED"
    # GraphQL errors with extensions.code
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"


# Codes that are not the caller's input problem but who they are: top-level GraphQL errors.
AUTH_CODES = frozenset({ErrorCode.UNAUTHENTICATED, ErrorCode.FORBIDDEN})


class TransportCode(StrEnum):
    """Every other ``extensions.code`` the server sends: refusals of a request or a stream
    before or around execution, and failures. With ``AUTH_CODES`` these are all the codes a
    GraphQL error can carry (the README's "Error codes" table lists them; a test holds both
    to it). Here rather than in the GraphQL layer because the domain's middleware and event
    hub send some of them too."""

    # the request itself (GraphQL over HTTP)
    BAD_REQUEST = "BAD_REQUEST"
    NOT_ACCEPTABLE = "NOT_ACCEPTABLE"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    REQUEST_TOO_LARGE = "REQUEST_TOO_LARGE"
    # persisted documents
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    PERSISTED_QUERY_TOO_LARGE = "PERSISTED_QUERY_TOO_LARGE"
    PERSISTED_QUERY_HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
    PERSISTED_QUERY_NOT_ALLOWED = "PERSISTED_QUERY_NOT_ALLOWED"
    # the document, its operation and variables
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    OPERATION_RESOLUTION_FAILURE = "OPERATION_RESOLUTION_FAILURE"
    # limits
    TOO_MANY_TOKENS = "TOO_MANY_TOKENS"
    QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
    TOO_MANY_ALIASES = "TOO_MANY_ALIASES"
    TOO_MANY_ROOT_FIELDS = "TOO_MANY_ROOT_FIELDS"
    TOO_MANY_FIELDS = "TOO_MANY_FIELDS"
    INPUT_LIST_TOO_LONG = "INPUT_LIST_TOO_LONG"
    QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"
    RATE_LIMITED = "RATE_LIMITED"
    # safe retries
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    IDEMPOTENCY_IN_PROGRESS = "IDEMPOTENCY_IN_PROGRESS"
    SECRET_NOT_REPLAYED = "SECRET_NOT_REPLAYED"  # noqa: S105 (an error code, not a secret)
    # subscription streams
    EVENTS_UNAVAILABLE = "EVENTS_UNAVAILABLE"
    SLOW_CONSUMER = "SLOW_CONSUMER"
    TOO_MANY_SUBSCRIPTIONS = "TOO_MANY_SUBSCRIPTIONS"
    # failures
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    TIMEOUT = "TIMEOUT"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


@dataclass(frozen=True)
class Problem:
    code: ErrorCode
    message: str
    field: tuple[str, ...] | None = None


@dataclass
class DomainError(Exception):
    """One or more problems; ``field`` paths start inside the mutation's ``input``."""

    problems: list[Problem] = field(default_factory=list)

    def __init__(self, code: ErrorCode, message: str, field: Sequence[str | int] | None = None) -> None:
        super().__init__(message)
        self.problems = [Problem(code, message, _path(field))]

    @classmethod
    def many(cls, problems: Sequence[Problem]) -> DomainError:
        error = cls(problems[0].code, problems[0].message, problems[0].field)
        error.problems = list(problems)
        return error

    @property
    def code(self) -> ErrorCode:
        return self.problems[0].code

    @property
    def is_auth(self) -> bool:
        return self.code in AUTH_CODES


def _path(field: Sequence[str | int] | None) -> tuple[str, ...] | None:
    return None if field is None else tuple(str(part) for part in field)


class Problems:
    """Collects validation problems so a caller sees all of them at once."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, code: ErrorCode, message: str, field: Sequence[str | int] | None = None) -> None:
        self.items.append(Problem(code, message, _path(field)))

    def invalid(self, message: str, *field: str | int) -> None:
        self.add(ErrorCode.INVALID, message, field or None)

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise DomainError.many(self.items)


def unauthenticated(
    message: str = "An API key is required: send `Authorization: Bearer <key>`.",
) -> DomainError:
    return DomainError(ErrorCode.UNAUTHENTICATED, message)


def forbidden(message: str) -> DomainError:
    return DomainError(ErrorCode.FORBIDDEN, message)


def not_found(what: str, field: Sequence[str | int] | None = None) -> DomainError:
    return DomainError(ErrorCode.NOT_FOUND, f"{what} not found.", field)
