from tortoise import migrations
from tortoise.migrations import operations as ops

# Automatic persisted queries are no longer stored (exchange.documents: they live in each
# process's bounded cache). The rows earlier versions stored for them (registered = false)
# are deleted: anyone could add them, any size, and they were never purged. Nothing is lost
# that a client needs: a process that does not know a hash answers PersistedQueryNotFound,
# and the client sends the text once again. Operators' registrations stay. Plain SQL, the
# same on SQLite and PostgreSQL; the models are unchanged.

FORGET = ("DELETE FROM persisted_document WHERE registered = false",)


class Migration(migrations.Migration):
    dependencies = [("models", "0005_search_folds_yo")]

    initial = False

    operations = [ops.RunSQL(list(FORGET), reverse_sql=ops.RunSQL.noop)]
