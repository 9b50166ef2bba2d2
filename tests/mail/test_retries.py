"""Temporary and permanent failures, retries with backoff, and what the invitation says
about them; on both databases (claims and conditional updates are engine-sensitive)."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest

from exchange.mail.dispatcher import Dispatcher, backoff_seconds
from exchange.mail.outbox import enqueue
from exchange.models import Invitation, InvitationStatus, MailKind, MailStatus, OutboxMail
from tests.mail.conftest import RecordingBus, SmtpServer, mail_settings, make_invitation, make_world


async def make_due(row: OutboxMail) -> None:
    """Skip the backoff wait: the test is about what happens next, not about the clock."""
    await OutboxMail.filter(id=row.id).update(
        next_attempt_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    )


async def test_451_then_success_delivers_once(
    database: str, tmp_path: Path, smtp: SmtpServer, bus: RecordingBus
) -> None:
    settings = mail_settings(database, tmp_path, smtp, mail_retry_base_seconds=60)
    host, exchange, _ = await make_world()
    invitation = await make_invitation(exchange, host, settings)
    row = await enqueue(MailKind.INVITATION, invitation, settings=settings)
    smtp.handler.data_replies.append("451 4.3.0 Mail server temporarily rejected message")
    dispatcher = Dispatcher(settings)

    before = dt.datetime.now(dt.UTC)
    await dispatcher.run_once()
    await row.refresh_from_db()
    assert row.status is MailStatus.PENDING and row.attempts == 1
    assert row.last_error is not None and row.last_error.startswith("451")
    # Backoff with jitter: between half and all of base * 2^0.
    assert before + dt.timedelta(seconds=29) < row.next_attempt_at < before + dt.timedelta(seconds=62)
    assert row.claimed_by is None
    await invitation.refresh_from_db()
    assert invitation.status is InvitationStatus.QUEUED
    assert invitation.last_error is not None and "451" in invitation.last_error
    assert smtp.handler.messages() == []
    # Not due yet: nothing is claimed.
    assert await dispatcher.run_once() == 0

    await make_due(row)
    assert await dispatcher.run_once() == 1
    [received] = smtp.handler.messages()
    assert received.message_id == row.message_id
    await row.refresh_from_db()
    assert row.status is MailStatus.SENT and row.attempts == 2 and row.last_error is None
    await invitation.refresh_from_db()
    assert invitation.status is InvitationStatus.SENT
    assert invitation.delivery_attempts == 2 and invitation.last_error is None
    assert [(e.previous_status, e.status) for e in bus.events] == [
        (InvitationStatus.QUEUED, InvitationStatus.SENT)
    ]


async def test_550_fails_the_invitation(
    database: str, tmp_path: Path, smtp: SmtpServer, bus: RecordingBus, caplog: pytest.LogCaptureFixture
) -> None:
    settings = mail_settings(database, tmp_path, smtp)
    host, exchange, _ = await make_world()
    bad = await make_invitation(exchange, host, settings, email="nobody@example.org")
    good = await make_invitation(exchange, host, settings, email="somebody@example.org")
    bad_row = await enqueue(MailKind.INVITATION, bad, settings=settings)
    await enqueue(MailKind.INVITATION, good, settings=settings)
    smtp.handler.refuse_rcpt["nobody@example.org"] = (
        "550 5.1.1 <nobody@example.org>: Recipient address rejected"
    )
    dispatcher = Dispatcher(settings)
    with caplog.at_level(logging.WARNING, logger="exchange"):
        assert await dispatcher.run_once() == 2
    # The refusal quotes the address; the log line, which erasure cannot reach, does not.
    failed_lines = [r.getMessage() for r in caplog.records if "failed for good" in r.getMessage()]
    assert failed_lines and all("nobody@example.org" not in line for line in failed_lines)
    assert "[address]" in failed_lines[0]

    await bad_row.refresh_from_db()
    assert bad_row.status is MailStatus.FAILED and bad_row.attempts == 1
    assert bad_row.last_error is not None and bad_row.last_error.startswith("550 5.1.1")
    await bad.refresh_from_db()
    assert bad.status is InvitationStatus.FAILED
    assert bad.last_error is not None and "550" in bad.last_error
    assert bad.delivery_attempts == 1 and bad.sent_at is None
    # The connection survives a refused recipient: the next mail goes over it.
    assert [m.rcpt_tos for m in smtp.handler.messages()] == [["somebody@example.org"]]
    assert smtp.handler.connections == 1
    await good.refresh_from_db()
    assert good.status is InvitationStatus.SENT
    assert sorted((e.invitation_id, e.status) for e in bus.events) == sorted(
        [(bad.id, InvitationStatus.FAILED), (good.id, InvitationStatus.SENT)]
    )
    # A failed row is never picked up again.
    assert await dispatcher.run_once() == 0


async def test_retries_exhausted_fail_the_invitation(
    database: str, tmp_path: Path, smtp: SmtpServer, bus: RecordingBus
) -> None:
    settings = mail_settings(database, tmp_path, smtp, mail_max_attempts=3)
    host, exchange, _ = await make_world()
    invitation = await make_invitation(exchange, host, settings)
    row = await enqueue(MailKind.INVITATION, invitation, settings=settings)
    smtp.handler.data_replies.extend(["451 4.7.1 Greylisted"] * 3)
    dispatcher = Dispatcher(settings)
    for _ in range(3):
        await make_due(row)
        assert await dispatcher.run_once() == 1
    await row.refresh_from_db()
    assert row.status is MailStatus.FAILED and row.attempts == 3
    assert row.last_error == "gave up after 3 attempts: 451 4.7.1 Greylisted"
    await invitation.refresh_from_db()
    assert invitation.status is InvitationStatus.FAILED and invitation.delivery_attempts == 3
    assert smtp.handler.messages() == []


async def test_server_down_then_up_delivers_exactly_once(
    database: str, tmp_path: Path, smtp_down: SmtpServer, bus: RecordingBus
) -> None:
    settings = mail_settings(database, tmp_path, smtp_down)
    host, exchange, _ = await make_world()
    rows = []
    for index in range(3):
        invitation = await make_invitation(exchange, host, settings, email=f"v{index}@example.org")
        rows.append(await enqueue(MailKind.INVITATION, invitation, settings=settings))
    dispatcher = Dispatcher(settings)
    assert await dispatcher.run_once() == 3
    for row in rows:
        await row.refresh_from_db()
        assert row.status is MailStatus.PENDING and row.attempts == 1
        assert row.last_error is not None and "cannot connect" in row.last_error
    assert await Invitation.filter(status=InvitationStatus.QUEUED).count() == 3

    smtp_down.start()
    for row in rows:
        await make_due(row)
    assert await dispatcher.run_once() == 3
    assert await dispatcher.run_once() == 0
    received = smtp_down.handler.messages()
    assert sorted(m.message_id for m in received) == sorted(r.message_id for r in rows)
    assert await Invitation.filter(status=InvitationStatus.SENT, delivery_attempts=2).count() == 3
    assert dispatcher.stats.connections_opened == 1


async def test_reminder_outcomes_leave_the_status_alone(
    database: str, tmp_path: Path, smtp: SmtpServer, bus: RecordingBus
) -> None:
    settings = mail_settings(database, tmp_path, smtp)
    host, exchange, _ = await make_world()
    now = dt.datetime.now(dt.UTC)
    waiting = await make_invitation(
        exchange, host, settings, email="waiting@example.org", status=InvitationStatus.SENT, sent_at=now
    )
    bouncing = await make_invitation(
        exchange, host, settings, email="gone@example.org", status=InvitationStatus.SENT, sent_at=now
    )
    answered = await make_invitation(
        exchange, host, settings, email="yes@example.org", status=InvitationStatus.ACCEPTED, sent_at=now
    )
    declined = await make_invitation(
        exchange, host, settings, email="no@example.org", status=InvitationStatus.DECLINED, sent_at=now
    )
    rows = {
        inv.id: await enqueue(MailKind.REMINDER, inv, settings=settings)
        for inv in (waiting, bouncing, answered, declined)
    }
    smtp.handler.refuse_rcpt["gone@example.org"] = "550 5.1.1 No such mailbox"
    await Dispatcher(settings).run_once()

    assert [m.rcpt_tos for m in smtp.handler.messages()] == [["waiting@example.org"]]
    await waiting.refresh_from_db()
    assert waiting.status is InvitationStatus.SENT and waiting.reminder_sent_at is not None
    assert waiting.delivery_attempts == 0
    await bouncing.refresh_from_db()
    assert bouncing.status is InvitationStatus.SENT and bouncing.reminder_sent_at is None
    assert bouncing.last_error == "reminder mail: 550 5.1.1 No such mailbox"
    assert (await OutboxMail.get(id=rows[bouncing.id].id)).status is MailStatus.FAILED
    for skipped in (answered, declined):
        row = await OutboxMail.get(id=rows[skipped.id].id)
        assert row.status is MailStatus.SENT and row.sent_at is None
        assert row.last_error == f"not sent: invitation is {skipped.status.value}"
        await skipped.refresh_from_db()
        assert skipped.reminder_sent_at is None and skipped.last_error is None
    assert bus.events == []


async def test_answered_invitation_is_never_downgraded(
    database: str, tmp_path: Path, smtp: SmtpServer, bus: RecordingBus
) -> None:
    """A RESEND to an invitation accepted while the mail was on its way: sent, still ACCEPTED."""
    settings = mail_settings(database, tmp_path, smtp)
    host, exchange, _ = await make_world()
    invitation = await make_invitation(exchange, host, settings, status=InvitationStatus.SENT)
    await enqueue(MailKind.RESEND, invitation, settings=settings)
    dispatcher = Dispatcher(settings)
    _token, rows = await dispatcher.claim()
    assert len(rows) == 1
    await Invitation.filter(id=invitation.id).update(status=InvitationStatus.ACCEPTED)
    await dispatcher._settle_sent(rows[0], invitation, {})
    await invitation.refresh_from_db()
    assert invitation.status is InvitationStatus.ACCEPTED and invitation.delivery_attempts == 1
    assert bus.events == []


def test_backoff_grows_and_is_capped() -> None:
    for attempts in range(1, 30):
        delay = backoff_seconds(attempts, 2.0)
        full = min(2.0 * 2 ** (attempts - 1), 3600.0)
        assert full / 2 <= delay <= full
