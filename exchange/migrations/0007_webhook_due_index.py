from tortoise import migrations
from tortoise.migrations import operations as ops

# The webhook worker numbers every due delivery per organisation each time it claims
# (exchange.webhooks.worker, round-robin between organisations); without an index that reads
# every delivery ever made. Partial, on pending rows only: delivered and failed ones are the
# bulk of the table and never claimed again. Plain SQL, the same on SQLite and PostgreSQL;
# the models are unchanged.


class Migration(migrations.Migration):
    dependencies = [("models", "0006_automatic_documents_forgotten")]

    initial = False

    operations = [
        ops.RunSQL(
            "CREATE INDEX IF NOT EXISTS idx_webhook_delivery_due ON webhook_delivery (next_attempt_at, id) "
            "WHERE status = 'PENDING'",
            reverse_sql="DROP INDEX IF EXISTS idx_webhook_delivery_due",
        ),
    ]
