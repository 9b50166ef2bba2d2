from orjson import loads
from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise.migrations import operations as ops

from exchange.models.certificate import CertificateStatus

# Certificates of participation (issue 16, exchange.certificates). The code is not stored:
# its nonce and SHA-256 are (code_hash, unique). At most one VALID certificate per
# participation, by a partial unique index (both databases take WHERE on an index), so two
# hosts' clicks at once issue one. Indexes by participation and volunteer (the GraphQL field
# and erasure look certificates up by them); SQLite makes no index for a foreign key by itself.


class Migration(migrations.Migration):
    dependencies = [("models", "0013_waitlist_and_withdrawal")]

    initial = False

    operations = [
        ops.CreateModel(
            name="Certificate",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "participation",
                    fields.ForeignKeyField(
                        "models.Participation",
                        source_field="participation_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="certificates",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "volunteer",
                    fields.ForeignKeyField(
                        "models.Volunteer",
                        source_field="volunteer_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="certificates",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("code_nonce", fields.CharField(max_length=64)),
                ("code_hash", fields.CharField(max_length=64, unique=True)),
                (
                    "status",
                    fields.CharEnumField(
                        default=CertificateStatus.VALID,
                        description="VALID: VALID\nREVOKED: REVOKED",
                        enum_type=CertificateStatus,
                        max_length=20,
                    ),
                ),
                ("language", fields.CharField(max_length=2)),
                ("facts", fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ("issued_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                (
                    "issued_by",
                    fields.ForeignKeyField(
                        "models.Organisation",
                        source_field="issued_by_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="issued_certificates",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("revoked_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={"table": "certificate", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.RunSQL(
            "CREATE UNIQUE INDEX IF NOT EXISTS uidx_certificate_valid_participation "
            "ON certificate (participation_id) WHERE status = 'VALID'",
            reverse_sql="DROP INDEX IF EXISTS uidx_certificate_valid_participation",
        ),
        ops.RunSQL(
            "CREATE INDEX IF NOT EXISTS idx_certificate_participation ON certificate (participation_id)",
            reverse_sql="DROP INDEX IF EXISTS idx_certificate_participation",
        ),
        ops.RunSQL(
            "CREATE INDEX IF NOT EXISTS idx_certificate_volunteer ON certificate (volunteer_id)",
            reverse_sql="DROP INDEX IF EXISTS idx_certificate_volunteer",
        ),
    ]
