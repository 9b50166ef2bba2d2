"""Webhook endpoints: add (secret shown once), remove, rotate the secret; list them and read
their delivery log. Beyond the contract; organisation keys manage their own endpoints, an
admin names the organisation."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from exchange import models
from exchange.webhooks import endpoints
from schema.api.connections import Connection, paginate_queryset
from schema.api.context import Info
from schema.api.errors import UserError, mutate
from schema.api.relay import pk_of
from schema.api.shown_once import shown_once
from schema.api.types.webhook import WebhookDelivery, WebhookEndpoint


@strawberry.type
class WebhookEndpointPayload:
    endpoint: WebhookEndpoint | None = None
    secret: str | None = shown_once(
        description="The signing secret (Standard Webhooks, whsec_...), shown only in this answer.",
        if_lost="Get a new one with rotateWebhookSecret for this endpoint.",
    )
    user_errors: list[UserError]


@strawberry.type
class RemoveWebhookEndpointPayload:
    removed_id: strawberry.ID | None = None
    user_errors: list[UserError]


def _owner(organisation_id: strawberry.ID | None) -> int | None:
    return None if organisation_id is None else pk_of(organisation_id, "Organisation", ["organisationId"])


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(
        description="Register an endpoint for the organisation's invitation events (https in production)."
    )
    async def add_webhook_endpoint(
        self,
        info: Info,
        url: str,
        description: str | None = None,
        organisation_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Admins only: whose endpoint this is.")
        ] = None,
    ) -> WebhookEndpointPayload:
        async def action() -> dict[str, Any]:
            added = await endpoints.add_endpoint(
                info.context.actor,
                url,
                description,
                _owner(organisation_id),
                production=info.context.settings.is_production,
                settings=info.context.settings,
            )
            return {"endpoint": added.endpoint, "secret": added.secret}

        return await mutate(WebhookEndpointPayload, action)

    @strawberry.mutation(description="Stop delivering to an endpoint; its pending deliveries are given up.")
    async def remove_webhook_endpoint(self, info: Info, id: strawberry.ID) -> RemoveWebhookEndpointPayload:
        async def action() -> dict[str, Any]:
            await endpoints.remove_endpoint(info.context.actor, pk_of(id, "WebhookEndpoint", ["id"]))
            return {"removed_id": id}

        return await mutate(RemoveWebhookEndpointPayload, action)

    @strawberry.mutation(description="A new signing secret, effective at once (retries included).")
    async def rotate_webhook_secret(self, info: Info, id: strawberry.ID) -> WebhookEndpointPayload:
        async def action() -> dict[str, Any]:
            rotated = await endpoints.rotate_secret(
                info.context.actor, pk_of(id, "WebhookEndpoint", ["id"]), settings=info.context.settings
            )
            return {"endpoint": rotated.endpoint, "secret": rotated.secret}

        return await mutate(WebhookEndpointPayload, action)


@strawberry.type
class WebhookQueries:
    @strawberry.field(
        description="The organisation's webhook endpoints (an admin names the organisation).",
        graphql_type=list[WebhookEndpoint],
    )
    async def webhook_endpoints(
        self, info: Info, organisation_id: strawberry.ID | None = None
    ) -> list[models.WebhookEndpoint]:
        return await endpoints.list_endpoints(info.context.actor, _owner(organisation_id))

    @strawberry.field(description="Deliveries to one endpoint, newest first.")
    async def webhook_deliveries(
        self, info: Info, endpoint_id: strawberry.ID, first: int | None = None, after: str | None = None
    ) -> Connection[WebhookDelivery]:
        args = info.context.page_args(first, after)
        endpoint = pk_of(endpoint_id, "WebhookEndpoint", ["endpointId"])
        queryset = await endpoints.deliveries(info.context.actor, endpoint)
        return await paginate_queryset(queryset, args)
