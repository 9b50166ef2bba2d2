"""Subscriptions over WebSocket: graphql-transport-ws and the legacy graphql-ws.

- Authentication happens at ``connection_init`` (admission's step 6,
  AdmissionPipeline.connection_caller): the key from its payload, else from the upgrade
  request's Authorization header. No key or a bad key: graphql-transport-ws closes with 4403;
  graphql-ws answers ``connection_error`` and closes. Strawberry 0.341 refuses
  ``subscribe``/``start`` before an acknowledged ``connection_init`` (closes 4401); the tests
  in tests/events pin that down for both protocols.
- Every operation passes the admission pipeline (schema.admission.pipeline) before
  Strawberry starts it, and runs the document admission prepared. A refusal is an ``error``
  message; on graphql-transport-ws a document that does not parse or names no operation closes
  the socket with 4400, as Strawberry's own handling of those does.
- The per-connection cap answers each ``subscribe`` past it with an ``error`` coded
  TOO_MANY_SUBSCRIPTIONS (no task is started for it).
- Every error sent on a socket goes through the same formatting as HTTP (codes, masking).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from strawberry.exceptions import ConnectionRejectionError
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

from exchange.errors import TransportCode
from exchange.events.hub import TOO_MANY_SUBSCRIPTIONS
from exchange.settings import Settings
from schema.admission.extension import handing_over
from schema.admission.operation import SOCKET
from schema.admission.pipeline import AdmissionPipeline, Admitted, Arrival
from schema.admission.refusal import RequestError
from schema.api.context import Context
from schema.transport.errors import format_error, format_result
from schema.transport.refusals import as_refusal

if TYPE_CHECKING:
    from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage
    from strawberry.subscriptions.protocols.graphql_ws.types import StartMessage

SUBSCRIPTION_PROTOCOLS = (
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    GRAPHQL_WS_PROTOCOL,
    MULTIPART_SUBSCRIPTION_PROTOCOL,
    GRAPHQL_SSE_PROTOCOL,
)

# Refusals that close a graphql-transport-ws socket (4400) instead of answering an error.
_CLOSING = frozenset(
    {
        TransportCode.GRAPHQL_PARSE_FAILED,
        TransportCode.TOO_MANY_TOKENS,
        TransportCode.OPERATION_RESOLUTION_FAILURE,
    }
)
_CLOSE_REASON_BYTES = 123  # what a WebSocket close frame holds


def init_timeout(settings: Settings) -> timedelta:
    return timedelta(seconds=settings.websocket_init_timeout_seconds)


async def authenticate_connection(admission: AdmissionPipeline, context: Context) -> None:
    """on_ws_connect: decide who the connection acts for, or refuse it."""
    try:
        context._actor = await admission.connection_caller(context.connection_params, context._actor)
    except RequestError as refused:
        raise ConnectionRejectionError(refused.errors[0]) from None


async def admit(view: object, context: Context, payload: dict[str, Any]) -> Admitted:
    """A socket operation through the admission pipeline; raises RequestError to refuse."""
    admission = getattr(view, "admission", None)
    assert isinstance(admission, AdmissionPipeline), "the socket's view admits operations"
    variables, operation_name = payload.get("variables"), payload.get("operationName")
    for name, value, kind in (("variables", variables, dict), ("operationName", operation_name, str)):
        if value is not None and not isinstance(value, kind):
            expected = "a string" if kind is str else "an object"
            raise RequestError.of(f"`{name}` must be {expected} or null.", TransportCode.BAD_REQUEST)
    client = getattr(context.request, "client", None)
    arrival = Arrival(
        query=payload["query"],
        operation_name=operation_name,
        variables=variables or {},
        carriage=SOCKET,
        address=client.host if client else "unknown",
        caller=context._actor,  # authenticated at connection_init
    )
    try:
        return await admission.admit(arrival)
    except Exception as error:
        raise as_refusal(error, uuid.uuid4().hex) from error


def _result_payload(result: ExecutionResult) -> dict[str, Any]:
    if not result.errors and not result.extensions:
        return {"data": result.data}  # the fan-out's common case: nothing to format or mask
    return dict(format_result(result, uuid.uuid4().hex))


def _cap_error(limit: int | None) -> dict[str, Any]:
    return {
        "message": f"At most {limit} operations may run at once on one connection.",
        "extensions": {"code": TOO_MANY_SUBSCRIPTIONS},
    }


def _close_reason(message: str) -> str:
    return message.encode()[:_CLOSE_REASON_BYTES].decode(errors="ignore")


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if not self.connection_acknowledged or message["id"] in self.operations:
            await super().handle_subscribe(message)  # Strawberry closes the socket (4401, 4409)
            return
        payload: Any = message.get("payload")
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            await self.handle_invalid_message("A subscribe message carries its document in payload.query.")
            return
        try:
            admitted = await admit(self.view, self.context, payload)
        except RequestError as refusal:
            if refusal.errors[0]["extensions"]["code"] in _CLOSING:
                await self.handle_invalid_message(_close_reason(refusal.errors[0]["message"]))
                return
            refused: Any = {"id": message["id"], "type": "error", "payload": refusal.errors}
            await self.send_message(refused)
            return
        cap = self.max_subscriptions_per_connection
        if cap is not None and len(self.operations) >= cap:
            capped: Any = {"id": message["id"], "type": "error", "payload": [_cap_error(cap)]}
            await self.send_message(capped)
            return
        with handing_over(admitted.prepared):
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
            "payload": [format_error(e, uuid.uuid4().hex) for e in result.errors],
        }
        await operation.send_operation_message(error_message)


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
        if not self.connection_acknowledged:
            await super().handle_start(message)  # Strawberry closes the socket (4401)
            return
        payload: Any = message.get("payload")
        if not (isinstance(payload, dict) and isinstance(payload.get("query"), str)):
            # Strawberry reads payload["query"] unchecked: without one (a persisted document
            # sent by its hash, as over HTTP) the handler failed and the socket dropped.
            refusal = RequestError.of(
                "A start message carries the document as a string in payload.query "
                "(documents by hash alone are accepted over HTTP only).",
                TransportCode.BAD_REQUEST,
            )
            await self.send_message({"type": "error", "id": message["id"], "payload": refusal.errors[0]})
            return
        try:
            admitted = await admit(self.view, self.context, payload)
        except RequestError as refusal:
            await self.send_message({"type": "error", "id": message["id"], "payload": refusal.errors[0]})
            return
        cap = self.max_subscriptions_per_connection
        if message["id"] not in self.tasks and cap is not None and len(self.tasks) >= cap:
            await self.send_message({"type": "error", "id": message["id"], "payload": _cap_error(cap)})
            return
        with handing_over(admitted.prepared):
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
