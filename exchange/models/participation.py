from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from exchange.models.enums import ParticipationRole, ParticipationStatus
from exchange.models.exchange import Exchange
from exchange.models.organisation import Organisation
from exchange.models.volunteer import Volunteer


class Participation(Model):
    id = fields.IntField(primary_key=True)
    volunteer: fields.ForeignKeyRelation[Volunteer] = fields.ForeignKeyField(
        "models.Volunteer", related_name="participations", on_delete=fields.CASCADE
    )
    volunteer_id: int  # `volunteer`'s column, set by Tortoise; an annotation adds no field
    exchange: fields.ForeignKeyRelation[Exchange] = fields.ForeignKeyField(
        "models.Exchange", related_name="participations", on_delete=fields.CASCADE, db_index=True
    )
    exchange_id: int  # `exchange`'s column, set by Tortoise; an annotation adds no field
    role = fields.CharEnumField(ParticipationRole, max_length=20, default=ParticipationRole.PARTICIPANT)
    status = fields.CharEnumField(ParticipationStatus, max_length=20, default=ParticipationStatus.CONFIRMED)
    hours = fields.FloatField(null=True)
    joined_at = fields.DatetimeField(auto_now_add=True)
    # Attendance as the host recorded it (exchange.attendance): when, for which organisation
    # (the host; an admin records for it), and the sessions attended, ids of the exchange's.
    recorded_at = fields.DatetimeField(null=True)
    recorded_by: fields.ForeignKeyNullableRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="recorded_participations", null=True, on_delete=fields.SET_NULL
    )
    recorded_by_id: int | None  # `recorded_by`'s column, set by Tortoise; an annotation adds no field
    attended_session_ids: list[int] = fields.JSONField(default=list, db_default=[])

    class Meta:
        table = "participation"
        ordering = ["id"]
        unique_together = (("volunteer", "exchange"),)
