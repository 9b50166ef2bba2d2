"""Session reminders: a mail to each participant of a session, ``session_reminder_hours``
before it starts (exchange.mail.session_reminder renders it and decides at send time
whether it still may go).

Who is a participant of a session: a volunteer whose participation in the exchange holds a
place (confirmed or attended; withdrawn and removed ones do not), and who either accepted an
invitation naming that session or no session (the whole exchange), or holds the place
without an accepted invitation (put on the roster by the organisers: every session).
Declined, expired and revoked invitations give no place, so they remind nobody.

Once per participant, session and calendar sequence: the outbox row's dedupe_key is unique,
so a moved session (its sequence goes up) reminds once more for its new time, and sweepers
in several processes queue each reminder once. One statement per sweep, however many
sessions and participants are due.
"""

# ruff: noqa: S608

from __future__ import annotations

from datetime import datetime, timedelta

from exchange.invitations.common import utcnow
from exchange.mail.outbox import mail_host
from exchange.models import ExchangeStatus, InvitationStatus, MailKind, MailStatus
from exchange.participations import HOLDING_A_PLACE
from exchange.settings import Settings
from exchange.sql import Statement

# Exchanges whose sessions still take place: a draft has no participants yet, a cancelled
# one's sessions will not happen, and a completed one's are over.
REMINDED_EXCHANGES = (ExchangeStatus.OPEN, ExchangeStatus.CLOSED)
KEY_PREFIX = "session-reminder"


def dedupe_key(session_id: int, volunteer_id: int, sequence: int) -> str:
    return f"{KEY_PREFIX}:{session_id}:{volunteer_id}:{sequence}"


def _random_hex(dialect: str) -> str:
    # Message-IDs as exchange.mail.outbox.new_message_id makes them: random, so they say
    # nothing about the session or the person.
    if dialect == "postgres":
        return "md5(random()::text || clock_timestamp()::text || p.volunteer_id::text)"
    return "lower(hex(randomblob(16)))"


def _payload(dialect: str) -> str:
    build = "jsonb_build_object" if dialect == "postgres" else "json_object"
    return f"{build}('session_id', s.id, 'sequence', s.sequence, 'volunteer_id', p.volunteer_id)"


async def enqueue_session_reminders(settings: Settings, now: datetime | None = None) -> int:
    """Queues a SESSION_REMINDER for every participant of every session starting within the
    next ``session_reminder_hours`` that has none for its current sequence; returns how many."""
    if settings.session_reminder_hours is None:
        return 0
    now = now or utcnow()
    statement = Statement()
    dialect = statement.connection.capabilities.dialect

    def value(item: object, postgres_type: str) -> str:
        # A parameter in a SELECT list has no column to take its type from: PostgreSQL would
        # read it as text. SQLite stores what it is given (a CAST there would change it).
        placeholder = statement.param(item)
        return f"CAST({placeholder} AS {postgres_type})" if dialect == "postgres" else placeholder

    key = f"'{KEY_PREFIX}:' || s.id || ':' || p.volunteer_id || ':' || s.sequence"
    accepted = statement.param(InvitationStatus.ACCEPTED.value)
    # Erasure leaves a person's records with an address under RFC 2606's .invalid
    # (exchange.privacy): nothing can be delivered there.
    # The NOT EXISTS keeps reminders already queued out of the INSERT (on PostgreSQL every
    # row that reaches ON CONFLICT uses up a sequence number, and this runs every minute);
    # ON CONFLICT settles the race with another sweeper that queued the same one meanwhile.
    sql = f"""
        INSERT INTO outbox_mail (invitation_id, kind, message_id, recipient, status, attempts,
                                 next_attempt_at, payload, created_at, dedupe_key)
        SELECT i.id, {value(MailKind.SESSION_REMINDER.value, "VARCHAR")},
               '<mail-' || {_random_hex(dialect)} || '@' || {value(mail_host(settings), "VARCHAR")} || '>',
               COALESCE(i.email, v.email), {value(MailStatus.PENDING.value, "VARCHAR")}, 0,
               {value(now, "TIMESTAMPTZ")}, {_payload(dialect)}, {value(now, "TIMESTAMPTZ")}, {key}
        FROM session s
        JOIN exchange e ON e.id = s.exchange_id
        JOIN participation p ON p.exchange_id = s.exchange_id
        JOIN volunteer v ON v.id = p.volunteer_id
        LEFT JOIN invitation i
          ON i.exchange_id = s.exchange_id AND i.volunteer_id = p.volunteer_id AND i.status = {accepted}
        WHERE s.cancelled_at IS NULL
          AND s.starts_at > {statement.param(now)}
          AND s.starts_at <= {statement.param(now + timedelta(hours=settings.session_reminder_hours))}
          AND e.status IN {statement.in_list(status.value for status in REMINDED_EXCHANGES)}
          AND p.status IN {statement.in_list(status.value for status in HOLDING_A_PLACE)}
          AND (
            i.id IS NULL
            OR NOT EXISTS (SELECT 1 FROM invitation_session x WHERE x.invitation_id = i.id)
            OR EXISTS (SELECT 1 FROM invitation_session x WHERE x.invitation_id = i.id AND x.session_id = s.id)
          )
          AND COALESCE(i.email, v.email) NOT LIKE '%@invalid'
          AND NOT EXISTS (SELECT 1 FROM outbox_mail o WHERE o.dedupe_key = {key})
        ORDER BY s.id, p.volunteer_id
        ON CONFLICT DO NOTHING
    """
    if dialect == "postgres":
        # Tortoise reads an INSERT's row count from the command tag's second word, which is the
        # OID ("INSERT 0 5"): the rows are counted here instead.
        rows = await statement.fetch(
            f"WITH queued AS ({sql} RETURNING 1) SELECT COUNT(*) AS queued FROM queued"
        )
        return int(rows[0]["queued"])
    inserted, _ = await statement.connection.execute_query(sql, statement.params)
    return int(inserted)
