"""exchange.webhooks.endpoints without GraphQL: whose endpoints a key manages (another
organisation's read as unknown), URLs checked as deployed, the secret shown at creation and
rotation and stored only sealed, and a removed endpoint that keeps its log but gives up what
was pending."""

from __future__ import annotations

import datetime as dt
from collections.abc import Coroutine
from typing import Any

import pytest
from tortoise import connections

from exchange.access import Actor
from exchange.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from exchange.sealed import Unsealable
from exchange.webhooks import signing
from exchange.webhooks.endpoints import (
    MAX_DESCRIPTION_LENGTH,
    EndpointWithSecret,
    add_endpoint,
    deliveries,
    list_endpoints,
    remove_endpoint,
    rotate_secret,
)
from tests.domain.conftest import ADMIN, READ_ONLY, World, problems, refused

URL = "https://hooks.aral-fund.example/exchange"
NOW = dt.datetime.now(dt.UTC)


def add(
    world: World,
    actor: Actor,
    url: str,
    description: str | None,
    organisation_id: int | None,
    *,
    production: bool,
) -> Coroutine[Any, Any, EndpointWithSecret]:
    return add_endpoint(
        actor, url, description, organisation_id, production=production, settings=world.settings
    )


def rotate(world: World, actor: Actor, endpoint_id: int) -> Coroutine[Any, Any, EndpointWithSecret]:
    return rotate_secret(actor, endpoint_id, settings=world.settings)


async def stored_column(endpoint_id: int) -> str:
    """The secret's column as the database holds it, read with SQL, not through the model."""
    rows = await connections.get("default").execute_query_dict(
        f"SELECT sealed_secret FROM webhook_endpoint WHERE id = {int(endpoint_id)}"
    )
    return str(rows[0]["sealed_secret"])


def opened(world: World, endpoint_id: int, sealed: str) -> str:
    return signing.unseal_secret(signing.sealer(world.settings), endpoint_id, sealed)


async def test_whose_endpoints_and_which_urls(world: World) -> None:
    host = world.host_actor
    assert (await refused(add(world, READ_ONLY, URL, None, None, production=True))).code.value == "FORBIDDEN"
    another = await refused(add(world, host, URL, None, world.other.id, production=True))
    assert another.code.value == "FORBIDDEN"
    # An admin key belongs to no organisation: it names one.
    assert problems(await refused(add(world, ADMIN, URL, None, None, production=True))) == {
        ("INVALID", "organisationId")
    }
    assert problems(await refused(add(world, ADMIN, URL, None, 999_999, production=True))) == {
        ("NOT_FOUND", "organisationId")
    }
    for unsafe in (
        "http://hooks.example/x",
        "https://10.0.0.1/x",
        "https://user:pw@hooks.example/x",
        "hooks",
    ):
        assert problems(await refused(add(world, host, unsafe, None, None, production=True))) == {
            ("INVALID", "url")
        }, unsafe
    long = await refused(add(world, host, URL, "d" * (MAX_DESCRIPTION_LENGTH + 1), None, production=True))
    assert problems(long) == {("INVALID", "description")}
    assert await WebhookEndpoint.all().count() == 0
    # Outside production a local receiver is fine (development, tests).
    local = await add(world, host, "http://127.0.0.1:9000/hook", None, None, production=False)
    added = await add(world, host, f"  {URL}  ", "Our CRM", None, production=True)
    assert added.endpoint.url == URL and added.secret.startswith("whsec_")
    assert opened(world, added.endpoint.id, added.endpoint.sealed_secret) == added.secret
    assert [e.id for e in await list_endpoints(host, None)] == [local.endpoint.id, added.endpoint.id]
    assert [e.id for e in await list_endpoints(ADMIN, world.host.id)] == [
        local.endpoint.id,
        added.endpoint.id,
    ]
    assert await list_endpoints(world.other_actor, None) == []


async def test_rotation_removal_and_the_log(world: World) -> None:
    host = world.host_actor
    added = await add(world, host, URL, None, None, production=True)
    endpoint_id = added.endpoint.id
    # Someone else's endpoint is not theirs to know about.
    for call in (
        rotate(world, world.other_actor, endpoint_id),
        remove_endpoint(world.partner_actor, endpoint_id),
    ):
        assert problems(await refused(call)) == {("NOT_FOUND", "id")}

    rotated = await rotate(world, host, endpoint_id)
    assert rotated.secret != added.secret
    assert (
        opened(world, endpoint_id, (await WebhookEndpoint.get(id=endpoint_id)).sealed_secret)
        == rotated.secret
    )

    pending = await WebhookDelivery.create(
        endpoint_id=endpoint_id,
        event_id="evt_1",
        event_type="invitation.updated",
        payload={},
        next_attempt_at=NOW,
    )
    done = await WebhookDelivery.create(
        endpoint_id=endpoint_id,
        event_id="evt_2",
        event_type="invitation.updated",
        payload={},
        next_attempt_at=NOW,
        status=DeliveryStatus.DELIVERED,
    )
    removed = await remove_endpoint(host, endpoint_id)
    assert removed.disabled_at is not None and await list_endpoints(host, None) == []
    await pending.refresh_from_db()
    await done.refresh_from_db()
    assert (pending.status, pending.last_error) == (DeliveryStatus.FAILED, "endpoint removed")
    assert done.status is DeliveryStatus.DELIVERED
    # The log stays readable, newest first; the endpoint itself is gone for everything else.
    log = await deliveries(host, endpoint_id)
    assert [d.id for d in await log] == [done.id, pending.id]
    assert problems(await refused(rotate(world, host, endpoint_id))) == {("NOT_FOUND", "id")}
    assert problems(await refused(deliveries(world.other_actor, endpoint_id))) == {
        ("NOT_FOUND", "endpointId")
    }


async def test_the_secret_is_stored_sealed_after_add_and_rotation(world: World) -> None:
    host = world.host_actor
    added = await add(world, host, URL, None, None, production=True)
    endpoint_id = added.endpoint.id
    after_add = await stored_column(endpoint_id)
    rotated = await rotate(world, host, endpoint_id)
    after_rotation = await stored_column(endpoint_id)
    for column, secret in ((after_add, added.secret), (after_rotation, rotated.secret)):
        assert column.startswith("v1:")
        assert secret not in column and secret.removeprefix("whsec_") not in column
        assert opened(world, endpoint_id, column) == secret
    # Sealed to its row: the value copied to another endpoint (another organisation's) opens
    # for neither that row's context nor as plain text.
    other = await add(world, world.other_actor, URL, None, None, production=True)
    with pytest.raises(Unsealable):
        opened(world, other.endpoint.id, after_rotation)
