"""Subscriptions over HTTP event streams: text/event-stream (graphql-sse's distinct connections
mode) and multipart/mixed (Apollo's multipart subscriptions). A stream is admitted like every
request (schema.admission.pipeline, from schema.transport.http), then handed to Strawberry's
stream path with the document admission resolved."""

from __future__ import annotations

import contextvars
import functools
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLRequestData
from strawberry.http.streaming import HTTPStreamTransport, MultipartSubscriptionTransport, SSETransport
from strawberry.subscriptions import GRAPHQL_SSE_PROTOCOL, MULTIPART_SUBSCRIPTION_PROTOCOL
from strawberry.types.graphql import OperationType

from schema.api.context import Context
from schema.transport.execution import Admission
from schema.transport.negotiation import media_ranges, per_accept_value

if TYPE_CHECKING:
    from cross_web import AsyncHTTPRequestAdapter


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

# The admission of the stream being handed to Strawberry (set only around that call).
_STREAMING: contextvars.ContextVar[Admission | None] = contextvars.ContextVar(
    "exchange_streaming", default=None
)


class StreamingGraphQL(GraphQL[Context, None]):
    """Strawberry's view with our stream transports, choosing among them by the client's
    ``Accept``, and running a stream as admission resolved it."""

    stream_transport_classes_by_protocol = STREAM_TRANSPORTS

    def _get_stream_transport_from_headers(self, headers: Mapping[str, str]) -> HTTPStreamTransport | None:
        """The stream transport for a subscription: the client's most preferred one by
        ``q``, then by order (Strawberry's own choice ignores both); none when it accepts
        no stream. Strawberry asks this again when it runs an admitted stream."""
        accept = headers.get("accept") if isinstance(headers, Headers) else None
        if accept is None:
            accept = next((value for key, value in headers.items() if key.lower() == "accept"), "")
        return self._stream_choice(accept)

    @functools.cached_property
    def _stream_choice(self) -> Callable[[str | None], HTTPStreamTransport | None]:
        """The stream transport an ``Accept`` value chooses, remembered per value (the view's
        transports are fixed once it exists)."""
        return per_accept_value(self._choose_stream_transport)

    def _choose_stream_transport(self, accept: str | None) -> HTTPStreamTransport | None:
        ranked = sorted(
            (entry for entry in media_ranges(accept or "") if entry.quality > 0),
            key=lambda entry: -entry.quality,  # stable: equal qualities keep the client's order
        )
        for entry in ranked:
            for transport in self._stream_transport_map.values():
                if transport.accepts(entry.text):
                    return transport
        return None

    async def stream_admitted(self, request: Request, admitted: Admission, root_value: Any) -> Response:
        """Strawberry's subscription path for an admitted stream."""
        streaming = _STREAMING.set(admitted)
        try:
            response: Response = await super().run(request, admitted.context, root_value)
            return response
        finally:
            _STREAMING.reset(streaming)

    async def create_streaming_response(
        self,
        request: Request | WebSocket,
        stream: Callable[[], AsyncIterator[str]],
        sub_response: Response,
        headers: Mapping[str, str],
    ) -> Response:
        transport = self._get_stream_transport(MultipartSubscriptions.protocol)
        if isinstance(transport, MultipartSubscriptions) and headers == transport.headers:
            stream = opened(stream, transport.multipart_opening)
        return await super().create_streaming_response(request, stream, sub_response, headers)

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        """What Strawberry's stream path runs: the request as admission resolved it. Strawberry
        would read the body (or query string) again, and a document sent by its hash alone
        (APQ, allow-list mode) has no ``query`` there: the stream failed with
        MissingQueryError. The resolved text is also the one admission prepared, so
        schema.admission.extension.PreparedDocument reuses its parse and validation."""
        admitted = _STREAMING.get()
        if admitted is None:  # only admitted streams reach Strawberry's HTTP path
            return await super().parse_http_body(request)
        transport = self._get_stream_transport_from_headers(request.headers)
        return GraphQLRequestData(
            query=admitted.query,
            variables=admitted.raw_variables,
            operation_name=admitted.operation_name,
            extensions=admitted.extensions,
            protocol=transport.protocol if transport is not None else "http",
        )
