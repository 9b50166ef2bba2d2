"""DomainError -> userErrors for mutations, or a GraphQL error with extensions.code."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLError

from exchange.errors import AUTH_CODES, DomainError, ErrorCode


@strawberry.enum(name="UserErrorCode")
class UserErrorCode(enum.Enum):
    INVALID = "INVALID"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    CAPACITY_REACHED = "CAPACITY_REACHED"
    EXPIRED = "EXPIRED"
    ALREADY_RESPONDED = "ALREADY_RESPONDED"
    REVOKED = strawberry.enum_value("REVOKED", description="The invitation was revoked by its organiser.")


def by_domain_code(
    domain: Iterable[ErrorCode] = ErrorCode, contract: Iterable[UserErrorCode] = UserErrorCode
) -> dict[ErrorCode, UserErrorCode]:
    """The contract's enum is written out above (its names and descriptions are the schema's)
    and held to the domain's here: userErrors carry every domain code except AUTH_CODES, which
    stay GraphQL errors. A code on one side only stops the server at import, instead of
    reaching a caller as a masked internal error at its first refusal."""
    by_name = {code.name: code for code in domain if code not in AUTH_CODES}
    in_contract = {code.name: code for code in contract}
    if by_name.keys() != in_contract.keys():
        raise RuntimeError(
            "UserErrorCode (schema.api.errors) and the domain's ErrorCode (exchange.errors) differ in "
            f"{', '.join(sorted(by_name.keys() ^ in_contract.keys()))}: add the code to both."
        )
    return {by_name[name]: in_contract[name] for name in by_name}


USER_ERROR_CODES = by_domain_code()


@strawberry.type(
    description="A problem with the input that the caller can fix; field is the path into the input, "
    'e.g. ["invitees", "2", "email"].'
)
class UserError:
    field: list[str] | None
    message: str
    code: UserErrorCode


def user_errors(error: DomainError) -> list[UserError]:
    return [
        UserError(
            field=list(problem.field) if problem.field is not None else None,
            message=problem.message,
            code=USER_ERROR_CODES[problem.code],
        )
        for problem in error.problems
    ]


def graphql_error(error: DomainError) -> GraphQLError:
    return GraphQLError(error.problems[0].message, extensions={"code": error.code.value})


P = TypeVar("P")


async def mutate(payload: Callable[..., P], action: Callable[[], Awaitable[dict[str, Any]]]) -> P:
    """Run a service call; input problems become the payload's userErrors, while
    authentication and permission refusals stay GraphQL errors with a code."""
    try:
        fields = await action()
    except DomainError as error:
        if error.is_auth:
            raise graphql_error(error) from error
        return payload(user_errors=user_errors(error))
    return payload(user_errors=[], **fields)


def prefix_field(error: DomainError, *prefix: str) -> DomainError:
    """Anchor field paths under e.g. ``input`` when a service validated a sub-object."""
    for index, problem in enumerate(error.problems):
        if problem.field is not None:
            error.problems[index] = type(problem)(problem.code, problem.message, (*prefix, *problem.field))
    return error


__all__ = [
    "USER_ERROR_CODES",
    "ErrorCode",
    "UserError",
    "UserErrorCode",
    "graphql_error",
    "mutate",
    "user_errors",
]
