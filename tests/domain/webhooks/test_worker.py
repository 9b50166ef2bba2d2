"""exchange.webhooks.worker with secrets sealed at rest (SQLite and PostgreSQL): deliveries are
signed with the opened secret exactly as before (Standard Webhooks, checked with the
`standardwebhooks` package); a secret that no key of the server opens fails its deliveries
with a clear delivery-log entry and log line (neither carrying the secret), never an
exception, until the organisation rotates it; a previous server key still opens what it
sealed."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import httpx
import orjson
import pytest
from standardwebhooks import Webhook

from exchange.models import DeliveryStatus, WebhookDelivery
from exchange.settings import Settings
from exchange.webhooks.endpoints import EndpointWithSecret, add_endpoint, deliveries, rotate_secret
from exchange.webhooks.worker import CANNOT_SIGN, WebhookWorker
from tests.domain.conftest import World

OLD_KEY = "old-server-key-" + "o" * 30
NEW_KEY = "new-server-key-" + "n" * 30
NOW = dt.datetime.now(dt.UTC)
PAYLOAD = {"type": "invitation.status_changed", "data": {"eventId": "evt_1"}}


def with_keys(world: World, secret_key: str, previous: list[str] | None = None) -> Settings:
    return world.settings.model_copy(
        update={"secret_key": secret_key, "previous_secret_keys": previous or []}
    )


def worker(settings: Settings, received: list[httpx.Request]) -> WebhookWorker:
    """A worker whose HTTP client records each request and answers 204, instead of sending it."""

    def answer(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(204)

    running = WebhookWorker(settings)
    running._client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    return running


async def added_with(world: World, settings: Settings) -> EndpointWithSecret:
    return await add_endpoint(
        world.host_actor, "http://127.0.0.1:9/hook", None, None, production=False, settings=settings
    )


async def pending(endpoint_id: int) -> WebhookDelivery:
    return await WebhookDelivery.create(
        endpoint_id=endpoint_id,
        event_id="evt_1",
        event_type="invitation.status_changed",
        payload=PAYLOAD,
        next_attempt_at=NOW,
    )


def verified(secret: str, request: httpx.Request) -> Any:
    return Webhook(secret).verify(request.content, dict(request.headers))


async def test_deliveries_are_signed_with_the_opened_secret(world: World) -> None:
    added = await added_with(world, world.settings)
    row = await pending(added.endpoint.id)
    received: list[httpx.Request] = []
    await worker(world.settings, received).deliver(row)
    [request] = received
    assert request.content == orjson.dumps(PAYLOAD)
    assert verified(added.secret, request) == PAYLOAD
    assert (await WebhookDelivery.get(id=row.id)).status is DeliveryStatus.DELIVERED


async def test_an_unopenable_secret_fails_clearly_until_rotated(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    # Sealed under a key the server no longer has (EXCHANGE_SECRET_KEY changed, the old one
    # not listed as previous).
    added = await added_with(world, with_keys(world, OLD_KEY))
    row = await pending(added.endpoint.id)
    server = with_keys(world, NEW_KEY)
    received: list[httpx.Request] = []
    running = worker(server, received)
    with caplog.at_level(logging.INFO, logger="exchange.webhooks"):
        await running.deliver(row)  # returns: no exception for the worker's guard to log

    assert received == []
    failed = await WebhookDelivery.get(id=row.id)
    assert (failed.status, failed.attempts, failed.last_error, failed.claimed_until) == (
        DeliveryStatus.PENDING,  # retried with back-off, like any failed attempt
        1,
        CANNOT_SIGN,
        None,
    )
    assert failed.next_attempt_at > NOW
    # The organisation reads why in its delivery log.
    log_page = await deliveries(world.host_actor, added.endpoint.id)
    assert [d.last_error for d in await log_page] == [CANNOT_SIGN]
    # The operator reads which endpoint and why; neither reads the secret or its sealed form.
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and f"endpoint {added.endpoint.id}" in warnings[0].getMessage()
    assert "no key of this server opens it" in warnings[0].getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    for value in (added.secret, added.secret.removeprefix("whsec_"), added.endpoint.sealed_secret):
        assert value not in caplog.text

    # Rotating the secret recovers: the retry is signed with the new secret.
    rotated = await rotate_secret(world.host_actor, added.endpoint.id, settings=server)
    await running.deliver(failed)
    [request] = received
    assert verified(rotated.secret, request) == PAYLOAD
    delivered = await WebhookDelivery.get(id=row.id)
    assert (delivered.status, delivered.attempts, delivered.last_error) == (DeliveryStatus.DELIVERED, 2, None)


async def test_a_previous_key_still_opens_what_it_sealed(world: World) -> None:
    added = await added_with(world, with_keys(world, OLD_KEY))
    row = await pending(added.endpoint.id)
    received: list[httpx.Request] = []
    await worker(with_keys(world, NEW_KEY, [OLD_KEY]), received).deliver(row)
    [request] = received
    assert verified(added.secret, request) == PAYLOAD
