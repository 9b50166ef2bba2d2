"""The GraphQL endpoint over HTTP (and WebSocket): context building, error codes, masking.

Every error leaves here with ``extensions.code``; anything unexpected is masked with a
request id that also appears in the log line carrying the traceback.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import orjson
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from exchange import access
from exchange.errors import DomainError, unauthenticated
from exchange.i18n import parse_accept_language
from exchange.settings import Settings
from schema.context import Context
from schema.errors import graphql_error

log = logging.getLogger("exchange.graphql")

INTERNAL_MESSAGE = "Internal server error."


def bearer_secret(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, secret = authorization.partition(" ")
    return secret.strip() if scheme.lower() == "bearer" and secret.strip() else authorization.strip() or None


async def actor_for(authorization: str | None) -> access.Actor | DomainError:
    secret = bearer_secret(authorization)
    try:
        return await access.authenticate(secret)
    except access.InvalidKey:
        return unauthenticated("The API key is unknown or revoked.")


def classify(error: GraphQLError) -> str:
    """extensions.code for an error graphql-core raised itself (no resolver involved)."""
    message = error.message
    if message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if (
        message.startswith("Variable '$")
        or "Expected value of type" in message
        or "cannot represent" in message
    ):
        return "BAD_USER_INPUT"
    return "GRAPHQL_VALIDATION_FAILED"


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
        log.error(
            "request %s: unexpected error at %s",
            request_id,
            error.path,
            exc_info=(type(original), original, original.__traceback__),
        )
        return {
            "message": INTERNAL_MESSAGE,
            "locations": [loc._asdict() for loc in error.locations or []],
            "path": error.path,
            "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
        }
    formatted: dict[str, Any] = dict(error.formatted)
    extensions = dict(formatted.get("extensions") or {})
    if isinstance(original, GraphQLError) and original.extensions:
        extensions = {**original.extensions, **extensions}
    extensions.setdefault("code", classify(error))
    formatted["extensions"] = extensions
    return formatted


def format_result(result: ExecutionResult, request_id: str) -> GraphQLHTTPResponse:
    data: GraphQLHTTPResponse = {"data": result.data}
    if result.errors:
        data["errors"] = [format_error(error, request_id) for error in result.errors]
    if result.extensions:
        data["extensions"] = result.extensions
    return data


class ExchangeGraphQL(GraphQL[Context, None]):
    def __init__(self, schema: Any, settings: Settings, **kwargs: Any) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql_enabled else None,
            max_subscriptions_per_connection=settings.subscriptions_per_connection,
            allowed_origins=settings.websocket_origins or settings.cors_origins,
            **kwargs,
        )
        self.settings = settings

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        context = Context(
            settings=self.settings,
            _actor=await actor_for(request.headers.get("authorization")),
            accept_languages=parse_accept_language(request.headers.get("accept-language")),
            request=request,
            response=response,
        )
        context.extras["request_id"] = request.headers.get("x-request-id") or uuid.uuid4().hex
        return context

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        request_id = getattr(request.state, "request_id", None) or uuid.uuid4().hex
        return format_result(result, request_id)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)


__all__ = ["ExchangeGraphQL", "format_result", "graphql_error"]
