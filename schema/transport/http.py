"""The GraphQL endpoint over HTTP (and the view the WebSocket route shares):

1. content negotiation (``Accept``; 406), the body or query string (params; 400, 415);
2. the admission pipeline every transport uses (schema.admission.pipeline), which also decides
   the transport once the operation is known: a subscription streams if the client accepts a
   stream (schema.transport.streams), a query or mutation is answered as JSON if it accepts
   JSON (406 otherwise);
3. a mutation whose ``Idempotency-Key`` was completed before is answered by its replay;
4. execution in a slot under the time limit (schema.transport.execution), then the response
   with ``extensions.cost`` and the rate limit's headers.

Status codes follow GraphQL over HTTP: with ``application/graphql-response+json`` a request
error (nothing ran, no ``data``) is 400; with ``application/json`` it is 200. Every error
leaves with ``extensions.code``; anything unexpected is masked with the request id that
also appears in the log line carrying the traceback.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import orjson
from graphql import OperationType
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.websockets import WebSocket
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from exchange.errors import TransportCode
from exchange.i18n import parse_accept_language
from exchange.settings import Settings
from schema.admission.idempotency import replayed
from schema.admission.operation import GRAPHQL_RESPONSE_JSON, JSON, Carriage, carriage
from schema.admission.pipeline import AdmissionPipeline, Admitted, Caller
from schema.admission.refusal import RequestError
from schema.api.context import Context
from schema.api.shown_once import for_replay
from schema.transport import sockets
from schema.transport.errors import format_result
from schema.transport.execution import Admission, Outcome, run_graphql_core, run_plan
from schema.transport.graphiql import graphiql_page
from schema.transport.headers import index_headers
from schema.transport.negotiation import negotiate, wants_html
from schema.transport.params import read_arrival
from schema.transport.refusals import as_refusal, request_id_of
from schema.transport.streams import StreamingGraphQL

NOT_ACCEPTABLE = (
    f"Not acceptable: this endpoint answers {GRAPHQL_RESPONSE_JSON} or {JSON} "
    "(and streams subscriptions as text/event-stream or multipart/mixed;subscriptionSpec=1.0)."
)


class ExchangeGraphQL(StreamingGraphQL):
    # Subscriptions over WebSocket (schema.transport.sockets); HTTP streams: StreamingGraphQL.
    graphql_transport_ws_handler_class = sockets.TransportWSHandler
    graphql_ws_handler_class = sockets.LegacyWSHandler

    def __init__(self, schema: Any, settings: Settings, **kwargs: Any) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql_enabled else None,
            max_subscriptions_per_connection=settings.subscriptions_per_connection,
            allowed_origins=settings.websocket_origins or settings.cors_origins,
            subscription_protocols=sockets.SUBSCRIPTION_PROTOCOLS,
            connection_init_wait_timeout=sockets.init_timeout(settings),
            **kwargs,
        )
        self.settings = settings
        self.admission = AdmissionPipeline(schema._schema, settings)

    def context_for(
        self, request: Request | WebSocket, response: Response | WebSocket, caller: Caller
    ) -> Context:
        context = Context(
            settings=self.settings,
            _actor=caller,
            accept_languages=parse_accept_language(request.headers.get("accept-language")),
            request=request,
            response=response,
        )
        context.extras["request_id"] = request_id_of(request)
        return context

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        """A socket's context (Strawberry asks at the upgrade): the caller the upgrade request's
        header names, until connection_init decides (sockets.authenticate_connection)."""
        caller = await self.admission.authenticate(request.headers.get("authorization"))
        return self.context_for(request, response, caller)

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        return format_result(result, request_id_of(request))

    async def on_ws_connect(self, context: Context) -> None:
        await sockets.authenticate_connection(self.admission, context)

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
        index_headers(request)
        return await self.handle_http(request, root_value)

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
        streams = self._stream_choice(accept) is not None
        if media is None and not streams:
            not_acceptable = RequestError.of(NOT_ACCEPTABLE, TransportCode.NOT_ACCEPTABLE)
            return self._respond(JSON, Outcome({"errors": not_acceptable.errors}, 406))
        answer = media or JSON  # refusals before the operation is known
        try:
            admitted, admission = await self.admit(
                request, carriage(request.method, media is not None, streams)
            )
            if admitted.streamed:
                # Strawberry's subscription path, running the document admission resolved.
                return await self.stream_admitted(request, admission, root_value)
            outcome = await self.respond(request, admitted, admission)
        except Exception as error:
            outcome = self.refusal(request, answer, error)
        return self._respond(answer, outcome)

    def refusal(self, request: Request, media: str, error: Exception) -> Outcome:
        """The response for a request refused (or failed) before execution."""
        refused = as_refusal(error, request_id_of(request))
        body: dict[str, Any] = {"errors": refused.errors}
        if refused.extensions:
            body["extensions"] = refused.extensions
        status = refused.status or (400 if media == GRAPHQL_RESPONSE_JSON else 200)
        return Outcome(body, status, refused.headers)

    def _respond(self, media: str, outcome: Outcome) -> Response:
        return Answer(orjson.dumps(outcome.body), outcome.status, outcome.headers, media)

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        return SubResponse()

    async def admit(self, request: Request, carriage: Carriage) -> tuple[Admitted, Admission]:
        """The request through the admission pipeline (raises RequestError to refuse), and what
        execution needs of it."""
        arrival = await read_arrival(request, carriage)
        admitted = await self.admission.admit(arrival)
        sub_response = await self.get_sub_response(request)
        context = self.context_for(request, sub_response, admitted.caller)
        context.extras["prepared"] = admitted.prepared  # Strawberry runs it (PreparedDocument)
        return admitted, Admission(arrival, admitted, context, sub_response)

    async def respond(self, request: Request, admitted: Admitted, admission: Admission) -> Outcome:
        """The answer to an admitted query or mutation: its replay, else its execution."""
        replay = replayed(admitted.claim)
        if replay is not None:
            body, status = replay
            return Outcome(body, status, {**admitted.headers, "Idempotent-Replayed": "true"})
        outcome = await self.execute(request, admitted, admission)
        extensions = outcome.body.get("extensions")
        outcome.body["extensions"] = (
            {**extensions, **admitted.extensions_out} if extensions else admitted.extensions_out
        )
        outcome.headers = {**admitted.headers, **outcome.headers} if outcome.headers else admitted.headers
        sub_response = admission.sub_response
        for name, value in sub_response.headers.items() if sub_response.raw_headers else ():
            if name.lower() not in ("content-length", "content-type"):
                outcome.headers.setdefault(name, value)
        if sub_response.status_code:
            outcome.status = sub_response.status_code
        if admitted.claim is not None:  # a mutation sent with an Idempotency-Key
            await self.admission.settle(admitted, outcome.status, outcome.body, self._replay_copy(admission))
        return outcome

    async def execute(self, request: Request, admitted: Admitted, admission: Admission) -> Outcome:
        """The operation run in an execution slot: by its compiled plan where it can, else by
        graphql-core. A claim is released when the run fails, so the key may be sent again."""
        settings = self.settings
        try:
            async with self.admission.execution_slot():
                timeout, request_id = settings.execution_timeout_seconds, request_id_of(request)
                outcome = None
                if admitted.operation.operation is OperationType.QUERY and settings.compiled_execution:
                    outcome = await run_plan(self.admission.schema, timeout, admission, request_id)
                if outcome is None:
                    outcome = await run_graphql_core(
                        self.schema, timeout, request.method, admission, request_id
                    )
        except BaseException:
            with contextlib.suppress(Exception):
                await self.admission.release(admitted)
            raise
        return outcome

    def _replay_copy(self, admission: Admission) -> Callable[[dict[str, Any]], dict[str, Any]]:
        """What a replay may show of an answer: never a secret shown once (an API key, a
        webhook secret), which the stored copy has null, with an error saying why
        (schema.api.shown_once)."""
        schema = self.admission.schema

        def copy(body: dict[str, Any]) -> dict[str, Any]:
            mutation = schema.mutation_type
            assert mutation is not None  # only mutations are claimed
            selection, fragments = admission.operation.selection_set, admission.prepared.fragments
            return for_replay(schema, mutation, selection, fragments, body)

        return copy


__all__ = ["ExchangeGraphQL"]


class SubResponse(Response):
    """What a resolver may set on the response (headers, a status), as Strawberry's sub-response
    offers it, made without rendering an empty body and deleting its content-length."""

    def __init__(self) -> None:
        self.status_code = None  # type: ignore[assignment]  # None: the answer's own status
        self.background = None
        self.body = b""
        self.raw_headers = []


class Answer(Response):
    """The JSON answer: its headers as Starlette's Response lays them out (the outcome's, then
    content-length and content-type unless given), encoded once here."""

    def __init__(self, body: bytes, status: int, headers: dict[str, str], media: str) -> None:
        self.status_code = status
        self.background = None
        self.body = body
        raw = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]
        names = {name for name, _ in raw}
        if b"content-length" not in names and status >= 200 and status not in (204, 304):
            raw.append((b"content-length", str(len(body)).encode("latin-1")))
        if b"content-type" not in names:
            if media.startswith("text/") and "charset=" not in media.lower():
                media += "; charset=utf-8"
            raw.append((b"content-type", media.encode("latin-1")))
        self.raw_headers = raw
