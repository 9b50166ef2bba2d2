from tortoise import migrations
from tortoise.migrations import operations as ops

# exchange.i18n.fold now folds ё to е; the stored search columns are refolded the same way
# so that "учет" finds texts written with "учёт". Plain SQL, the same on SQLite and
# PostgreSQL; the models are unchanged. Nothing to undo: е matches where ё did.

REFOLD = (
    "UPDATE exchange SET search_text = REPLACE(search_text, 'ё', 'е') WHERE search_text LIKE '%ё%'",
    "UPDATE volunteer SET skills_folded = REPLACE(skills_folded, 'ё', 'е') WHERE skills_folded LIKE '%ё%'",
)


class Migration(migrations.Migration):
    dependencies = [("models", "0004_outbox_mail_indexes")]

    initial = False

    operations = [ops.RunSQL(list(REFOLD), reverse_sql=ops.RunSQL.noop)]
