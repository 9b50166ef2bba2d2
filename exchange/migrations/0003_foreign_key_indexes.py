from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

# Tortoise's SQLite schema editor skips db_index on existing columns (and on 0001's
# invitation.email_normalised): create those indexes there by hand; PostgreSQL has them.
SQLITE_INDEXES = {
    "idx_exchange_host": ("exchange", "host_id"),
    "idx_session_exchange": ("session", "exchange_id"),
    "idx_participation_exchange": ("participation", "exchange_id"),
    "idx_invitation_exchange": ("invitation", "exchange_id"),
    "idx_invitation_email_normalised": ("invitation", "email_normalised"),
    "idx_volunteer_organisation": ("volunteer", "organisation_id"),
}


async def sqlite_indexes(apps, schema_editor) -> None:
    if schema_editor.client.capabilities.dialect != "sqlite":
        return
    for name, (table, column) in SQLITE_INDEXES.items():
        await schema_editor.client.execute_script(f'CREATE INDEX IF NOT EXISTS {name} ON "{table}" ("{column}")')


async def drop_sqlite_indexes(apps, schema_editor) -> None:
    if schema_editor.client.capabilities.dialect != "sqlite":
        return
    for name in SQLITE_INDEXES:
        await schema_editor.client.execute_script(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [('models', '0002_localized_text_keeps_key_order')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='Exchange',
            name='host',
            field=fields.ForeignKeyField('models.Organisation', source_field='host_id', db_index=True, db_constraint=True, to_field='id', related_name='hosted_exchanges', on_delete=OnDelete.RESTRICT),
        ),
        ops.AddIndex(
            model_name='Exchange',
            index=Index(fields=['starts_on', 'id']),
        ),
        ops.AlterField(
            model_name='Invitation',
            name='exchange',
            field=fields.ForeignKeyField('models.Exchange', source_field='exchange_id', db_index=True, db_constraint=True, to_field='id', related_name='invitations', on_delete=OnDelete.CASCADE),
        ),
        ops.AlterField(
            model_name='Participation',
            name='exchange',
            field=fields.ForeignKeyField('models.Exchange', source_field='exchange_id', db_index=True, db_constraint=True, to_field='id', related_name='participations', on_delete=OnDelete.CASCADE),
        ),
        ops.AlterField(
            model_name='Session',
            name='exchange',
            field=fields.ForeignKeyField('models.Exchange', source_field='exchange_id', db_index=True, db_constraint=True, to_field='id', related_name='sessions', on_delete=OnDelete.CASCADE),
        ),
        ops.AlterField(
            model_name='Volunteer',
            name='organisation',
            field=fields.ForeignKeyField('models.Organisation', source_field='organisation_id', null=True, db_index=True, db_constraint=True, to_field='id', related_name='volunteers', on_delete=OnDelete.SET_NULL),
        ),
        # Organisation.exchanges finds co-organised exchanges by partner; the through table's
        # unique index starts with exchange_id. Written by hand: M2M tables take no index options.
        ops.RunSQL(
            "CREATE INDEX IF NOT EXISTS idx_exchange_partner_organisation ON exchange_partner (organisation_id)",
            reverse_sql="DROP INDEX IF EXISTS idx_exchange_partner_organisation",
        ),
        ops.RunPython(sqlite_indexes, drop_sqlite_indexes),
    ]
