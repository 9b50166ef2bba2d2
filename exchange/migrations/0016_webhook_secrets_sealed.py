from tortoise import migrations
from tortoise.migrations import operations as ops

from exchange.settings import Settings
from exchange.webhooks import signing

# Webhook signing secrets at rest: webhook_endpoint.secret held the whsec_ secret in plain
# text; the column becomes sealed_secret and every plain secret in it is sealed with the
# server's key, bound to its row (exchange.webhooks.signing.seal_secret, exchange.sealed). The
# reader refuses plain values, so none may be left behind. A sealed whsec_ secret is ~110
# characters: the column's 200 need no widening. A plain rename, so SQLite renames the column
# instead of rebuilding the table (which would drop 0003's index on organisation_id).
#
# The key is the one the server runs with: `exchange migrate` (and `serve --migrate`) read
# the same environment and .env as the server, so run it with the production
# EXCHANGE_SECRET_KEY. Going back opens the values again (for the code before this one, which
# signs with the plain value), with the same key.


def _placeholder(schema_editor, number: int) -> str:
    return f"?{number}" if schema_editor.client.capabilities.dialect == "sqlite" else f"${number}"


async def _rewrite(schema_editor, change) -> None:
    client = schema_editor.client
    rows = await client.execute_query_dict("SELECT id, sealed_secret FROM webhook_endpoint")
    update = (
        f"UPDATE webhook_endpoint SET sealed_secret = {_placeholder(schema_editor, 1)}"
        f" WHERE id = {_placeholder(schema_editor, 2)}"
    )
    for row in rows:
        value = change(int(row["id"]), row["sealed_secret"])
        if value is not None:
            await client.execute_query(update, [value, row["id"]])


async def seal_plain_secrets(apps, schema_editor) -> None:
    settings = Settings()
    sealer = signing.sealer(settings)

    def seal(endpoint_id: int, value: str) -> str | None:
        if not value.startswith(signing.SECRET_PREFIX):
            return None  # sealed already (a migration run again by hand): left as it is
        if settings.is_production and not settings.has_production_secret_key:
            # The production server would refuse to start with this key (Settings.unsafe_reasons),
            # so it could never open what it sealed: stop (nothing is changed) rather than seal.
            raise RuntimeError(
                "EXCHANGE_SECRET_KEY is not set to a production key (32 characters or more): webhook "
                "secrets cannot be sealed for a production server; run `exchange migrate` with the "
                "server's settings"
            )
        return signing.seal_secret(sealer, endpoint_id, value)

    await _rewrite(schema_editor, seal)


async def open_sealed_secrets(apps, schema_editor) -> None:
    sealer = signing.sealer(Settings())

    def open_(endpoint_id: int, value: str) -> str | None:
        if value.startswith(signing.SECRET_PREFIX):
            return None
        # Raises (the migration is rolled back) when the key cannot open it.
        return signing.unseal_secret(sealer, endpoint_id, value)

    await _rewrite(schema_editor, open_)


class Migration(migrations.Migration):
    dependencies = [("models", "0015_outcomes_and_reports")]

    initial = False

    operations = [
        ops.RenameField(model_name="WebhookEndpoint", old_name="secret", new_name="sealed_secret"),
        ops.RunPython(seal_plain_secrets, open_sealed_secrets),
    ]
