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
