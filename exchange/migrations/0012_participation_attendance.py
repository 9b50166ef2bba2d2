from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops

# Attendance and hours (issue 15): who recorded a participation's attendance and when
# (participation.recorded_at, recorded_by_id: the host organisation, kept as NULL if that
# organisation is ever deleted), and which of the exchange's sessions were attended
# (attended_session_ids, a JSON list, '[]' by a database default for every row so far). NO_SHOW, the new
# participation status, needs no change: the status column is a plain varchar. Columns are
# added (no table rebuild on SQLite, which would drop the indexes made by hand in 0003/0009).


class Migration(migrations.Migration):
    dependencies = [("models", "0011_outbox_mail_dedupe_key")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Participation",
            name="recorded_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name="Participation",
            name="recorded_by",
            field=fields.ForeignKeyField(
                "models.Organisation",
                source_field="recorded_by_id",
                null=True,
                db_constraint=True,
                to_field="id",
                related_name="recorded_participations",
                on_delete=OnDelete.SET_NULL,
            ),
        ),
        ops.AddField(
            model_name="Participation",
            name="attended_session_ids",
            field=fields.JSONField(default=list, db_default=[]),
        ),
    ]
