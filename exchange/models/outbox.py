"""Durable queues: mail to send and webhook deliveries, written in the same transaction
as the change that causes them."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from exchange.models.enums import DeliveryStatus, MailKind, MailStatus
from exchange.models.invitation import Invitation
from exchange.models.organisation import Organisation


class OutboxMail(Model):
    id = fields.IntField(primary_key=True)
    invitation: fields.ForeignKeyNullableRelation[Invitation] = fields.ForeignKeyField(
        "models.Invitation", related_name="mails", null=True, on_delete=fields.CASCADE
    )
    invitation_id: int | None  # `invitation`'s column, set by Tortoise; an annotation adds no field
    kind = fields.CharEnumField(MailKind, max_length=20)
    # Fixed when the row is written, so a re-send after a crash carries the same Message-ID.
    message_id = fields.CharField(max_length=200, unique=True)
    recipient = fields.CharField(max_length=320)
    status = fields.CharEnumField(MailStatus, max_length=20, default=MailStatus.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    # Lease: a dispatcher owns the row until this instant; a crashed one's rows come back.
    claimed_until = fields.DatetimeField(null=True)
    claimed_by = fields.CharField(max_length=100, null=True)
    last_error = fields.TextField(null=True)
    # What the mail is about beyond the invitation (session ids for updates, etc.).
    payload: dict[str, object] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)
    sent_at = fields.DatetimeField(null=True)
    # What may be mailed once only, e.g. "session-reminder:<session>:<volunteer>:<sequence>":
    # unique (migration 0011's index), so sweepers racing each other queue it once.
    dedupe_key = fields.CharField(max_length=200, null=True)

    class Meta:
        table = "outbox_mail"
        ordering = ["id"]


class WebhookEndpoint(Model):
    id = fields.IntField(primary_key=True)
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="webhook_endpoints", on_delete=fields.CASCADE
    )
    organisation_id: int  # `organisation`'s column, set by Tortoise; an annotation adds no field
    url = fields.CharField(max_length=1000)
    # The signing secret sealed with the server's key (exchange.webhooks.signing.seal_secret,
    # migration 0016), never the secret itself: ~110 characters for a whsec_ secret.
    sealed_secret = fields.CharField(max_length=200)
    description = fields.CharField(max_length=300, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    disabled_at = fields.DatetimeField(null=True)

    class Meta:
        table = "webhook_endpoint"
        ordering = ["id"]


class WebhookDelivery(Model):
    id = fields.IntField(primary_key=True)
    endpoint: fields.ForeignKeyRelation[WebhookEndpoint] = fields.ForeignKeyField(
        "models.WebhookEndpoint", related_name="deliveries", on_delete=fields.CASCADE
    )
    endpoint_id: int  # `endpoint`'s column, set by Tortoise; an annotation adds no field
    event_id = fields.CharField(max_length=64)
    event_type = fields.CharField(max_length=100)
    payload: dict[str, object] = fields.JSONField(default=dict)
    status = fields.CharEnumField(DeliveryStatus, max_length=20, default=DeliveryStatus.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    claimed_until = fields.DatetimeField(null=True)
    last_status_code = fields.IntField(null=True)
    last_error = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    delivered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "webhook_delivery"
        ordering = ["id"]
        unique_together = (("endpoint", "event_id"),)


class IdempotencyRecord(Model):
    id = fields.IntField(primary_key=True)
    # Who the key belongs to: an API key's public id, or a hash of an invitation token.
    scope = fields.CharField(max_length=100)
    key = fields.CharField(max_length=200)
    request_hash = fields.CharField(max_length=64)
    response: dict[str, object] | None = fields.JSONField(null=True)
    completed = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()

    class Meta:
        table = "idempotency_record"
        unique_together = (("scope", "key"),)


class PersistedDocument(Model):
    sha256 = fields.CharField(max_length=64, primary_key=True)
    document = fields.TextField()
    registered = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "persisted_document"
