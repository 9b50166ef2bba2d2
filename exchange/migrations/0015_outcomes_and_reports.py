from orjson import loads
from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise.migrations import operations as ops

from exchange.models.report import OutcomeMetric, ReportAuthorKind, ReportStatus

# Outcomes and experience reports (issue 16):
# * exchange.sdgs: the UN Sustainable Development Goals an exchange serves, a JSON list of
#   numbers, '[]' by a database default for every exchange so far (a plain added column, so
#   SQLite adds it instead of rebuilding the table and dropping the indexes made by hand).
# * exchange_outcome: what the host recorded once the exchange started, replaced as a set.
# * experience_report: reports by hosts, partners and participants, moderated by the host.
# Indexes are made by hand, the same on both databases (Tortoise's SQLite schema editor skips
# db_index): reports are listed newest first by status, by exchange and found by author.
# Localized texts are json, not jsonb, on PostgreSQL, as in 0002: their first key is the
# default language, and jsonb sorts keys. exchange.sdgs stays jsonb (a set of numbers, read
# element by element by exchange.sql.json_list_holds_any).

LOCALIZED_COLUMNS = (
    ("exchange_outcome", "labels"),
    ("experience_report", "titles"),
    ("experience_report", "bodies"),
    ("experience_report", "what_worked"),
    ("experience_report", "what_to_change"),
)

INDEXES = {
    "idx_experience_report_exchange": "experience_report (exchange_id)",
    "idx_experience_report_status": "experience_report (status, id)",
    "idx_experience_report_volunteer": "experience_report (author_volunteer_id)",
}


async def _retype(schema_editor, sql_type: str) -> None:
    if schema_editor.client.capabilities.dialect != "postgres":
        return
    for table, column in LOCALIZED_COLUMNS:
        await schema_editor.client.execute_script(
            f'ALTER TABLE "{table}" ALTER COLUMN "{column}" TYPE {sql_type} USING "{column}"::{sql_type}'
        )


async def localized_as_json(apps, schema_editor) -> None:
    await _retype(schema_editor, "json")


async def localized_as_jsonb(apps, schema_editor) -> None:
    await _retype(schema_editor, "jsonb")


class Migration(migrations.Migration):
    dependencies = [("models", "0014_certificates")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Exchange",
            name="sdgs",
            field=fields.JSONField(default=list, db_default=[], encoder=JSON_DUMPS, decoder=loads),
        ),
        ops.CreateModel(
            name="ExchangeOutcome",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "exchange",
                    fields.ForeignKeyField(
                        "models.Exchange",
                        source_field="exchange_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="outcomes",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("position", fields.IntField()),
                (
                    "metric",
                    fields.CharEnumField(
                        description="TREES_PLANTED: TREES_PLANTED\nWASTE_COLLECTED_KG: WASTE_COLLECTED_KG\n"
                        "AREA_RESTORED_HA: AREA_RESTORED_HA\nPEOPLE_REACHED: PEOPLE_REACHED\nCUSTOM: CUSTOM",
                        enum_type=OutcomeMetric,
                        max_length=30,
                    ),
                ),
                ("value", fields.FloatField()),
                ("unit", fields.CharField(null=True, max_length=40)),
                ("labels", fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ("recorded_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                (
                    "recorded_by",
                    fields.ForeignKeyField(
                        "models.Organisation",
                        source_field="recorded_by_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="recorded_outcomes",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
            ],
            options={
                "table": "exchange_outcome",
                "app": "models",
                "unique_together": (("exchange", "position"),),
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ExperienceReport",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "exchange",
                    fields.ForeignKeyField(
                        "models.Exchange",
                        source_field="exchange_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="reports",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "status",
                    fields.CharEnumField(
                        default=ReportStatus.SUBMITTED,
                        description="SUBMITTED: SUBMITTED\nPUBLISHED: PUBLISHED\nREJECTED: REJECTED",
                        enum_type=ReportStatus,
                        max_length=20,
                    ),
                ),
                (
                    "author_kind",
                    fields.CharEnumField(
                        description="HOST: HOST\nPARTNER: PARTNER\nPARTICIPANT: PARTICIPANT",
                        enum_type=ReportAuthorKind,
                        max_length=20,
                    ),
                ),
                (
                    "author_organisation",
                    fields.ForeignKeyField(
                        "models.Organisation",
                        source_field="author_organisation_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="authored_reports",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "author_volunteer",
                    fields.ForeignKeyField(
                        "models.Volunteer",
                        source_field="author_volunteer_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="reports",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "author_invitation",
                    fields.OneToOneField(
                        "models.Invitation",
                        source_field="author_invitation_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="report",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("titles", fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ("bodies", fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ("what_worked", fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ("what_to_change", fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ("photos", fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ("search_text", fields.TextField(default="", unique=False)),
                ("submitted_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("moderated_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                (
                    "moderated_by",
                    fields.ForeignKeyField(
                        "models.Organisation",
                        source_field="moderated_by_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="moderated_reports",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("moderation_note", fields.TextField(null=True, unique=False)),
                ("published_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={"table": "experience_report", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.RunPython(localized_as_json, localized_as_jsonb),
        ops.RunSQL(
            [f"CREATE INDEX IF NOT EXISTS {name} ON {target}" for name, target in INDEXES.items()],
            reverse_sql=[f"DROP INDEX IF EXISTS {name}" for name in INDEXES],
        ),
    ]
