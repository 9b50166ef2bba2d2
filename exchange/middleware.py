"""Transport-level protections, as plain ASGI middleware: a request id on every request
and log line, a cap on request bodies, and security headers on HTML pages."""

from __future__ import annotations

import contextvars
import logging
import re
import uuid
from collections.abc import MutableMapping
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


def current_request_id() -> str | None:
    """The id of the request being served (None outside one), for log lines anywhere."""
    return request_id_var.get()


class RequestIdMiddleware:
    """One id per request: the caller's ``X-Request-Id`` if it looks sane, else a new one;
    in ``scope["state"]["request_id"]``, the logs' context and the response header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = None
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        request_id = incoming if incoming and _SAFE_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id if scope["type"] == "http" else send)
        finally:
            request_id_var.reset(token)


def graphql_error_body(message: str, code: TransportCode, **extensions: Any) -> bytes:
    return orjson.dumps({"errors": [{"message": message, "extensions": {"code": code, **extensions}}]})


class BodySizeLimitMiddleware:
    """Refuses bodies over ``max_bytes`` with 413 before the application reads them
    (declared by Content-Length, or counted while streaming)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.max_bytes:
                    await self._refuse(send)
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
                await self._refuse(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


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


class SecurityHeadersMiddleware:
    """``nosniff`` on everything; on HTML pages also CSP, framing and referrer rules, unless
    the page set its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                additions: dict[bytes, bytes] = {b"x-content-type-options": b"nosniff"}
                content_type = next(
                    (value for name, value in headers if name.lower() == b"content-type"), b""
                )
                if content_type.startswith(b"text/html"):
                    additions.update(HTML_HEADERS)
                headers.extend((name, value) for name, value in additions.items() if name not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
