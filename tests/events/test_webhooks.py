"""Webhooks end to end: a server process with the delivery worker, a receiver on 127.0.0.1
in this test, signatures checked with the `standardwebhooks` package, retries after 500s,
and a delivery in flight when the server is stopped is delivered after it restarts."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks import Webhook

from exchange.models import DeliveryStatus, InvitationStatus, WebhookDelivery
from schema.api.relay import encode_id
from tests.events.conftest import (
    Server,
    change,
    gql_http,
    make_exchange,
    make_invitation,
    make_org,
    server_env,
    start_servers,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

ADD = """
mutation($url: String!) {
  addWebhookEndpoint(url: $url, description: "test receiver") {
    endpoint { id url description }
    secret
    userErrors { field message code }
  }
}
"""
ROTATE = "mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret userErrors { code } } }"
DELIVERIES = """
query($id: ID!) {
  webhookDeliveries(endpointId: $id, first: 10) {
    edges { node { eventId eventType status attempts lastStatusCode lastError deliveredAt createdAt } }
  }
}
"""


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A tiny HTTP/1.1 server: answers each POST with the next planned status (then 204)."""

    plan: list[int | Callable[[], Any]] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    arrived: asyncio.Condition = field(default_factory=asyncio.Condition)
    port: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode().split("\r\n")
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            async with self.arrived:
                self.received.append(Received(headers, body))
                self.arrived.notify_all()
            step = self.plan.pop(0) if self.plan else 204
            status = await step() if callable(step) else step
            writer.write(f"HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".encode())
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def wait_for(self, count: int, within: float = 20.0) -> list[Received]:
        async with self.arrived:
            await asyncio.wait_for(self.arrived.wait_for(lambda: len(self.received) >= count), within)
        return self.received[:count]


@contextlib.asynccontextmanager
async def receiver() -> AsyncIterator[Receiver]:
    rx = Receiver()
    server = await asyncio.start_server(rx.handle, "127.0.0.1", 0)
    rx.port = server.sockets[0].getsockname()[1]
    try:
        yield rx
    finally:
        server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 2)


@pytest.fixture(scope="module")
def webhook_env(pg_url: str, channel: str) -> dict[str, str]:
    return server_env(
        pg_url,
        channel,
        EXCHANGE_RUN_WEBHOOK_WORKER="true",
        EXCHANGE_WEBHOOK_POLL_SECONDS="0.1",
        EXCHANGE_WEBHOOK_RETRY_BASE_SECONDS="0.1",
        EXCHANGE_WEBHOOK_TIMEOUT_SECONDS="30",
        EXCHANGE_SHUTDOWN_DRAIN_SECONDS="0.5",
    )


@pytest.fixture(scope="module")
def server_w(webhook_env: dict[str, str], log_dir: Path) -> Iterator[Server]:
    server = Server(webhook_env)
    start_servers([server], log_dir)
    yield server
    server.terminate()


async def add_endpoint(server: Server, key: str, port: int) -> tuple[str, str]:
    result = await gql_http(server.http, ADD, {"url": f"http://127.0.0.1:{port}/hook"}, key=key)
    payload = result["data"]["addWebhookEndpoint"]
    assert payload["userErrors"] == []
    assert payload["secret"].startswith("whsec_")
    return payload["endpoint"]["id"], payload["secret"]


async def deliveries(server: Server, key: str, endpoint_id: str) -> list[dict[str, Any]]:
    result = await gql_http(server.http, DELIVERIES, {"id": endpoint_id}, key=key)
    return [edge["node"] for edge in result["data"]["webhookDeliveries"]["edges"]]


async def until_delivered(server: Server, key: str, endpoint_id: str, within: float = 20.0) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        rows = await deliveries(server, key, endpoint_id)
        if rows and rows[0]["status"] == "DELIVERED":
            return rows[0]
        assert asyncio.get_running_loop().time() < deadline, rows
        await asyncio.sleep(0.1)


