"""Transport-level protections, as plain ASGI middleware: a request id on every request
and log line, a cap on request bodies, and security headers on HTML pages."""

from __future__ import annotations

import contextvars
import logging
import os
import re
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from exchange.errors import TransportCode

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


_INVITATION_LINK = re.compile(r"/invitations/[^/?#\s]+")
# A certificate's code opens a page with the holder's name: theirs to hand out, not the log's.
_CERTIFICATE_CODE = re.compile(r"/certificates/[^/?#\s.]+")
ACCESS_LOGGER = "uvicorn.access"


def redact_path(path: str) -> str:
    """A request path fit for a log: an invitation link's token is the volunteer's only
    credential, and a GraphQL GET may carry one in its query string."""
    path = _INVITATION_LINK.sub("/invitations/[token]", path)
    path = _CERTIFICATE_CODE.sub("/certificates/[code]", path)
    return "/graphql?[redacted]" if path.startswith("/graphql?") else path


class AccessLogRedaction(logging.Filter):
    """Rewrites the paths in uvicorn's access log lines (their arguments), nothing else."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact_path(arg) if isinstance(arg, str) else arg for arg in record.args)
        return True


def redact_access_log() -> None:
    """Installs AccessLogRedaction once per process (every app built adds it at most once)."""
    access = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(existing, AccessLogRedaction) for existing in access.filters):
        access.addFilter(AccessLogRedaction())


# The scope key of a request body EdgeMiddleware has read whole (at most its max_bytes).
BODY = "exchange.body"


def read_body(scope: Scope) -> bytes | None:
    """The request's body as EdgeMiddleware read it; None where it did not (GET, or an app
    not behind it). A middleware placed after the edge that rewrote bodies (none does) would
    have to drop it from the scope."""
    body: bytes | None = scope.get(BODY)
    return body


def current_request_id() -> str | None:
    """The id of the request being served (None outside one), for log lines anywhere."""
    return request_id_var.get()


def graphql_error_body(message: str, code: TransportCode, **extensions: Any) -> bytes:
    return orjson.dumps({"errors": [{"message": message, "extensions": {"code": code, **extensions}}]})


# GraphiQL sets its own, looser policy (it loads its scripts from a CDN).
DEFAULT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HTML_HEADERS = {
    b"content-security-policy": DEFAULT_CSP.encode(),
    b"x-frame-options": b"DENY",
    b"referrer-policy": b"no-referrer",
}


def new_request_id() -> str:
    # An id, not a secret: 128 random bits in hex, without uuid4's object per request.
    return os.urandom(16).hex()


def _with_edge_headers(headers: Any, request_id: bytes) -> list[tuple[bytes, bytes]]:
    """The response's headers, then ``nosniff`` (and on HTML pages the page rules) unless the
    response set its own, then ``X-Request-Id``. Names are compared as sent: the ASGI
    specification has applications send them in lower case (Starlette's responses do)."""
    headers = list(headers)
    present = dict(headers)  # the last value of a repeated name; only content-type's is read
    if b"x-content-type-options" not in present:
        headers.append((b"x-content-type-options", b"nosniff"))
    if present.get(b"content-type", b"").startswith(b"text/html"):
        headers.extend((name, value) for name, value in HTML_HEADERS.items() if name not in present)
    headers.append((b"x-request-id", request_id))
    return headers


def _request_id_and_length(headers: Any) -> tuple[str | None, int]:
    """The first ``X-Request-Id`` and the largest ``Content-Length`` declared (0: none)."""
    if not isinstance(headers, list | tuple):  # ASGI allows any iterable
        headers = list(headers)
    index = dict(headers)
    if len(index) == len(headers):  # no name repeated (as usual): looked up, not scanned
        incoming, lengths = index.get(b"x-request-id"), (index.get(b"content-length", b"0"),)
    else:
        incoming = next((value for name, value in headers if name == b"x-request-id"), None)
        lengths = tuple(value for name, value in headers if name == b"content-length")
    declared = 0
    for length in lengths:
        try:
            declared = max(declared, int(length))
        except ValueError:
            pass
    return (None if incoming is None else incoming.decode("latin-1")), declared


class EdgeMiddleware:
    """What every request meets first, in one pass (one layer, not three: it runs for every
    request):

    - a request id: the caller's ``X-Request-Id`` if it looks sane, else a new one; in
      ``scope["state"]["request_id"]``, the logs' context and the response header;
    - ``nosniff`` on every HTTP response; on HTML pages also CSP, framing and referrer rules,
      unless the page set its own;
    - bodies over ``max_bytes`` refused with 413 before the application reads them (declared
      by Content-Length, or counted while streaming); a refusal carries the headers above.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            await self.app(scope, receive, send)
            return
        incoming, declared = _request_id_and_length(scope.get("headers", ()))
        request_id = incoming if incoming and _SAFE_ID.match(incoming) else new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)
        try:
            if kind == "websocket":
                await self.app(scope, receive, send)
                return
            marked = request_id.encode()

            async def send_marked(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message = {**message, "headers": _with_edge_headers(message.get("headers", ()), marked)}
                await send(message)

            if scope["method"] in ("GET", "HEAD", "OPTIONS"):
                await self.app(scope, receive, send_marked)
                return
            if declared > self.max_bytes:
                await self._refuse(send_marked)
                return
            # Read the body here (it is at most max_bytes), then hand it on in one piece.
            chunks: list[bytes] = []
            size = 0
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self.max_bytes:
                    await self._refuse(send_marked)
                    return
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
            body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
            # Also in the scope: an endpoint may take it from there instead of receiving it
            # again (``read_body``); anything else receives it once as usual.
            scope[BODY] = body
            delivered = False

            async def replay() -> Message:
                nonlocal delivered
                if not delivered:
                    delivered = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()

            await self.app(scope, replay, send_marked)
        finally:
            request_id_var.reset(token)

    async def _refuse(self, send: Send) -> None:
        body = graphql_error_body(
            f"The request body is larger than {self.max_bytes} bytes.",
            TransportCode.REQUEST_TOO_LARGE,
            maxBytes=self.max_bytes,
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
