from tortoise import migrations
from tortoise.migrations import operations as ops

# volunteers(skill:) matches "\n<skill>\n" in skills_folded, which the API writes framed by
# newlines (exchange.volunteers.skills_folded). The demo data (and the benchmark's) joined the
# folded skills without the outer newlines, so a seeded volunteer's first and last skills were
# never found. Such rows (not empty, not starting with a newline: an API row always does) get
# their frame. Plain SQL, the same on SQLite and PostgreSQL (a newline inside a string
# literal is that character in both); the models are unchanged. Nothing to undo: framed rows
# match wherever unframed ones did.

FRAME = (
    "UPDATE volunteer SET skills_folded = '\n' || skills_folded || '\n' "
    "WHERE skills_folded <> '' AND substr(skills_folded, 1, 1) <> '\n'",
)


class Migration(migrations.Migration):
    dependencies = [("models", "0007_webhook_due_index")]

    initial = False

    operations = [ops.RunSQL(list(FRAME), reverse_sql=ops.RunSQL.noop)]
