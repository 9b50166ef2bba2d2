"""Webhook endpoints of an organisation: add (the signing secret is returned once), list,
remove, rotate the secret, and read the delivery log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from exchange import access
from exchange.access import Actor
from exchange.errors import ErrorCode, Problems, not_found
from exchange.models import DeliveryStatus, Organisation, WebhookDelivery, WebhookEndpoint
from exchange.webhooks.safety import UnsafeUrl, check_url
from exchange.webhooks.signing import new_secret

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
        secret = new_secret()
        endpoint = await WebhookEndpoint.create(
            organisation_id=owner, url=url, secret=secret, description=description, using_db=connection
        )
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


async def rotate_secret(actor: Actor, endpoint_id: int) -> EndpointWithSecret:
    """The new secret signs every delivery from now on, retries of older events included."""
    endpoint = await endpoint_for(actor, endpoint_id)
    secret = new_secret()
    await WebhookEndpoint.filter(id=endpoint.id).update(secret=secret)
    endpoint.secret = secret
    return EndpointWithSecret(endpoint, secret)


async def deliveries(actor: Actor, endpoint_id: int) -> QuerySet[WebhookDelivery]:
    """Newest first."""
    endpoint = await endpoint_for(actor, endpoint_id, "endpointId", include_removed=True)
    return WebhookDelivery.filter(endpoint_id=endpoint.id).order_by("-id")
