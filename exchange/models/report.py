"""What an exchange achieved and what was learned: its outcomes (recorded by the host once it
has started) and experience reports (written after it is completed, moderated by the host)."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from exchange.models.exchange import Exchange
from exchange.models.invitation import Invitation
from exchange.models.organisation import Organisation
from exchange.models.volunteer import Volunteer


class OutcomeMetric(StrEnum):
    TREES_PLANTED = "TREES_PLANTED"
    WASTE_COLLECTED_KG = "WASTE_COLLECTED_KG"
    AREA_RESTORED_HA = "AREA_RESTORED_HA"
    PEOPLE_REACHED = "PEOPLE_REACHED"
    # Anything else, named by the host in its own words (labels).
    CUSTOM = "CUSTOM"


class ReportStatus(StrEnum):
    SUBMITTED = "SUBMITTED"
    PUBLISHED = "PUBLISHED"
    REJECTED = "REJECTED"


class ReportAuthorKind(StrEnum):
    HOST = "HOST"
    PARTNER = "PARTNER"
    PARTICIPANT = "PARTICIPANT"


class ExchangeOutcome(Model):
    id = fields.IntField(primary_key=True)
    exchange: fields.ForeignKeyRelation[Exchange] = fields.ForeignKeyField(
        "models.Exchange", related_name="outcomes", on_delete=fields.CASCADE
    )
    exchange_id: int  # `exchange`'s column, set by Tortoise; an annotation adds no field
    # The host's order; the set is replaced whole, so positions are 0..n-1.
    position = fields.IntField()
    metric = fields.CharEnumField(OutcomeMetric, max_length=30)
    value = fields.FloatField()
    # Fixed for the standard metrics (exchange.outcomes.UNITS); the host's for CUSTOM.
    unit = fields.CharField(max_length=40, null=True)
    # CUSTOM only: {locale: label}, the first being the default language.
    labels: dict[str, str] = fields.JSONField(default=dict)
    recorded_at = fields.DatetimeField()
    recorded_by: fields.ForeignKeyNullableRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="recorded_outcomes", null=True, on_delete=fields.SET_NULL
    )
    recorded_by_id: int | None  # `recorded_by`'s column, set by Tortoise; an annotation adds no field

    class Meta:
        table = "exchange_outcome"
        ordering = ["exchange_id", "position"]
        unique_together = (("exchange", "position"),)


class ExperienceReport(Model):
    id = fields.IntField(primary_key=True)
    exchange: fields.ForeignKeyRelation[Exchange] = fields.ForeignKeyField(
        "models.Exchange", related_name="reports", on_delete=fields.CASCADE
    )
    exchange_id: int  # `exchange`'s column, set by Tortoise; an annotation adds no field
    status = fields.CharEnumField(ReportStatus, max_length=20, default=ReportStatus.SUBMITTED)
    author_kind = fields.CharEnumField(ReportAuthorKind, max_length=20)
    # The writing organisation (host or partner), or a participant's sending organisation.
    author_organisation: fields.ForeignKeyNullableRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="authored_reports", null=True, on_delete=fields.SET_NULL
    )
    author_organisation_id: int | None  # `author_organisation`'s column, set by Tortoise
    # A participant's report: who wrote it, through which invitation link (one report per
    # link). Erasure (exchange.privacy) empties both.
    author_volunteer: fields.ForeignKeyNullableRelation[Volunteer] = fields.ForeignKeyField(
        "models.Volunteer", related_name="reports", null=True, on_delete=fields.SET_NULL
    )
    author_volunteer_id: int | None  # `author_volunteer`'s column, set by Tortoise
    author_invitation: fields.OneToOneNullableRelation[Invitation] = fields.OneToOneField(
        "models.Invitation", related_name="report", null=True, on_delete=fields.SET_NULL
    )
    author_invitation_id: int | None  # `author_invitation`'s column, set by Tortoise
    # {locale: text}, the first being the default language; bodies and the two lessons are
    # Markdown, stored as written (exchange.markdown renders them, sanitized).
    titles: dict[str, str] = fields.JSONField(default=dict)
    bodies: dict[str, str] = fields.JSONField(default=dict)
    what_worked: dict[str, str] = fields.JSONField(default=dict)
    what_to_change: dict[str, str] = fields.JSONField(default=dict)
    # https links to photos, in the author's order.
    photos: list[str] = fields.JSONField(default=list)
    # Folded text of every title, body and lesson (exchange.i18n.fold), as exchange.search_text.
    search_text = fields.TextField(default="")
    submitted_at = fields.DatetimeField()
    moderated_at = fields.DatetimeField(null=True)
    # The host that published or rejected it; null when a platform admin did.
    moderated_by: fields.ForeignKeyNullableRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="moderated_reports", null=True, on_delete=fields.SET_NULL
    )
    moderated_by_id: int | None  # `moderated_by`'s column, set by Tortoise
    moderation_note = fields.TextField(null=True)
    published_at = fields.DatetimeField(null=True)

    class Meta:
        table = "experience_report"
        ordering = ["-id"]
