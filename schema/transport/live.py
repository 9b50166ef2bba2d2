"""Transports for subscriptions: WebSocket (graphql-transport-ws and the legacy graphql-ws)
and HTTP streams (multipart/mixed subscriptions and text/event-stream).

- Authentication happens at ``connection_init``: the key from its payload
  (``{"Authorization": "Bearer ..."}``, or lower-case ``authorization``), else from the
  upgrade request's Authorization header. No key or a bad key: graphql-transport-ws closes
  with 4403; graphql-ws answers ``connection_error`` and closes. Strawberry 0.341 refuses
  ``subscribe``/``start`` before an acknowledged ``connection_init`` (closes 4401); the
  tests in tests/events pin that down for both protocols.
- The per-connection cap answers each ``subscribe`` past it with an ``error`` coded
  TOO_MANY_SUBSCRIPTIONS (no task is started for it).
- Every error sent on a socket goes through the same formatting as HTTP (codes, masking).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError, OperationDefinitionNode, parse
from graphql import OperationType as GraphQLOperationType
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.streaming import HTTPStreamTransport, MultipartSubscriptionTransport, SSETransport
from strawberry.schema.schema import StreamResult
from strawberry.subscriptions import (
    GRAPHQL_SSE_PROTOCOL,
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    GRAPHQL_WS_PROTOCOL,
    MULTIPART_SUBSCRIPTION_PROTOCOL,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.types.graphql import OperationType

from exchange import access
from exchange.errors import DomainError, ErrorCode, TransportCode
from exchange.events.hub import TOO_MANY_SUBSCRIPTIONS
from exchange.settings import Settings
from schema.api.context import Context
from schema.transport.errors import format_error, format_result

if TYPE_CHECKING:
    from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage
    from strawberry.subscriptions.protocols.graphql_ws.types import StartMessage

SUBSCRIPTION_PROTOCOLS = (
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    GRAPHQL_WS_PROTOCOL,
    MULTIPART_SUBSCRIPTION_PROTOCOL,
    GRAPHQL_SSE_PROTOCOL,
)


class SubscriptionOnlySSE(SSETransport):
    """Queries and mutations go through the HTTP pipeline (limits, rate limits,
    idempotency); the event stream transport carries subscriptions only."""

    def allowed_operation_types(self, allowed_operation_types: set[OperationType]) -> Iterable[OperationType]:
        return (OperationType.SUBSCRIPTION,)


MULTIPART_CONTENT_TYPE = 'multipart/mixed;boundary="graphql";subscriptionSpec="1.0"'


class MultipartSubscriptions(MultipartSubscriptionTransport):
    """Apollo's multipart subscription protocol framed as its specification (and Apollo
    Router) frame it: the body opens with a delimiter (``multipart_opening``, sent by the
    view before the first part, since a transport keeps no state per stream), each part is
    ``Content-Type: application/json``, a blank line and its JSON (``{}`` for a heartbeat,
    ``{"payload": ...}`` for a result) and ends with the next delimiter, so a client parses
    it as soon as it arrives; ``--`` after the last delimiter closes the body. Strawberry's
    own framing sent the first part before any delimiter (a preamble strict parsers drop)
    and named ``application/json`` inside the Content-Type."""

    @property
    def headers(self) -> Mapping[str, str]:
        return {"Content-Type": MULTIPART_CONTENT_TYPE}

    @property
    def multipart_opening(self) -> str:
        return f"\r\n--{self.separator}"

    def encode_multipart_data(self, data: object, encode_json: Callable[[object], str]) -> str:
        return f"\r\nContent-Type: application/json\r\n\r\n{encode_json(data)}\r\n--{self.separator}"

    def encode_complete(self) -> str:
        return "--\r\n"


def opened(stream: Callable[[], AsyncIterator[str]], opening: str) -> Callable[[], AsyncIterator[str]]:
    """``stream`` with ``opening`` sent first."""

    async def with_opening() -> AsyncIterator[str]:
        yield opening
        async for chunk in stream():
            yield chunk

    return with_opening


STREAM_TRANSPORTS: Mapping[str, type[HTTPStreamTransport]] = {
    MULTIPART_SUBSCRIPTION_PROTOCOL: MultipartSubscriptions,
    GRAPHQL_SSE_PROTOCOL: SubscriptionOnlySSE,
}


def _error_dict(error: GraphQLError) -> dict[str, Any]:
    return format_error(error, uuid.uuid4().hex)


def _result_payload(result: ExecutionResult) -> dict[str, Any]:
    if not result.errors and not result.extensions:
        return {"data": result.data}  # the fan-out's common case: nothing to format or mask
    return dict(format_result(result, uuid.uuid4().hex))


def _cap_error(limit: int | None) -> dict[str, Any]:
    return {
        "message": f"At most {limit} operations may run at once on one connection.",
        "extensions": {"code": TOO_MANY_SUBSCRIPTIONS},
    }


def _authorization(params: object) -> str | None:
    if not isinstance(params, dict):
        return None
    value = params.get("Authorization", params.get("authorization"))
    return value if isinstance(value, str) else None


async def authenticate_connection(
    context: Context, actor_for: Callable[[str | None], Awaitable[access.Actor | DomainError]]
) -> None:
    """on_ws_connect: decide who the connection acts for, or refuse it."""
    authorization = _authorization(context.connection_params)
    actor = await actor_for(authorization) if authorization is not None else context._actor
    if isinstance(actor, DomainError) or not actor.is_authenticated:
        reason = actor.problems[0].message if isinstance(actor, DomainError) else "An API key is required."
        raise ConnectionRejectionError({"message": reason, "extensions": {"code": ErrorCode.UNAUTHENTICATED}})
    context._actor = actor


def _not_a_subscription(query: object, operation_name: object, max_tokens: int) -> bool:
    """Whether a document clearly selects a query or mutation. Those go over HTTP, where the
    cost limit, rate limit, idempotency keys and time limit apply; a socket carries
    subscriptions only. Documents that do not parse are left to the protocol handler."""
    if not isinstance(query, str):
        return False
    try:
        document = parse(query, max_tokens=max_tokens)  # bounded: this runs before the limits do
    except GraphQLError:
        return False
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if isinstance(operation_name, str):
        operations = [op for op in operations if op.name is not None and op.name.value == operation_name]
    return len(operations) == 1 and operations[0].operation is not GraphQLOperationType.SUBSCRIPTION


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    @property
    def _max_tokens(self) -> int:
        settings = getattr(self.view, "settings", None)
        return settings.max_tokens if isinstance(settings, Settings) else 5000

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        payload: Any = message.get("payload")
        if (
            self.connection_acknowledged
            and message.get("id") not in self.operations
            and isinstance(payload, dict)
            and _not_a_subscription(payload.get("query"), payload.get("operationName"), self._max_tokens)
        ):
            refusal: Any = {
                "id": message["id"],
                "type": "error",
                "payload": [
                    {
                        "message": "Queries and mutations are sent over HTTP (POST /graphql); "
                        "this socket carries subscriptions.",
                        "extensions": {"code": TransportCode.BAD_REQUEST},
                    }
                ],
            }
            await self.send_message(refusal)
            return
        if (
            self.connection_acknowledged
            and message["id"] not in self.operations
            and self.max_subscriptions_per_connection is not None
            and len(self.operations) >= self.max_subscriptions_per_connection
        ):
            capped: Any = {
                "id": message["id"],
                "type": "error",
                "payload": [_cap_error(self.max_subscriptions_per_connection)],
            }
            await self.send_message(capped)
            return
        await super().handle_subscribe(message)

    async def _send_result_stream(
        self, operation: Operation[Context, None], result_source: StreamResult
    ) -> None:
        first = True
        async for result in result_source:
            if first and isinstance(result, PreExecutionError):
                await self._handle_pre_execution_error(operation, result)
                return
            if not isinstance(result, ExecutionResult):
                await self._reject_incremental_delivery(operation)
                return
            next_message: Any = {"id": operation.id, "type": "next", "payload": _result_payload(result)}
            await operation.send_operation_message(next_message)
            first = False

    async def _handle_pre_execution_error(
        self, operation: Operation[Context, None], result: PreExecutionError
    ) -> None:
        assert result.errors
        if self._get_pre_execution_close_reason(result.errors[0]):
            await super()._handle_pre_execution_error(operation, result)
            return
        error_message: Any = {
            "id": operation.id,
            "type": "error",
            "payload": [_error_dict(e) for e in result.errors],
        }
        await operation.send_operation_message(error_message)


def init_timeout(settings: Settings) -> timedelta:
    return timedelta(seconds=settings.websocket_init_timeout_seconds)


class LegacyWSHandler(BaseGraphQLWSHandler[Context, None]):
    async def handle(self) -> None:
        # graphql-ws has no init timeout of its own: a socket that never says connection_init
        # would be held open for free. Close it like graphql-transport-ws does (4408).
        deadline = asyncio.create_task(self._close_unless_initialised())
        try:
            await super().handle()
        finally:
            deadline.cancel()

    async def _close_unless_initialised(self) -> None:
        await asyncio.sleep(self.view.connection_init_wait_timeout.total_seconds())
        if not self.connection_acknowledged:
            with contextlib.suppress(Exception):
                await self.websocket.close(code=4408, reason="Connection initialisation timeout")

    async def handle_start(self, message: StartMessage) -> None:
        payload: Any = message.get("payload")
        if self.connection_acknowledged and not (
            isinstance(payload, dict) and isinstance(payload.get("query"), str)
        ):
            # Strawberry reads payload["query"] unchecked: without one (a persisted document
            # sent by its hash, as over HTTP) the handler failed and the socket dropped.
            await self.send_message(
                {
                    "type": "error",
                    "id": message["id"],
                    "payload": {
                        "message": "A start message carries the document as a string in payload.query "
                        "(documents by hash alone are accepted over HTTP only).",
                        "extensions": {"code": TransportCode.BAD_REQUEST},
                    },
                }
            )
            return
        if (
            self.connection_acknowledged
            and message["id"] not in self.tasks
            and self.max_subscriptions_per_connection is not None
            and len(self.tasks) >= self.max_subscriptions_per_connection
        ):
            await self.send_message(
                {
                    "type": "error",
                    "id": message["id"],
                    "payload": _cap_error(self.max_subscriptions_per_connection),
                }
            )
            return
        await super().handle_start(message)

    async def send_data_message(self, execution_result: ExecutionResult, operation_id: str) -> None:
        await self.send_message(
            {"type": "data", "id": operation_id, "payload": _result_payload(execution_result)}
        )

    async def send_message(self, message: Any) -> None:
        if message.get("type") == "error" and isinstance(message.get("payload"), dict):
            payload = message["payload"]
            if "extensions" not in payload:
                payload = {**payload, "extensions": {"code": TransportCode.GRAPHQL_VALIDATION_FAILED}}
            message = {**message, "payload": payload}
        await super().send_message(message)
