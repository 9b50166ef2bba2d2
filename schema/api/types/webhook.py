"""Webhook endpoints and their delivery log (beyond the contract; organisation keys and admins)."""

from __future__ import annotations

import datetime as dt
import enum

import strawberry

from exchange import models
from schema.api.types.node import model_identity
from schema.engine.declarations import Reads, declare


@strawberry.enum(name="WebhookDeliveryStatus")
class WebhookDeliveryStatus(enum.Enum):
    PENDING = strawberry.enum_value("PENDING", description="Not delivered yet; retried with backoff.")
    DELIVERED = strawberry.enum_value("DELIVERED", description="The endpoint answered 2xx.")
    FAILED = strawberry.enum_value("FAILED", description="Given up: attempts exhausted or endpoint removed.")


@strawberry.type(name="WebhookEndpoint")
class WebhookEndpoint:
    is_type_of, id = model_identity(models.WebhookEndpoint, "WebhookEndpoint")

    url: str
    description: str | None
    created_at: dt.datetime


@strawberry.type(name="WebhookDelivery", description="One event sent (or to be sent) to one endpoint.")
class WebhookDelivery:
    is_type_of, id = model_identity(models.WebhookDelivery, "WebhookDelivery")

    @strawberry.field(
        description="The event id, sent as the webhook-id header (the same on every attempt).",
        metadata=declare(Reads("event_id")),
    )
    @staticmethod
    def event_id(root: strawberry.Parent[models.WebhookDelivery]) -> str:
        return root.event_id

    event_type: str

    @strawberry.field(metadata=declare(Reads("status")))
    @staticmethod
    def status(root: strawberry.Parent[models.WebhookDelivery]) -> WebhookDeliveryStatus:
        return WebhookDeliveryStatus(str(root.status))

    attempts: int

    @strawberry.field(
        description="HTTP status of the last attempt; null if it got no answer.",
        metadata=declare(Reads("last_status_code")),
    )
    @staticmethod
    def last_status_code(root: strawberry.Parent[models.WebhookDelivery]) -> int | None:
        return root.last_status_code

    @strawberry.field(metadata=declare(Reads("last_error")))
    @staticmethod
    def last_error(root: strawberry.Parent[models.WebhookDelivery]) -> str | None:
        return root.last_error

    created_at: dt.datetime

    @strawberry.field(
        description="When the next attempt is due (while PENDING).",
        metadata=declare(Reads("status", "next_attempt_at")),
    )
    @staticmethod
    def next_attempt_at(root: strawberry.Parent[models.WebhookDelivery]) -> dt.datetime | None:
        return root.next_attempt_at if str(root.status) == "PENDING" else None

    delivered_at: dt.datetime | None
