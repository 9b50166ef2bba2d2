"""Webhook endpoints written straight to the table for tests whose worker delivers to them:
the secret sealed and bound to the row as exchange.webhooks.endpoints.add_endpoint seals it."""

from __future__ import annotations

from typing import Any

from exchange.models import WebhookEndpoint
from exchange.settings import Settings
from exchange.webhooks import signing


async def sealed_endpoint(
    organisation_id: int, url: str, settings: Settings | None = None, **fields: Any
) -> tuple[WebhookEndpoint, str]:
    """The endpoint and its plain secret. ``settings``: the key the worker runs with (by
    default the environment's, as tests.conftest.make_settings has it)."""
    settings = settings or Settings(_env_file=None)  # type: ignore[call-arg]
    secret = signing.new_secret()
    endpoint = await WebhookEndpoint.create(
        organisation_id=organisation_id, url=url, sealed_secret="", **fields
    )
    endpoint.sealed_secret = signing.seal_secret(signing.sealer(settings), endpoint.id, secret)
    await endpoint.save(update_fields=["sealed_secret"])
    return endpoint, secret
