from tortoise import fields, migrations
from tortoise.migrations import operations as ops

# outbox_mail.dedupe_key: a mail that may go out once only carries a key, unique, so that the
# database, not a read before the write, keeps a second copy out; several sweeper processes
# may queue at the same moment (exchange.invitations.session_reminders: one reminder per
# participant, session and calendar sequence). Rows without a key (every mail before this,
# and every invitation mail) are NULL, which neither database counts as a duplicate. The
# column is added plain and the index made by hand, so SQLite adds a column instead of
# rebuilding the table (which would drop 0004's indexes on it).


class Migration(migrations.Migration):
    dependencies = [("models", "0009_volunteer_privacy")]

    initial = False

    operations = [
        ops.AddField(
            model_name="OutboxMail",
            name="dedupe_key",
            field=fields.CharField(null=True, max_length=200),
        ),
        ops.RunSQL(
            "CREATE UNIQUE INDEX IF NOT EXISTS uidx_outbox_mail_dedupe_key ON outbox_mail (dedupe_key)",
            reverse_sql="DROP INDEX IF EXISTS uidx_outbox_mail_dedupe_key",
        ),
    ]
