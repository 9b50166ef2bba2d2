"""The GraphQL endpoint over HTTP (and WebSocket): the request pipeline, error codes, masking.

An HTTP request goes through, in order (each step answers on its own when it refuses; the
steps after 1 are modules of schema.admission: document, limits, operation, variables,
pricing, authentication, rate_limit, idempotency, slot):

1. content negotiation (``Accept``; 406), the body or query string (400, 415);
2. persisted documents (APQ hash, allow-list mode);
3. the document, parsed and checked once per distinct text (schema.admission.limits: tokens,
   validation, depth, aliases, root fields, literal lists);
4. the operation (GET may only read: 405), and with it the transport: a subscription streams
   if the client accepts a stream, a query or mutation is answered as JSON if it accepts
   JSON (406 otherwise); variable coercion, variable list sizes, cost;
5. the caller (API key), the rate limit in cost points (429);
6. ``Idempotency-Key`` for mutations (replay, 409 in progress, 422 reused);
7. execution under a time limit, then the response with ``extensions.cost``.

Subscriptions over HTTP event streams pass steps 1-5, then take Strawberry's stream path with
the document step 2 resolved (one sent by its hash alone streams too); over WebSocket, the schema extension (schema.admission.extension.PreparedDocument) applies step 3 and
the allow-list.

Status codes follow GraphQL over HTTP: with ``application/graphql-response+json`` a request
error (nothing ran, no ``data``) is 400; with ``application/json`` it is 200. Every error
leaves with ``extensions.code``; anything unexpected is masked with the request id that
also appears in the log line carrying the traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Any

import orjson
from graphql import OperationType
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.streaming import HTTPStreamTransport
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from exchange import idempotency
from exchange.deadlines import within
from exchange.documents import DocumentStore
from exchange.errors import TransportCode
from exchange.i18n import parse_accept_language
from exchange.ratelimit import RateLimiter
from exchange.settings import Settings
from schema.admission import document
from schema.admission.authentication import actor_for
from schema.admission.idempotency import claim_idempotency, key_scope
from schema.admission.limits import Limits, prepare
from schema.admission.operation import GRAPHQL_RESPONSE_JSON, JSON, check_carriage, select_operation
from schema.admission.pricing import price
from schema.admission.rate_limit import charge
from schema.admission.refusal import RequestError
from schema.admission.slot import take_slot
from schema.admission.variables import coerce_variables
from schema.api.context import Context
from schema.api.errors import graphql_error
from schema.api.shown_once import for_replay
from schema.transport import live
from schema.transport.errors import INTERNAL_MESSAGE, UNAVAILABLE_MESSAGE, format_result, is_unavailable
from schema.transport.execution import Admission, Outcome, run_graphql_core, run_plan
from schema.transport.graphiql import graphiql_page
from schema.transport.negotiation import media_ranges, negotiate, wants_html
from schema.transport.params import read_params

if TYPE_CHECKING:
    from cross_web import AsyncHTTPRequestAdapter

log = logging.getLogger("exchange.graphql")

IDEMPOTENCY_WAIT_SECONDS = 5.0
# Bound on each database step before execution (key lookup, persisted document, idempotency
# claim): a database that stopped answering yields SERVICE_UNAVAILABLE, not a hung request.
DB_STEP_SECONDS = 5.0


# ---------------------------------------------------------------- the view


# The admission of the stream being handed to Strawberry (set only around that call).
_STREAMING: contextvars.ContextVar[Admission | None] = contextvars.ContextVar(
    "exchange_streaming", default=None
)


class ExchangeGraphQL(GraphQL[Context, None]):
    # Subscriptions: WebSocket handlers and HTTP stream transports (schema.transport.live).
    graphql_transport_ws_handler_class = live.TransportWSHandler
    graphql_ws_handler_class = live.LegacyWSHandler
    stream_transport_classes_by_protocol = live.STREAM_TRANSPORTS

    def __init__(self, schema: Any, settings: Settings, **kwargs: Any) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql_enabled else None,
            max_subscriptions_per_connection=settings.subscriptions_per_connection,
            allowed_origins=settings.websocket_origins or settings.cors_origins,
            subscription_protocols=live.SUBSCRIPTION_PROTOCOLS,
            connection_init_wait_timeout=live.init_timeout(settings),
            **kwargs,
        )
        self.settings = settings
        self.limits = Limits.from_settings(settings)
        self.rate_limiter = RateLimiter(settings)
        self.documents = DocumentStore()
        # Operations executing at once in this process; the others wait their turn (see
        # Settings.max_concurrent_executions).
        self.execution_slots = asyncio.Semaphore(max(1, settings.max_concurrent_executions))

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        context = Context(
            settings=self.settings,
            _actor=await actor_for(request.headers.get("authorization")),
            accept_languages=parse_accept_language(request.headers.get("accept-language")),
            request=request,
            response=response,
        )
        context.extras["request_id"] = request_id_of(request)
        return context

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        return format_result(result, request_id_of(request))

    async def on_ws_connect(self, context: Context) -> None:
        await live.authenticate_connection(context, actor_for)

    def encode_json(self, data: object) -> str:
        # str, not bytes: Strawberry sends bytes as binary WebSocket frames, and the
        # protocols' messages are text frames (graphql-ws in Node rejects binary ones, a
        # browser hands them over as a Blob).
        return orjson.dumps(data).decode()

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)

    async def render_graphql_ide(self, request: Request) -> Response:
        # Our page, not Strawberry's: subscriptions over the WebSocket, files from
        # EXCHANGE_GRAPHIQL_ASSETS_URL, and a policy that admits only those (schema.transport.graphiql).
        page = graphiql_page(self.settings.graphiql_assets_url)
        response = HTMLResponse(page.html)
        response.headers["Content-Security-Policy"] = page.content_security_policy
        return response

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        if self.is_websocket_request(request):
            return await super().run(request, context, root_value)
        return await self.handle_http(request, root_value)

    def _get_stream_transport_from_headers(self, headers: Mapping[str, str]) -> HTTPStreamTransport | None:
        """The stream transport for a subscription: the client's most preferred one by
        ``q``, then by order (Strawberry's own choice ignores both); none when it accepts
        no stream. Strawberry asks this again when it runs an admitted stream."""
        accept = next((value for key, value in headers.items() if key.lower() == "accept"), "")
        ranked = sorted(
            (entry for entry in media_ranges(accept) if entry.quality > 0),
            key=lambda entry: -entry.quality,  # stable: equal qualities keep the client's order
        )
        for entry in ranked:
            for transport in self._stream_transport_map.values():
                if transport.accepts(entry.text):
                    return transport
        return None

    async def create_streaming_response(
        self,
        request: Request | WebSocket,
        stream: Callable[[], AsyncIterator[str]],
        sub_response: Response,
        headers: Mapping[str, str],
    ) -> Response:
        transport = self._get_stream_transport(live.MultipartSubscriptions.protocol)
        if isinstance(transport, live.MultipartSubscriptions) and headers == transport.headers:
            stream = live.opened(stream, transport.multipart_opening)
        return await super().create_streaming_response(request, stream, sub_response, headers)

    # ------------------------------------------------------------ HTTP

    async def handle_http(self, request: Request, root_value: Any = UNSET) -> Response:
        accept = request.headers.get("accept")
        if (
            request.method == "GET"
            and self.graphql_ide
            and "query" not in request.query_params
            and "extensions" not in request.query_params
            and wants_html(accept)
        ):
            return await self.render_graphql_ide(request)
        # The transport is chosen once the operation is known: a query or mutation is answered
        # with ``media``, a subscription streams; a client may accept both (urql's default
        # Accept names both kinds for every operation).
        media = negotiate(accept)
        streams = self._get_stream_transport_from_headers(request.headers) is not None
        if media is None and not streams:
            not_acceptable = RequestError.of(
                f"Not acceptable: this endpoint answers {GRAPHQL_RESPONSE_JSON} or {JSON} "
                "(and streams subscriptions as text/event-stream or multipart/mixed;subscriptionSpec=1.0).",
                TransportCode.NOT_ACCEPTABLE,
            )
            return self._respond(JSON, Outcome({"errors": not_acceptable.errors}, 406))
        answer = media or JSON  # refusals before the operation is known
        try:
            admitted = await self.admit(request, json_accepted=media is not None, streams=streams)
            if admitted.streamed:
                # Strawberry's subscription path, admitted like any request (limits, the
                # allow-list, the rate limit), running the document admission resolved.
                streaming = _STREAMING.set(admitted)
                try:
                    return await super().run(request, admitted.context, root_value)
                finally:
                    _STREAMING.reset(streaming)
            outcome = await self.pipeline(request, answer, admitted)
        except Exception as error:
            outcome = self.refusal(request, answer, error)
        return self._respond(answer, outcome)

    def refusal(self, request: Request, media: str, error: Exception) -> Outcome:
        """The response for a request refused (or failed) before execution."""
        if isinstance(error, RequestError):
            body: dict[str, Any] = {"errors": error.errors}
            if error.extensions:
                body["extensions"] = error.extensions
            status = error.status or (400 if media == GRAPHQL_RESPONSE_JSON else 200)
            return Outcome(body, status, error.headers)
        request_id = request_id_of(request)
        if is_unavailable(error):
            log.warning("request %s: database unavailable: %r", request_id, error)
            refused = RequestError.of(UNAVAILABLE_MESSAGE, TransportCode.SERVICE_UNAVAILABLE)
            refused.errors[0]["extensions"]["requestId"] = request_id
            return Outcome({"errors": refused.errors}, 503, {"Retry-After": "1"})
        log.error("request %s: unexpected error before execution", request_id, exc_info=error)
        refused = RequestError.of(INTERNAL_MESSAGE, TransportCode.INTERNAL_SERVER_ERROR)
        refused.errors[0]["extensions"]["requestId"] = request_id
        return Outcome({"errors": refused.errors}, 500)

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

    def _respond(self, media: str, outcome: Outcome) -> Response:
        return Response(
            orjson.dumps(outcome.body),
            status_code=outcome.status,
            headers=outcome.headers,
            media_type=media,
        )

    async def admit(
        self, request: Request, *, json_accepted: bool = True, streams: bool = False
    ) -> Admission:
        """Every check before execution (steps 1-5 above, each a module of schema.admission);
        raises RequestError to refuse. ``json_accepted``: the client accepts a JSON answer (for
        a query or mutation); ``streams``: it accepts an HTTP event stream (for a subscription
        only)."""
        settings, graphql_schema = self.settings, self.schema._schema  # type: ignore[attr-defined]
        params = await read_params(request)
        extensions, sent_query = params.get("extensions"), params.get("query")
        if document.needs_lookup(sent_query, extensions, settings):
            query = await within(
                DB_STEP_SECONDS, document.resolve_document(self.documents, settings, sent_query, extensions)
            )
        else:  # a plain query (read_params checked it is a string) with no allow-list: no database
            query = str(sent_query)
        operation_name = params.get("operationName")
        raw_variables: dict[str, Any] = params.get("variables") or {}
        prepared = prepare(graphql_schema, query, self.limits)
        if prepared.errors:
            raise RequestError.graphql(prepared.errors)
        operation = select_operation(prepared, operation_name)
        streamed = check_carriage(
            operation.operation, method=request.method, json_accepted=json_accepted, streams=streams
        )
        document.remember(self.documents, settings, query, sent_query, extensions)
        variable_values = coerce_variables(graphql_schema, operation, raw_variables, self.limits)
        cost, cost_extension = price(graphql_schema, prepared, operation, variable_values.coerced, settings)
        sub_response = await self.get_sub_response(request)
        if request.headers.get("authorization"):
            context = await within(DB_STEP_SECONDS, self.get_context(request, sub_response))
        else:  # anonymous: no key to look up
            context = await self.get_context(request, sub_response)
        context.extras["prepared"] = prepared
        actor = context.actor_or_none
        headers, extensions_out = await charge(
            self.rate_limiter, settings, actor, client_address(request), cost, cost_extension
        )
        return Admission(
            query=query,
            operation_name=operation_name,
            raw_variables=raw_variables,
            extensions=extensions,
            prepared=prepared,
            operation=operation,
            coerced=variable_values.coerced,
            variable_values=variable_values,
            context=context,
            sub_response=sub_response,
            actor=actor,
            headers=headers,
            extensions_out=extensions_out,
            streamed=streamed,
        )

    async def pipeline(self, request: Request, media: str, admitted: Admission | None = None) -> Outcome:
        admitted = admitted or await self.admit(request)
        claim = await self.claim_for(request, admitted)
        if claim is not None and claim.status is idempotency.Status.REPLAY:
            stored = claim.response or {}
            return Outcome(
                dict(stored.get("body") or {}),
                int(stored.get("status") or 200),
                {**admitted.headers, "Idempotent-Replayed": "true"},
            )
        outcome = await self.execute_admitted(request, admitted, claim)
        outcome.body["extensions"] = {**(outcome.body.get("extensions") or {}), **admitted.extensions_out}
        outcome.headers = {**admitted.headers, **outcome.headers}
        sub_response = admitted.sub_response
        for name, value in sub_response.headers.items():
            if name.lower() not in ("content-length", "content-type"):
                outcome.headers.setdefault(name, value)
        if sub_response.status_code:
            outcome.status = sub_response.status_code
        if claim is not None and claim.record_id is not None:
            await self.settle_claim(claim.record_id, admitted, outcome)
        return outcome

    async def claim_for(self, request: Request, admitted: Admission) -> idempotency.Claim | None:
        """The mutation's ``Idempotency-Key`` claim (schema.admission.idempotency), if it sent one."""
        key = request.headers.get("idempotency-key")
        operation = admitted.operation
        if key is None or operation.operation is not OperationType.MUTATION:
            return None
        return await within(
            DB_STEP_SECONDS + IDEMPOTENCY_WAIT_SECONDS,
            claim_idempotency(
                key,
                key_scope(admitted.actor, operation, admitted.coerced, client_address(request)),
                admitted.prepared,
                operation,
                admitted.raw_variables,
                IDEMPOTENCY_WAIT_SECONDS,
            ),
        )

    async def execute_admitted(
        self, request: Request, admitted: Admission, claim: idempotency.Claim | None
    ) -> Outcome:
        """The operation run in an execution slot: by its compiled plan where it can, else by
        graphql-core. A claim is released when the run fails, so the key may be sent again."""
        slot = False
        try:
            await take_slot(self.execution_slots, self.settings.execution_timeout_seconds)
            slot = True
            timeout, request_id = self.settings.execution_timeout_seconds, request_id_of(request)
            outcome = None
            if admitted.operation.operation is OperationType.QUERY and self.settings.compiled_execution:
                outcome = await run_plan(self.schema._schema, timeout, admitted, request_id)  # type: ignore[attr-defined]
            if outcome is None:
                outcome = await run_graphql_core(self.schema, timeout, request.method, admitted, request_id)
        except BaseException:
            if claim is not None and claim.record_id is not None:
                with contextlib.suppress(Exception):
                    await within(DB_STEP_SECONDS, idempotency.release(claim.record_id))
            raise
        finally:
            if slot:
                self.execution_slots.release()
        return outcome

    async def settle_claim(self, record_id: int, admitted: Admission, outcome: Outcome) -> None:
        """The claim released after a failure a retry may fix, else completed with the answer."""
        codes = {error.get("extensions", {}).get("code") for error in outcome.body.get("errors") or []}
        if codes & {
            TransportCode.TIMEOUT,
            TransportCode.SERVICE_UNAVAILABLE,
            TransportCode.INTERNAL_SERVER_ERROR,
        }:
            await within(DB_STEP_SECONDS, idempotency.release(record_id))
            return
        # Kept for replays, but never a secret shown once (an API key, a webhook secret): the
        # stored copy has it null, with an error saying why (schema.api.shown_once).
        body = for_replay(
            self.schema._schema,  # type: ignore[attr-defined]
            self.schema._schema.mutation_type,  # type: ignore[attr-defined]
            admitted.operation.selection_set,
            admitted.prepared.fragments,
            outcome.body,
        )
        stored = {"status": outcome.status, "body": body}
        await within(DB_STEP_SECONDS, idempotency.complete(record_id, stored))


def request_id_of(request: Request | WebSocket) -> str:
    state = request.scope.setdefault("state", {})
    request_id = state.get("request_id")
    if not request_id:
        request_id = state["request_id"] = uuid.uuid4().hex
    return str(request_id)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


__all__ = ["ExchangeGraphQL", "format_result", "graphql_error", "negotiate"]
