"""How an admission step refuses a request: a ``RequestError`` (nothing ran), with the code
graphql-core's own errors carry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError, VariableDefinitionNode

from exchange.errors import TransportCode


def request_error_code(error: GraphQLError) -> TransportCode:
    """extensions.code for an error graphql-core raised itself (no resolver involved, so it has
    none), from what it is: a syntax error, a variable's value (graphql-core reports those at
    the variable's definition), else a document the schema does not allow. Every error of
    ours carries its code from where it is raised."""
    if isinstance(error, GraphQLSyntaxError) or isinstance(error.original_error, GraphQLSyntaxError):
        return TransportCode.GRAPHQL_PARSE_FAILED
    if error.nodes and isinstance(error.nodes[0], VariableDefinitionNode):
        return TransportCode.BAD_USER_INPUT
    return TransportCode.GRAPHQL_VALIDATION_FAILED


@dataclass
class RequestError(Exception):
    """A request refused before execution; ``status`` None means the GraphQL-over-HTTP rule
    (400 for graphql-response+json, 200 for application/json)."""

    errors: list[dict[str, Any]]
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, message: str, code: TransportCode, status: int | None = None, **kwargs: Any) -> RequestError:
        return cls([{"message": message, "extensions": {"code": code}}], status, **kwargs)

    @classmethod
    def graphql(cls, errors: list[GraphQLError], status: int | None = None, **kwargs: Any) -> RequestError:
        formatted = []
        for error in errors:
            item = dict(error.formatted)
            item["extensions"] = {"code": request_error_code(error), **(error.extensions or {})}
            formatted.append(item)
        return cls(formatted, status, **kwargs)
