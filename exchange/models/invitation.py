from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from exchange.models.enums import InvitationStatus
from exchange.models.exchange import Exchange, Session
from exchange.models.organisation import Organisation
from exchange.models.volunteer import Volunteer


class Invitation(Model):
    id = fields.IntField(primary_key=True)
    exchange: fields.ForeignKeyRelation[Exchange] = fields.ForeignKeyField(
        "models.Exchange", related_name="invitations", on_delete=fields.CASCADE, db_index=True
    )
    exchange_id: int  # `exchange`'s column, set by Tortoise; an annotation adds no field
    sessions: fields.ManyToManyRelation[Session] = fields.ManyToManyField(
        "models.Session", related_name="invitations", through="invitation_session"
    )
    invited_by: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="sent_invitations", on_delete=fields.RESTRICT
    )
    invited_by_id: int  # `invited_by`'s column, set by Tortoise; an annotation adds no field
    email = fields.CharField(max_length=320)
    # Lower-cased address: one live invitation per (exchange, address), compared case-insensitively.
    email_normalised = fields.CharField(max_length=320, db_index=True)
    full_name = fields.CharField(max_length=200)
    country = fields.CharField(max_length=2)
    locale = fields.CharField(max_length=2)
    status = fields.CharEnumField(InvitationStatus, max_length=20, default=InvitationStatus.QUEUED)
    # Random per-invitation nonce; the link token is HMAC(secret key, nonce), so the
    # database alone never yields a usable link. Only the token's hash is stored for lookup.
    token_nonce = fields.CharField(max_length=64)
    token_hash = fields.CharField(max_length=64, unique=True)
    message = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    sent_at = fields.DatetimeField(null=True)
    responded_at = fields.DatetimeField(null=True)
    expires_at = fields.DatetimeField()
    delivery_attempts = fields.IntField(default=0)
    last_error = fields.TextField(null=True)
    reminder_sent_at = fields.DatetimeField(null=True)
    # RFC 5545 SEQUENCE for the exchange-wide calendar entry of this invitation.
    calendar_sequence = fields.IntField(default=0)
    # Set when the invitee accepts, after being shown the privacy notice of this version.
    consent_at = fields.DatetimeField(null=True)
    consent_notice_version = fields.CharField(max_length=32, null=True)
    # The waiting list (exchange.invitations.waitlist): when the invitee joined it (the list's
    # order, kept when an offer goes back to the list), until when a place offered to them
    # may be claimed, and when an accepted invitee withdrew.
    waitlisted_at = fields.DatetimeField(null=True)
    offer_expires_at = fields.DatetimeField(null=True)
    withdrawn_at = fields.DatetimeField(null=True)
    volunteer: fields.ForeignKeyNullableRelation[Volunteer] = fields.ForeignKeyField(
        "models.Volunteer", related_name="invitations", null=True, on_delete=fields.SET_NULL
    )
    volunteer_id: int | None  # `volunteer`'s column, set by Tortoise; an annotation adds no field

    class Meta:
        table = "invitation"
        ordering = ["id"]
