from tortoise import migrations
from tortoise.migrations import operations as ops

# The mail dispatcher claims with "status = PENDING AND next_attempt_at <= now ORDER BY
# next_attempt_at, id" every poll; without an index that scans every mail ever sent.
# Lookups by invitation (reminder checks, cascading deletes) need their own. Plain SQL, the
# same on SQLite and PostgreSQL; the models are unchanged.


class Migration(migrations.Migration):
    dependencies = [('models', '0003_foreign_key_indexes')]

    initial = False

    operations = [
        ops.RunSQL(
            "CREATE INDEX IF NOT EXISTS idx_outbox_mail_due ON outbox_mail (status, next_attempt_at, id)",
            reverse_sql="DROP INDEX IF EXISTS idx_outbox_mail_due",
        ),
        ops.RunSQL(
            "CREATE INDEX IF NOT EXISTS idx_outbox_mail_invitation ON outbox_mail (invitation_id)",
            reverse_sql="DROP INDEX IF EXISTS idx_outbox_mail_invitation",
        ),
    ]
