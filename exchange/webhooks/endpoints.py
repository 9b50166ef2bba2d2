"""Webhook endpoints of an organisation: add (the signing secret is returned once), list,
remove, rotate the secret, and read the delivery log. The secret is stored sealed with the
server's key (exchange.webhooks.signing.seal_secret), never in plain text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from exchange import access
from exchange.access import Actor
from exchange.errors import ErrorCode, Problems, not_found
from exchange.models import DeliveryStatus, Organisation, WebhookDelivery, WebhookEndpoint
from exchange.sealed import Unsealable
from exchange.settings import Settings
from exchange.webhooks import signing
from exchange.webhooks.safety import UnsafeUrl, check_url

MAX_ENDPOINTS_PER_ORGANISATION = 20
MAX_URL_LENGTH = 1000
MAX_DESCRIPTION_LENGTH = 300


@dataclass(frozen=True)
class EndpointWithSecret:
    endpoint: WebhookEndpoint
    secret: str


async def add_endpoint(
    actor: Actor,
    url: str,
    description: str | None,
    organisation_id: int | None,
    *,
    production: bool,
    settings: Settings,
) -> EndpointWithSecret:
    owner = access.webhook_owner_for(actor, organisation_id)
    url = url.strip()
    problems = Problems()
    if len(url) > MAX_URL_LENGTH:
        problems.invalid(f"The URL is longer than {MAX_URL_LENGTH} characters.", "url")
    else:
        try:
            check_url(url, production)
        except UnsafeUrl as error:
            problems.invalid(str(error), "url")
    if description is not None and len(description) > MAX_DESCRIPTION_LENGTH:
        problems.invalid(
            f"The description is longer than {MAX_DESCRIPTION_LENGTH} characters.", "description"
        )
    problems.raise_if_any()
    async with in_transaction() as connection:
        # Locked so two concurrent adds cannot both pass the count below (PostgreSQL; SQLite
        # has one writer at a time anyway).
        if await Organisation.filter(id=owner).select_for_update().using_db(connection).first() is None:
            raise not_found("Organisation", ["organisationId"])
        count = (
            await WebhookEndpoint.filter(organisation_id=owner, disabled_at=None).using_db(connection).count()
        )
        if count >= MAX_ENDPOINTS_PER_ORGANISATION:
            problems.add(
                ErrorCode.CONFLICT,
                f"An organisation may have at most {MAX_ENDPOINTS_PER_ORGANISATION} webhook endpoints.",
                ["url"],
            )
            problems.raise_if_any()
        secret = signing.new_secret()
        # The seal is bound to the row's id, known once it is inserted: the row is written
        # with an empty value first, in this transaction, so no one else ever sees it so.
        endpoint = await WebhookEndpoint.create(
            organisation_id=owner, url=url, sealed_secret="", description=description, using_db=connection
        )
        endpoint.sealed_secret = signing.seal_secret(signing.sealer(settings), endpoint.id, secret)
        await endpoint.save(update_fields=["sealed_secret"], using_db=connection)
    return EndpointWithSecret(endpoint, secret)


async def list_endpoints(actor: Actor, organisation_id: int | None) -> list[WebhookEndpoint]:
    owner = access.webhook_owner_for(actor, organisation_id)
    return await WebhookEndpoint.filter(organisation_id=owner, disabled_at=None).order_by("id")


async def endpoint_for(
    actor: Actor, endpoint_id: int, field: str = "id", *, include_removed: bool = False
) -> WebhookEndpoint:
    """Someone else's endpoint is NOT_FOUND, not FORBIDDEN: its existence is not theirs to know."""
    access.require_writer(actor)
    endpoint = await WebhookEndpoint.get_or_none(id=endpoint_id)
    if (
        endpoint is None
        or (endpoint.disabled_at is not None and not include_removed)
        or not access.can_manage_webhooks(actor, endpoint.organisation_id)
    ):
        raise not_found("WebhookEndpoint", [field])
    return endpoint


async def remove_endpoint(actor: Actor, endpoint_id: int) -> WebhookEndpoint:
    """Disabled rather than deleted, so its delivery log stays readable (webhookDeliveries);
    deliveries still pending are given up."""
    endpoint = await endpoint_for(actor, endpoint_id)
    now = datetime.now(UTC)
    async with in_transaction() as connection:
        await WebhookEndpoint.filter(id=endpoint.id).using_db(connection).update(disabled_at=now)
        await (
            WebhookDelivery.filter(endpoint_id=endpoint.id, status=DeliveryStatus.PENDING)
            .using_db(connection)
            .update(status=DeliveryStatus.FAILED, last_error="endpoint removed")
        )
    endpoint.disabled_at = now
    return endpoint


async def rotate_secret(actor: Actor, endpoint_id: int, *, settings: Settings) -> EndpointWithSecret:
    """The new secret signs every delivery from now on, retries of older events included.
    Also the way back for an endpoint whose stored secret no key of the server opens any more
    (its deliveries fail with "signing secret unreadable" until then)."""
    endpoint = await endpoint_for(actor, endpoint_id)
    secret = signing.new_secret()
    sealed = signing.seal_secret(signing.sealer(settings), endpoint.id, secret)
    await WebhookEndpoint.filter(id=endpoint.id).update(sealed_secret=sealed)
    endpoint.sealed_secret = sealed
    return EndpointWithSecret(endpoint, secret)


@dataclass(frozen=True)
class Resealed:
    resealed: int  # sealed again under the current key
    current: int  # already under the current key
    unreadable: list[int]  # endpoint ids whose secret no key opens: their organisations rotate it


async def reseal_secrets(settings: Settings) -> Resealed:
    """After EXCHANGE_SECRET_KEY changed, with the old key in EXCHANGE_PREVIOUS_SECRET_KEYS:
    every stored secret (removed endpoints' too) sealed again under the current key, so the
    old key may then leave that list. For the operator (`exchange reseal-webhook-secrets`)."""
    sealer = signing.sealer(settings)
    resealed, current, unreadable = 0, 0, []
    for endpoint_id, sealed in await WebhookEndpoint.all().order_by("id").values_list("id", "sealed_secret"):
        try:
            again = signing.reseal_secret(sealer, endpoint_id, sealed)
        except Unsealable:
            unreadable.append(endpoint_id)
            continue
        if again is None:
            current += 1
            continue
        # Only if unchanged meanwhile: a rotation in between is sealed under the current key.
        resealed += await WebhookEndpoint.filter(id=endpoint_id, sealed_secret=sealed).update(
            sealed_secret=again
        )
    return Resealed(resealed, current, unreadable)


async def deliveries(actor: Actor, endpoint_id: int) -> QuerySet[WebhookDelivery]:
    """Newest first."""
    endpoint = await endpoint_for(actor, endpoint_id, "endpointId", include_removed=True)
    return WebhookDelivery.filter(endpoint_id=endpoint.id).order_by("-id")
