from tortoise import fields, migrations
from tortoise.migrations import operations as ops

# Privacy by default (issue 13):
# * volunteer.public_profile: the volunteer's choice to be listed publicly; false for
#   everyone until they choose (exchange.access hides them from anonymous callers).
# * volunteer.email is no longer unique: registering an address that another organisation
#   registered gives the caller its own record of that person instead of a CONFLICT that
#   tells it the address is known. One record per address and sending organisation (and
#   one without any, the volunteer's own): a unique index on the address and
#   COALESCE(organisation_id, 0), an expression index both databases take.
# * invitation.consent_at / consent_notice_version: what the invitee agreed to on accepting
#   (written by the consent feature; empty for every invitation so far).
# * indexes for the visibility rule's lookups by volunteer (who speaks, who accepted, who
#   takes part); PostgreSQL already has participation (volunteer_id, exchange_id).
#
# SQLite drops the unique column constraint by rebuilding the table (exchange.db.migrate runs
# that with foreign keys off); the rebuilt table has none of the indexes made by hand in 0003,
# so they are made again here.


async def sqlite_indexes(apps, schema_editor) -> None:
    if schema_editor.client.capabilities.dialect != "sqlite":
        return
    for statement in (
        'CREATE INDEX IF NOT EXISTS idx_volunteer_organisation ON "volunteer" ("organisation_id")',
        'CREATE INDEX IF NOT EXISTS idx_volunteer_email ON "volunteer" ("email")',
        'CREATE INDEX IF NOT EXISTS idx_participation_volunteer ON "participation" ("volunteer_id")',
    ):
        await schema_editor.client.execute_script(statement)


async def drop_sqlite_indexes(apps, schema_editor) -> None:
    if schema_editor.client.capabilities.dialect != "sqlite":
        return
    for name in ("idx_volunteer_email", "idx_participation_volunteer"):
        await schema_editor.client.execute_script(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("models", "0008_skills_framed")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Volunteer",
            name="public_profile",
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AlterField(
            model_name="Volunteer",
            name="email",
            field=fields.CharField(max_length=320, db_index=True),
        ),
        ops.RunPython(sqlite_indexes, drop_sqlite_indexes),
        ops.RunSQL(
            "CREATE UNIQUE INDEX IF NOT EXISTS uidx_volunteer_email_sender "
            "ON volunteer (email, COALESCE(organisation_id, 0))",
            reverse_sql="DROP INDEX IF EXISTS uidx_volunteer_email_sender",
        ),
        ops.AddField(
            model_name="Invitation",
            name="consent_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name="Invitation",
            name="consent_notice_version",
            field=fields.CharField(null=True, max_length=32),
        ),
        ops.RunSQL(
            "CREATE INDEX IF NOT EXISTS idx_session_speaker_volunteer ON session_speaker (volunteer_id)",
            reverse_sql="DROP INDEX IF EXISTS idx_session_speaker_volunteer",
        ),
        ops.RunSQL(
            "CREATE INDEX IF NOT EXISTS idx_invitation_volunteer ON invitation (volunteer_id)",
            reverse_sql="DROP INDEX IF EXISTS idx_invitation_volunteer",
        ),
    ]
