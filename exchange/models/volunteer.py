from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from exchange.models.organisation import Organisation


class Volunteer(Model):
    id = fields.IntField(primary_key=True)
    full_name = fields.CharField(max_length=200)
    # Stored lower-cased: addresses compare case-insensitively everywhere. Not unique: each
    # sending organisation keeps its own record of a person, and the volunteer one without
    # any (migration 0009's unique index on the address and the sender); the records of one
    # address are one person (exchange.volunteers.register_volunteer).
    email = fields.CharField(max_length=320, db_index=True)
    country = fields.CharField(max_length=2)
    languages: list[str] = fields.JSONField(default=list)
    skills: list[str] = fields.JSONField(default=list)
    # Case-folded skills joined by "\n" so a skill filter is one indexed-free LIKE on both databases.
    skills_folded = fields.TextField(default="")
    organisation: fields.ForeignKeyNullableRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="volunteers", null=True, on_delete=fields.SET_NULL, db_index=True
    )
    organisation_id: int | None  # `organisation`'s column, set by Tortoise; an annotation adds no field
    created_at = fields.DatetimeField(auto_now_add=True)
    # The volunteer's own choice to be shown to everyone in participant lists (exchange.access).
    public_profile = fields.BooleanField(default=False, db_default=False)

    class Meta:
        table = "volunteer"
        ordering = ["id"]
