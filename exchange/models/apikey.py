from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from exchange.models.enums import ApiKeyRole
from exchange.models.organisation import Organisation


class ApiKey(Model):
    id = fields.IntField(primary_key=True)
    # Non-secret identifier shown by `exchange apikey list`; the secret itself is never stored.
    public_id = fields.CharField(max_length=32, unique=True)
    secret_hash = fields.CharField(max_length=64, unique=True)
    role = fields.CharEnumField(ApiKeyRole, max_length=20)
    organisation: fields.ForeignKeyNullableRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="api_keys", null=True, on_delete=fields.CASCADE
    )
    organisation_id: int | None  # `organisation`'s column, set by Tortoise; an annotation adds no field
    label = fields.CharField(max_length=200, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_key"
        ordering = ["id"]
