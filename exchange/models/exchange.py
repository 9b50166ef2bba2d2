"""An experience exchange and its sessions (one aggregate)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from exchange.models.enums import ExchangeStatus, SessionFormat, Theme
from exchange.models.organisation import Organisation
from exchange.models.volunteer import Volunteer


class Exchange(Model):
    id = fields.IntField(primary_key=True)
    slug = fields.CharField(max_length=100, unique=True)
    titles: dict[str, str] = fields.JSONField(default=dict)
    descriptions: dict[str, str] = fields.JSONField(default=dict)
    # Case-folded text of every title and description: Tortoise's icontains does not fold
    # Cyrillic on SQLite, so search compares against this column on both databases.
    search_text = fields.TextField(default="")
    theme = fields.CharEnumField(Theme, max_length=30)
    status = fields.CharEnumField(ExchangeStatus, max_length=20, default=ExchangeStatus.DRAFT)
    host: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="hosted_exchanges", on_delete=fields.RESTRICT, db_index=True
    )
    host_id: int  # `host`'s column, set by Tortoise; an annotation adds no field
    partners: fields.ManyToManyRelation[Organisation] = fields.ManyToManyField(
        "models.Organisation", related_name="partner_exchanges", through="exchange_partner"
    )
    country = fields.CharField(max_length=2)
    city = fields.CharField(max_length=200, null=True)
    starts_on = fields.DateField()
    ends_on = fields.DateField()
    time_zone = fields.CharField(max_length=64)
    capacity = fields.IntField(null=True)
    # Accepting when every place is taken puts the invitee on a waiting list instead of
    # refusing (exchange.invitations.waitlist).
    waitlist = fields.BooleanField(default=False, db_default=False)
    languages: list[str] = fields.JSONField(default=list)
    # The UN Sustainable Development Goals (1-17) it serves, ascending, each once.
    sdgs: list[int] = fields.JSONField(default=list, db_default=[])
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "exchange"
        ordering = ["starts_on", "id"]
        # Lists page by start date then id.
        indexes = (("starts_on", "id"),)


class Session(Model):
    id = fields.IntField(primary_key=True)
    exchange: fields.ForeignKeyRelation[Exchange] = fields.ForeignKeyField(
        "models.Exchange", related_name="sessions", on_delete=fields.CASCADE, db_index=True
    )
    exchange_id: int  # `exchange`'s column, set by Tortoise; an annotation adds no field
    titles: dict[str, str] = fields.JSONField(default=dict)
    starts_at = fields.DatetimeField()
    ends_at = fields.DatetimeField()
    format = fields.CharEnumField(SessionFormat, max_length=20)
    venue = fields.CharField(max_length=300, null=True)
    online_url = fields.CharField(max_length=500, null=True)
    language = fields.CharField(max_length=2, null=True)
    capacity = fields.IntField(null=True)
    speakers: fields.ManyToManyRelation[Volunteer] = fields.ManyToManyField(
        "models.Volunteer", related_name="speaking_sessions", through="session_speaker"
    )
    # RFC 5545 SEQUENCE of the calendar entry: bumped whenever the session moves.
    sequence = fields.IntField(default=0)
    cancelled_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "session"
        ordering = ["starts_at", "id"]
