"""Localized texts keep their key order on PostgreSQL.

The first key of a localized text ({"kk": ..., "en": ...}) is the record's default
language, but jsonb sorts object keys; json keeps the text as written. SQLite stores
the JSON text as given already. No model change: Tortoise reads and writes both types
the same way.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

LOCALIZED_COLUMNS = (
    ("organisation", "names"),
    ("exchange", "titles"),
    ("exchange", "descriptions"),
    ("session", "titles"),
)


def _is_postgres(schema_editor) -> bool:
    return schema_editor.client.capabilities.dialect == "postgres"


async def _retype(schema_editor, sql_type: str) -> None:
    if not _is_postgres(schema_editor):
        return
    for table, column in LOCALIZED_COLUMNS:
        await schema_editor.client.execute_script(
            f'ALTER TABLE "{table}" ALTER COLUMN "{column}" TYPE {sql_type} USING "{column}"::{sql_type}'
        )


async def forward(apps, schema_editor) -> None:
    await _retype(schema_editor, "json")


async def backward(apps, schema_editor) -> None:
    await _retype(schema_editor, "jsonb")


class Migration(migrations.Migration):
    dependencies = [("models", "0001_initial")]

    operations = [ops.RunPython(forward, backward)]
