"""Apollo's multipart subscription protocol, byte for byte: the body opens with a delimiter,
each part is ``Content-Type: application/json``, a blank line and ``{}`` (heartbeat) or
``{"payload": ...}``, closed by the next delimiter as soon as it is sent, and the body ends
with the close delimiter. Read raw from the ASGI app, by an RFC 2046 parser (Python's email
package) and by the algorithm of Apollo Client's ``readMultipartBody``."""

from __future__ import annotations

import asyncio
import contextlib
import email.parser
import email.policy
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager

from bench.asgi import post_scope
from exchange.app import create_app
from exchange.models import InvitationStatus
from schema.api.relay import encode_id
from tests.conftest import make_settings
from tests.events.conftest import SUBSCRIBE, change, make_exchange, make_invitation, make_org

ACCEPT = 'multipart/mixed;boundary="graphql";subscriptionSpec=1.0,application/json'  # Apollo Client's
OPENING = b"\r\n--graphql\r\nContent-Type: application/json\r\n\r\n"
DELIMITER = b"\r\n--graphql"
CLOSE = b"\r\n--graphql--\r\n"


class RawStream:
    """One POST /graphql driven at the ASGI level, so every body chunk is seen as sent."""

    def __init__(self, app: Any, body: dict[str, Any], headers: dict[str, str]) -> None:
        self.app = app
        self.request = json.dumps(body).encode()
        self.headers = [(b"content-type", b"application/json")] + [
            (name.lower().encode(), value.encode()) for name, value in headers.items()
        ]
        self.sent: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.gone = asyncio.Event()
        self.requested = False

    async def receive(self) -> dict[str, Any]:
        if not self.requested:
            self.requested = True
            return {"type": "http.request", "body": self.request, "more_body": False}
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        await self.sent.put(message)

    async def start(self) -> dict[str, str]:
        self.task = asyncio.create_task(
            self.app(post_scope("/graphql", self.headers), self.receive, self.send)
        )
        start = await asyncio.wait_for(self.sent.get(), 10)
        assert start["type"] == "http.response.start", start
        assert start["status"] == 200
        return {name.decode().lower(): value.decode() for name, value in start["headers"]}

    async def chunk(self, within: float = 10.0) -> bytes | None:
        """The next body chunk; None when the body has ended."""
        message = await asyncio.wait_for(self.sent.get(), within)
        assert message["type"] == "http.response.body", message
        body: bytes = message.get("body", b"")
        if not message.get("more_body", False):
            return body or None
        return body

    async def close(self) -> None:
        self.gone.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.task, 10)


def apollo_read(chunks: list[bytes]) -> list[dict[str, Any]]:
    """What Apollo Client's readMultipartBody hands on from these chunks, read one at a time
    (a part is read when the delimiter after it has arrived; heartbeats are dropped)."""
    boundary = "\r\n--graphql"
    buffer, results = "", []
    for chunk in chunks:
        buffer += chunk.decode()
        at = buffer.find(boundary)
        while at > -1:
            message, buffer = buffer[:at], buffer[at + len(boundary) :]
            split = message.find("\r\n\r\n")
            headers = {
                line.partition(":")[0].strip().lower(): line.partition(":")[2].strip()
                for line in message[: max(split, 0)].split("\n")
                if ":" in line
            }
            assert "application/json" in headers.get("content-type", "application/json")
            body = message[split:] if split > -1 else ""
            if body.strip():
                result = json.loads(body)
                if "payload" in result:
                    results.append(result["payload"])
            at = buffer.find(boundary)
    return results


def rfc_parts(content_type: str, body: bytes) -> tuple[str | None, list[Any]]:
    """The preamble and parts an RFC 2046 parser finds in the body."""
    parser = email.parser.BytesParser(policy=email.policy.HTTP)
    message = parser.parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    assert message.is_multipart() and not message.defects, message.defects
    return message.preamble, list(message.iter_parts())


@contextlib.asynccontextmanager
async def application(database_url: str, tmp_path: Path) -> AsyncIterator[Any]:
    app = create_app(make_settings(database_url, tmp_path))
    async with LifespanManager(app) as manager:
        yield manager.app


async def test_a_finished_stream_is_framed_exactly(sqlite_database_url: str, tmp_path: Path) -> None:
    """Without a key the subscription ends at once with its refusal: the whole body."""
    async with application(sqlite_database_url, tmp_path) as app:
        stream = RawStream(app, {"query": SUBSCRIBE}, {"accept": ACCEPT})
        headers = await stream.start()
        chunks = []
        while (chunk := await stream.chunk()) is not None:
            chunks.append(chunk)
        await stream.close()

    content_type = headers["content-type"]
    assert content_type.startswith("multipart/mixed") and "application/json" not in content_type
    assert 'boundary="graphql"' in content_type and 'subscriptionSpec="1.0"' in content_type
    body = b"".join(chunks)
    assert body.startswith(OPENING), body[:80]
    assert body.endswith(CLOSE), body[-40:]
    # Between the opening and the close: only whole parts, each closed by a delimiter.
    preamble, *parts, epilogue = body.split(DELIMITER)
    assert preamble == b"" and epilogue == b"--\r\n"
    payloads = []
    for part in parts:
        assert part.startswith(b"\r\nContent-Type: application/json\r\n\r\n"), part
        value = json.loads(part.split(b"\r\n\r\n", 1)[1])
        assert value == {} or set(value) == {"payload"}, value
        if value:
            payloads.append(value["payload"])
    assert [error["extensions"]["code"] for error in payloads[0]["errors"]] == ["UNAUTHENTICATED"]
    assert len(payloads) == 1

    preamble_text, rfc = rfc_parts(content_type, body)
    assert not preamble_text  # nothing before the first delimiter
    assert all(part.get_content_type() == "application/json" for part in rfc)
    assert [json.loads(part.get_content()) for part in rfc] == [
        json.loads(part.split(b"\r\n\r\n", 1)[1]) for part in parts
    ]
    assert apollo_read(chunks) == payloads


async def test_each_event_is_readable_as_soon_as_it_is_sent(sqlite_database_url: str, tmp_path: Path) -> None:
    async with application(sqlite_database_url, tmp_path) as app:
        host = await make_org("host")
        exchange = await make_exchange(host)
        invitation = await make_invitation(exchange, host)
        stream = RawStream(
            app, {"query": SUBSCRIBE}, {"accept": ACCEPT, "authorization": f"Bearer {host.key}"}
        )
        await stream.start()
        try:
            chunks = [await stream.chunk()]
            assert chunks[0] is not None and chunks[0].startswith(DELIMITER)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                for _ in range(200):
                    if (await client.get("/healthz")).json()["live"]["subscriptions"] == 1:
                        break
                    await asyncio.sleep(0.025)
            await change(invitation, None, InvitationStatus.QUEUED)

            while not apollo_read(chunks):
                chunk = await stream.chunk()
                assert chunk is not None
                # Every part leaves with the delimiter after it: a client reads it at once
                # instead of waiting for the next heartbeat.
                assert chunk.endswith(DELIMITER), chunk
                chunks.append(chunk)
        finally:
            await stream.close()

    [payload] = apollo_read(chunks)
    event = payload["data"]["invitationUpdates"]
    assert event["status"] == "QUEUED" and event["invitation"]["id"] == encode_id("Invitation", invitation.id)
    body = b"".join(c for c in chunks if c)
    assert body.startswith(OPENING)
