"""One class per transport that can carry a GraphQL operation to /graphql, each with the same
``send(operation, authorization) -> Outcome``, so one admission case runs unchanged over every
transport (the way Strawberry's own suite runs one test over every integration).

Queries and mutations: HTTP POST and GET. Subscriptions: HTTP server-sent events
(``text/event-stream``), Apollo's multipart subscriptions (``multipart/mixed``), and the
WebSocket protocols graphql-transport-ws and graphql-ws. All speak to a real uvicorn server.

An outcome is the first answer to the operation: the error codes, the data, the HTTP status
or the WebSocket close code, and for a subscription whether the server admitted it (it shows up
in /healthz's count of live subscriptions, since an admitted subscription says nothing until an
event arrives).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

GRAPHQL_RESPONSE = "application/graphql-response+json"
SSE_ACCEPT = "text/event-stream"
MULTIPART_ACCEPT = 'multipart/mixed;subscriptionSpec="1.0",application/json'  # Apollo Client's
# How long a subscription may take to be refused or admitted.
ANSWER_SECONDS = 5.0
POLL_SECONDS = 0.02


# Every client gets this context instead of building one from the CA bundle (tens of ms
# each); the servers speak plain HTTP anyway.
_TLS = ssl.create_default_context()


def new_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=10, verify=_TLS, trust_env=False)


@dataclass(frozen=True)
class Operation:
    document: str
    variables: dict[str, Any] | None = None
    # Request extensions, e.g. Apollo's persistedQuery.
    extensions: dict[str, Any] | None = None
    # False: the document is sent by its hash only (extensions.persistedQuery).
    send_document: bool = True
    # Extra HTTP headers (Idempotency-Key); sockets have none per operation.
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if self.send_document:
            body["query"] = self.document
        if self.variables is not None:
            body["variables"] = self.variables
        if self.extensions is not None:
            body["extensions"] = self.extensions
        return body


@dataclass
class Outcome:
    codes: list[str]
    data: Any = None
    # HTTP status, or the close code of a WebSocket the server closed.
    status: int | None = None
    # A subscription the server admitted and is running (waiting for events).
    subscribed: bool = False
    messages: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, payload: Any, status: int | None = None) -> Outcome:
        """From a GraphQL result, a list of errors or one error."""
        if isinstance(payload, dict) and "message" in payload and "data" not in payload:
            errors = [payload]
        elif isinstance(payload, list):
            errors = payload
        else:
            errors = (payload or {}).get("errors") or []
        data = payload.get("data") if isinstance(payload, dict) else None
        return cls(
            codes=[str((error.get("extensions") or {}).get("code")) for error in errors],
            data=data,
            status=status,
            messages=[str(error.get("message")) for error in errors],
        )


@dataclass(frozen=True)
class Server:
    """A running server: where it listens."""

    http: str

    @property
    def ws(self) -> str:
        return self.http.replace("http://", "ws://") + "/graphql"

    async def live_subscriptions(self, client: httpx.AsyncClient) -> int:
        count: int = (await client.get(self.http + "/healthz")).json()["live"]["subscriptions"]
        return count


def _headers(authorization: str | None, accept: str, extra: dict[str, str]) -> dict[str, str]:
    headers = {"Accept": accept, **extra}
    if authorization is not None:
        headers["Authorization"] = authorization
    return headers


class Transport:
    name: ClassVar[str]
    # What the transport carries: "query" (queries and mutations) or "subscription".
    carries: ClassVar[str]

    def __init__(self, server: Server) -> None:
        self.server = server

    async def send(self, operation: Operation, authorization: str | None) -> Outcome:
        raise NotImplementedError

    def __repr__(self) -> str:
        return self.name


class HttpPost(Transport):
    name = "POST"
    carries = "query"

    async def send(self, operation: Operation, authorization: str | None) -> Outcome:
        async with new_client() as client:
            response = await client.post(
                self.server.http + "/graphql",
                json=operation.body(),
                headers=_headers(authorization, GRAPHQL_RESPONSE, operation.headers),
            )
        return Outcome.of(response.json(), response.status_code)


class HttpGet(Transport):
    name = "GET"
    carries = "query"

    async def send(self, operation: Operation, authorization: str | None) -> Outcome:
        params = {
            name: value if isinstance(value, str) else json.dumps(value)
            for name, value in operation.body().items()
        }
        async with new_client() as client:
            response = await client.get(
                self.server.http + "/graphql",
                params=params,
                headers=_headers(authorization, GRAPHQL_RESPONSE, operation.headers),
            )
        return Outcome.of(response.json(), response.status_code)


class _Subscriptions(Transport):
    carries = "subscription"

    async def send(self, operation: Operation, authorization: str | None) -> Outcome:
        async with new_client() as client:
            before = await self.server.live_subscriptions(client)
            outcome = await self.subscribe(client, operation, authorization, before)
            # Ours must be gone before the next case counts: the count is the only signal.
            await self._until(client, lambda count: count <= before)
        return outcome

    async def subscribe(
        self, client: httpx.AsyncClient, operation: Operation, authorization: str | None, before: int
    ) -> Outcome:
        raise NotImplementedError

    async def _until(self, client: httpx.AsyncClient, done: Any) -> bool:
        deadline = asyncio.get_running_loop().time() + ANSWER_SECONDS
        while asyncio.get_running_loop().time() < deadline:
            if done(await self.server.live_subscriptions(client)):
                return True
            await asyncio.sleep(POLL_SECONDS)
        return False

    async def first_answer(
        self, client: httpx.AsyncClient, answers: AsyncIterator[Outcome], before: int, status: int | None
    ) -> Outcome:
        """The first answer the server sends, or ``subscribed`` once it counts the
        subscription as live without having answered."""
        first = asyncio.ensure_future(anext(answers, Outcome([], status=status)))
        admitted = asyncio.ensure_future(self._until(client, lambda count: count > before))
        try:
            await asyncio.wait({first, admitted}, timeout=ANSWER_SECONDS, return_when=asyncio.FIRST_COMPLETED)
            if first.done():
                return first.result()
            if admitted.done() and admitted.result():
                return Outcome([], status=status, subscribed=True)
            raise AssertionError(f"{self.name}: neither an answer nor a live subscription")
        finally:
            for task in (first, admitted):
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task


class ServerSentEvents(_Subscriptions):
    name = "SSE"

    async def subscribe(
        self, client: httpx.AsyncClient, operation: Operation, authorization: str | None, before: int
    ) -> Outcome:
        headers = _headers(authorization, SSE_ACCEPT, operation.headers)
        async with client.stream(
            "POST", self.server.http + "/graphql", json=operation.body(), headers=headers
        ) as response:
            if not response.headers["content-type"].startswith(SSE_ACCEPT):
                # Refused before the stream began: a plain GraphQL response.
                return Outcome.of(json.loads(await response.aread()), response.status_code)

            async def events() -> AsyncIterator[Outcome]:
                kind = None
                async for line in response.aiter_lines():
                    if line.startswith("event:"):
                        kind = line.removeprefix("event:").strip()
                    elif line.startswith("data:") and kind == "next":
                        yield Outcome.of(json.loads(line.removeprefix("data:")), response.status_code)
                    elif kind == "complete":
                        return

            return await self.first_answer(client, events(), before, response.status_code)


class MultipartSubscriptions(_Subscriptions):
    name = "multipart"

    async def subscribe(
        self, client: httpx.AsyncClient, operation: Operation, authorization: str | None, before: int
    ) -> Outcome:
        headers = _headers(authorization, MULTIPART_ACCEPT, operation.headers)
        async with client.stream(
            "POST", self.server.http + "/graphql", json=operation.body(), headers=headers
        ) as response:
            if not response.headers["content-type"].startswith("multipart/mixed"):
                return Outcome.of(json.loads(await response.aread()), response.status_code)

            async def parts() -> AsyncIterator[Outcome]:
                buffer = ""
                async for chunk in response.aiter_text():
                    buffer += chunk
                    *complete, buffer = buffer.split("\r\n--graphql")
                    for part in complete:
                        _, _, body = part.partition("\r\n\r\n")
                        value = json.loads(body) if body.strip() else {}
                        if "payload" in value:  # {} is a heartbeat
                            yield Outcome.of(value["payload"], response.status_code)

            return await self.first_answer(client, parts(), before, response.status_code)


class _WebSocket(_Subscriptions):
    protocol: ClassVar[str]
    subscribe_type: ClassVar[str]

    async def subscribe(
        self, client: httpx.AsyncClient, operation: Operation, authorization: str | None, before: int
    ) -> Outcome:
        async with connect(self.server.ws, subprotocols=[self.protocol], open_timeout=10) as socket:  # type: ignore[list-item]
            init = {"Authorization": authorization} if authorization is not None else {}
            await socket.send(json.dumps({"type": "connection_init", "payload": init}))
            messages = self.messages(socket)
            answer = await anext(messages)
            if answer.status is not None:
                return answer  # closed at connection_init
            if answer.codes:  # graphql-ws: connection_error, then the server closes
                closed = await anext(messages, Outcome([]))
                return Outcome(answer.codes, None, closed.status, messages=answer.messages)
            payload = operation.body()
            await socket.send(json.dumps({"id": "1", "type": self.subscribe_type, "payload": payload}))
            return await self.first_answer(client, messages, before, None)

    async def messages(self, socket: ClientConnection) -> AsyncIterator[Outcome]:
        """Each protocol message as an outcome (an ack as no codes), then the close code."""
        while True:
            try:
                raw = await socket.recv()
            except ConnectionClosed as closed:
                yield Outcome([], status=closed.rcvd.code if closed.rcvd else None)
                return
            message = json.loads(raw)
            kind = message.get("type")
            if kind in ("ka", "ping", "pong"):
                continue
            if kind in ("connection_ack", "complete"):
                yield Outcome([])
            elif kind in ("error", "connection_error"):
                yield Outcome.of(message.get("payload"))
            else:  # next / data
                yield Outcome.of(message.get("payload"))


class GraphQLTransportWS(_WebSocket):
    name = "graphql-transport-ws"
    protocol = "graphql-transport-ws"
    subscribe_type = "subscribe"


class LegacyGraphQLWS(_WebSocket):
    name = "graphql-ws"
    protocol = "graphql-ws"
    subscribe_type = "start"


TRANSPORTS: tuple[type[Transport], ...] = (
    HttpPost,
    HttpGet,
    ServerSentEvents,
    MultipartSubscriptions,
    GraphQLTransportWS,
    LegacyGraphQLWS,
)
