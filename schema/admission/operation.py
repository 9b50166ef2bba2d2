"""Admission step: which operation of the document runs, and whether this request may carry
it (GET only reads; a subscription streams; a query or mutation is answered as JSON)."""

from __future__ import annotations

from graphql import OperationDefinitionNode, OperationType

from exchange.errors import TransportCode
from schema.admission.limits import Prepared
from schema.admission.refusal import RequestError

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"


def select_operation(prepared: Prepared, name: str | None) -> OperationDefinitionNode:
    operation = prepared.operation(name)
    if operation is not None:
        return operation
    if name:
        message = f"Unknown operation named '{name}'."
    else:
        message = "The document holds several operations: send `operationName`."
    raise RequestError.of(message, TransportCode.OPERATION_RESOLUTION_FAILURE)


def check_carriage(kind: OperationType, *, method: str, json_accepted: bool, streams: bool) -> bool:
    """Whether the operation streams (a subscription to a client that accepts a stream);
    raises RequestError where this request cannot carry it."""
    streamed = kind is OperationType.SUBSCRIPTION and streams
    get_refused = kind is OperationType.MUTATION or (kind is OperationType.SUBSCRIPTION and not streamed)
    if method == "GET" and get_refused:
        raise RequestError.of(
            f"A {kind.value} cannot be sent with GET; use POST.",
            TransportCode.METHOD_NOT_ALLOWED,
            405,
            headers={"Allow": "POST"},
        )
    if kind is not OperationType.SUBSCRIPTION and not json_accepted:
        raise RequestError.of(
            f"Only subscriptions are streamed; a {kind.value} is answered as {GRAPHQL_RESPONSE_JSON} "
            f"or {JSON}, and the Accept header names neither.",
            TransportCode.NOT_ACCEPTABLE,
            406,
        )
    if kind is OperationType.SUBSCRIPTION and not streamed:
        raise RequestError.of(
            "Subscriptions run over WebSocket (graphql-transport-ws, graphql-ws) or over HTTP with "
            'Accept: multipart/mixed;subscriptionSpec="1.0" or text/event-stream.',
            TransportCode.BAD_REQUEST,
            400,
        )
    return streamed