async def test_signed_deliveries_retry_after_errors_and_reach_only_organisers(
    orm: Any, server_w: Server
) -> None:
    host, partner, other = await make_org("host"), await make_org("partner"), await make_org("other")
    exchange = await make_exchange(host, partner)
    invitation = await make_invitation(exchange, host)
    async with receiver() as rx, receiver() as other_rx:
        host_endpoint, secret = await add_endpoint(server_w, host.key, rx.port)
        partner_endpoint, partner_secret = await add_endpoint(server_w, partner.key, rx.port)
        other_endpoint, _ = await add_endpoint(server_w, other.key, other_rx.port)
        rx.plan = [500, 500]  # two failures, whoever they are for; then 204s

        event = await change(invitation, None, InvitationStatus.QUEUED)
        got = await rx.wait_for(4)  # host and partner: at least one retry each or two for one
        host_row = await until_delivered(server_w, host.key, host_endpoint)
        partner_row = await until_delivered(server_w, partner.key, partner_endpoint)
        got = rx.received

        for item in got:
            assert item.headers["webhook-id"] == event.event_id
            # Whichever endpoint it was for, exactly one of the two secrets verifies it.
            verified = []
            for candidate in (secret, partner_secret):
                with contextlib.suppress(Exception):
                    verified.append(Webhook(candidate).verify(item.body, item.headers))
            assert len(verified) == 1
            payload = verified[0]
            assert payload["type"] == "invitation.status_changed"
            assert payload["data"]["invitationId"] == encode_id("Invitation", invitation.id)
            assert payload["data"]["exchangeId"] == encode_id("ExperienceExchange", exchange.id)
            assert (payload["data"]["previousStatus"], payload["data"]["status"]) == (None, "QUEUED")
        # A tampered body does not verify.
        with pytest.raises(Exception):
            Webhook(secret).verify(got[0].body + b" ", got[0].headers)

        assert host_row["attempts"] + partner_row["attempts"] == 4
        assert {host_row["lastStatusCode"], partner_row["lastStatusCode"]} == {204}
        assert host_row["eventId"] == event.event_id and host_row["lastError"] is None
        # Not an organiser: no delivery at all.
        assert await deliveries(server_w, other.key, other_endpoint) == []
        assert other_rx.received == []

        # A rotated secret signs what follows; the old one no longer verifies it.
        rotated = (await gql_http(server_w.http, ROTATE, {"id": host_endpoint}, key=host.key))["data"]
        new_secret = rotated["rotateWebhookSecret"]["secret"]
        assert new_secret.startswith("whsec_") and new_secret != secret
        await gql_http(
            server_w.http,
            "mutation($id: ID!) { removeWebhookEndpoint(id: $id) { removedId } }",
            {"id": partner_endpoint},
            key=partner.key,
        )
        before = len(rx.received)
        second = await change(invitation, InvitationStatus.QUEUED, InvitationStatus.SENT)
        latest = (await rx.wait_for(before + 1))[-1]
        assert latest.headers["webhook-id"] == second.event_id
        assert Webhook(new_secret).verify(latest.body, latest.headers)["data"]["status"] == "SENT"
        with pytest.raises(Exception):
            Webhook(secret).verify(latest.body, latest.headers)


async def test_delivery_in_flight_at_shutdown_is_delivered_after_restart(
    orm: Any, server_w: Server, webhook_env: dict[str, str], log_dir: Path
) -> None:
    # The module's only worker process is stopped mid-delivery (this test runs last).
    server = server_w
    host = await make_org("host")
    exchange = await make_exchange(host)
    invitation = await make_invitation(exchange, host)
    stuck, release = asyncio.Event(), asyncio.Event()

    async def hang() -> int:
        stuck.set()
        await release.wait()
        return 204

    try:
        async with receiver() as rx:
            endpoint_id, secret = await add_endpoint(server, host.key, rx.port)
            rx.plan = [hang]
            event = await change(invitation, None, InvitationStatus.QUEUED)
            await asyncio.wait_for(stuck.wait(), 20)
            # Stopped while the POST is in flight: the row goes back to PENDING, unclaimed.
            await asyncio.to_thread(server.terminate)
            row = await WebhookDelivery.get(event_id=event.event_id)
            assert row.status is DeliveryStatus.PENDING and row.claimed_until is None

            restarted = Server(webhook_env)
            start_servers([restarted], log_dir)
            try:
                delivered = await until_delivered(restarted, host.key, endpoint_id)
            finally:
                await asyncio.to_thread(restarted.terminate)
            assert delivered["eventId"] == event.event_id
            # At-least-once: the receiver saw the event twice, with one webhook-id to dedupe by.
            assert [r.headers["webhook-id"] for r in rx.received] == [event.event_id, event.event_id]
            assert Webhook(secret).verify(rx.received[-1].body, rx.received[-1].headers)
            release.set()
    finally:
        await asyncio.to_thread(server.terminate)
