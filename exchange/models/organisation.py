from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from exchange.models.enums import OrganisationKind


class Organisation(Model):
    id = fields.IntField(primary_key=True)
    slug = fields.CharField(max_length=100, unique=True)
    # Localized text is data: {"kk": "...", "ru": "...", "en": "..."}; the first key is the default.
    names: dict[str, str] = fields.JSONField(default=dict)
    kind = fields.CharEnumField(OrganisationKind, max_length=20)
    country = fields.CharField(max_length=2, null=True)
    website = fields.CharField(max_length=500, null=True)
    contact_email = fields.CharField(max_length=320, null=True)
    parent: fields.ForeignKeyNullableRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="children", null=True, on_delete=fields.RESTRICT
    )
    parent_id: int | None  # `parent`'s column, set by Tortoise; an annotation adds no field
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "organisation"
        ordering = ["id"]
