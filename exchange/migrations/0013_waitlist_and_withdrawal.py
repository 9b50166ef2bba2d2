from tortoise import fields, migrations
from tortoise.migrations import operations as ops

# The waiting list and withdrawal on the invitation link (issue 15):
# * exchange.waitlist: accepting when every place is taken joins a waiting list instead of
#   being refused; false for every exchange so far (a database default too).
# * invitation.waitlisted_at (the list's order), offer_expires_at (until when an offered
#   place may be claimed), withdrawn_at (when an accepted invitee gave the place up): empty
#   for every invitation so far.
# The new statuses (WAITLISTED, OFFERED, WITHDRAWN) and mail kinds need no change: both
# columns are plain text. Plain added columns, so SQLite adds them instead of rebuilding
# the tables (which would drop the indexes made by hand in 0003 and 0004).


class Migration(migrations.Migration):
    dependencies = [("models", "0012_participation_attendance")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Exchange",
            name="waitlist",
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name="Invitation",
            name="waitlisted_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name="Invitation",
            name="offer_expires_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name="Invitation",
            name="withdrawn_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
