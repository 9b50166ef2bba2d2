"""exchange.middleware.EdgeMiddleware at the ASGI level: the request id and the declared body
size read from headers as sent (repeated names included), the body handed on both ways, and
the response's edge headers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from exchange.middleware import BODY, EdgeMiddleware, read_body

Message = dict[str, Any]


class Endpoint:
    """An app behind the edge: records what it saw, answers with ``headers``."""

    def __init__(self, headers: list[tuple[bytes, bytes]], receive_twice: bool = False) -> None:
        self.headers = headers
        self.receive_twice = receive_twice
        self.scope: dict[str, Any] = {}
        self.received: list[Message] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.scope = scope
        if scope["method"] == "POST":
            self.received.append(await receive())
            if self.receive_twice:
                self.received.append(await receive())
        await send({"type": "http.response.start", "status": 200, "headers": self.headers})
        await send({"type": "http.response.body", "body": b"ok"})


async def call(
    app: Endpoint, headers: Iterable[tuple[bytes, bytes]], chunks: list[bytes], method: str = "POST"
) -> list[Message]:
    incoming = [
        {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        for index, chunk in enumerate(chunks)
    ]
    incoming.append({"type": "http.disconnect"})
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": "/graphql", "headers": headers}
    await EdgeMiddleware(app, max_bytes=100)(scope, receive, send)
    return sent


def response_headers(sent: list[Message]) -> list[tuple[bytes, bytes]]:
    return list(sent[0]["headers"])


async def test_the_body_is_handed_on_whole_both_ways() -> None:
    app = Endpoint([(b"content-type", b"application/json")], receive_twice=True)
    await call(app, [(b"content-length", b"11")], [b"hello", b" ", b"world"])
    assert read_body(app.scope) == b"hello world" == app.scope[BODY]
    assert app.received[0] == {"type": "http.request", "body": b"hello world", "more_body": False}
    assert app.received[1] == {"type": "http.disconnect"}  # afterwards, the client's own receive


async def test_a_get_has_no_body_in_the_scope() -> None:
    app = Endpoint([(b"content-type", b"application/json")])
    await call(app, [], [], method="GET")
    assert read_body(app.scope) is None


async def test_the_first_request_id_of_repeated_ones_is_taken() -> None:
    app = Endpoint([(b"content-type", b"application/json")])
    sent = await call(app, [(b"x-request-id", b"first-id"), (b"x-request-id", b"second-id")], [b"{}"])
    assert (b"x-request-id", b"first-id") in response_headers(sent)
    assert app.scope["state"]["request_id"] == "first-id"


async def test_the_largest_declared_length_of_repeated_ones_counts() -> None:
    app = Endpoint([(b"content-type", b"application/json")])
    sent = await call(app, [(b"content-length", b"2"), (b"content-length", b"1000")], [b"{}"])
    assert sent[0]["status"] == 413 and not app.scope  # refused before the app
    sent = await call(app, [(b"content-length", b"1000")], [b"{}"])
    assert sent[0]["status"] == 413


async def test_headers_given_as_any_iterable() -> None:
    app = Endpoint([(b"content-type", b"application/json")])
    headers = ((name, value) for name, value in [(b"x-request-id", b"from-a-generator")])
    sent = await call(app, headers, [b"{}"])
    assert (b"x-request-id", b"from-a-generator") in response_headers(sent)
    assert app.received[0]["body"] == b"{}"


async def test_a_bad_declared_length_is_no_length() -> None:
    app = Endpoint([(b"content-type", b"application/json")])
    sent = await call(app, [(b"content-length", b"twelve")], [b"{}"])
    assert sent[0]["status"] == 200 and app.received[0]["body"] == b"{}"
    sent = await call(app, [(b"content-length", b"x"), (b"content-length", b"y")], [b"{}"])
    assert sent[0]["status"] == 200


async def test_edge_headers_added_unless_the_response_set_them() -> None:
    page = Endpoint([(b"content-type", b"text/html; charset=utf-8"), (b"x-frame-options", b"SAMEORIGIN")])
    headers = dict(response_headers(await call(page, [], [], method="GET")))
    assert headers[b"x-content-type-options"] == b"nosniff"
    assert headers[b"x-frame-options"] == b"SAMEORIGIN"  # the page's own rule kept
    assert headers[b"content-security-policy"].startswith(b"default-src 'self'")
    assert headers[b"referrer-policy"] == b"no-referrer"
    api = Endpoint([(b"content-type", b"application/json"), (b"x-content-type-options", b"nosniff")])
    sent = response_headers(await call(api, [], [], method="GET"))
    assert [name for name, _ in sent].count(b"x-content-type-options") == 1
    assert b"content-security-policy" not in dict(sent)  # page rules on HTML only
    assert sent[-1][0] == b"x-request-id"
