"""Admission step 3: which operation of the document runs, and whether the transport that
brought it may carry it (GET only reads; a subscription streams; a query or mutation is
answered as JSON over HTTP; a socket carries subscriptions only)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from graphql import OperationDefinitionNode, OperationType

from exchange.errors import TransportCode
from schema.admission.prepared import Prepared
from schema.admission.refusal import RequestError

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"


@dataclass(frozen=True)
class Carriage:
    """How an operation arrived, and which answers its client takes."""

    method: str = "POST"  # the HTTP method; "WEBSOCKET" for an operation sent on a socket
    json_accepted: bool = True  # a query or mutation can be answered as JSON
    streams: bool = False  # a subscription can be streamed

    @property
    def socket(self) -> bool:
        return self.method == "WEBSOCKET"


# graphql-transport-ws and graphql-ws: the connection is the stream, and nothing else is answered.
SOCKET = Carriage(method="WEBSOCKET", json_accepted=False, streams=True)


@functools.lru_cache(maxsize=16)  # the routes admit two methods: at most 8 carriages
def carriage(method: str, json_accepted: bool, streams: bool) -> Carriage:
    """The carriage of an HTTP request (one of a few, made once each)."""
    return Carriage(method, json_accepted, streams)


def select_operation(prepared: Prepared, name: str | None) -> OperationDefinitionNode:
    operation = prepared.operation(name)
    if operation is not None:
        return operation
    if name:
        message = f"Unknown operation named '{name}'."
    else:
        message = "The document holds several operations: send `operationName`."
    raise RequestError.of(message, TransportCode.OPERATION_RESOLUTION_FAILURE)


def check_carriage(kind: OperationType, carriage: Carriage) -> bool:
    """Whether the operation streams (a subscription to a client that accepts a stream);
    raises RequestError where this transport cannot carry it."""
    if carriage.socket and kind is not OperationType.SUBSCRIPTION:
        # Over HTTP the cost limit, rate limit, idempotency keys and time limit apply.
        raise RequestError.of(
            "Queries and mutations are sent over HTTP (POST /graphql); this socket carries subscriptions.",
            TransportCode.BAD_REQUEST,
        )
    streamed = kind is OperationType.SUBSCRIPTION and carriage.streams
    get_refused = kind is OperationType.MUTATION or (kind is OperationType.SUBSCRIPTION and not streamed)
    if carriage.method == "GET" and get_refused:
        raise RequestError.of(
            f"A {kind.value} cannot be sent with GET; use POST.",
            TransportCode.METHOD_NOT_ALLOWED,
            405,
            headers={"Allow": "POST"},
        )
    if kind is not OperationType.SUBSCRIPTION and not carriage.json_accepted:
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
