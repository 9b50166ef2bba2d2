"""Calendar files across an invitation's life: the entry the invitation creates is the one
an update replaces and a cancellation removes (same UID, growing SEQUENCE)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from icalendar import Calendar

from exchange.mail.dispatcher import Dispatcher
from exchange.mail.outbox import enqueue
from exchange.models import (
    ExchangeStatus,
    Invitation,
    InvitationStatus,
    MailKind,
    MailStatus,
    OutboxMail,
    Session,
)
from tests.mail.conftest import RecordingBus, SmtpServer, mail_settings, make_invitation, make_world
from tests.mail.test_delivery import parts


def calendar_of(smtp: SmtpServer, index: int = -1) -> tuple[Calendar, str, str]:
    message = smtp.handler.messages()[index].message
    text, _, ics_bytes, part = parts(message)
    assert part.get_param("method") == Calendar.from_ical(ics_bytes)["METHOD"]
    return Calendar.from_ical(ics_bytes), str(message["Subject"]), text


def events_by_uid(calendar: Calendar) -> dict[str, object]:
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


async def test_update_and_cancellations_replace_the_same_entries(
    sqlite_database: str, tmp_path: Path, smtp: SmtpServer, bus: RecordingBus
) -> None:
    settings = mail_settings(sqlite_database, tmp_path, smtp)
    host, exchange, sessions = await make_world(sessions=3)
    invitation = await make_invitation(exchange, host, settings, locale="en", sessions=sessions)
    dispatcher = Dispatcher(settings)
    await enqueue(MailKind.INVITATION, invitation, settings=settings)
    await dispatcher.run_once()
    original, _, _ = calendar_of(smtp)
    original_events = events_by_uid(original)
    assert len(original_events) == 3

    # The first session moves by two hours: its entry is re-sent with a higher SEQUENCE.
    moved = sessions[0]
    moved.starts_at += dt.timedelta(hours=2)
    moved.ends_at += dt.timedelta(hours=2)
    moved.sequence += 1
    await moved.save()
    await enqueue(MailKind.UPDATE, invitation, payload={"session_ids": [moved.id]}, settings=settings)
    await dispatcher.run_once()
    update, subject, text = calendar_of(smtp)
    assert subject == "Schedule change: Aral Sea Week"
    assert "11:00 AM" in text.replace("\u202f", " ")
    assert update["METHOD"] == "REQUEST"
    [(uid, event)] = events_by_uid(update).items()
    assert uid in original_events
    assert int(event["SEQUENCE"]) == int(original_events[uid]["SEQUENCE"]) + 1  # type: ignore[index]
    start = event.decoded("DTSTART")  # type: ignore[attr-defined]
    assert start.tzinfo == ZoneInfo("Asia/Almaty") and start.hour == 11

    # The second session is cancelled: CANCEL for its entry only.
    cancelled = sessions[1]
    cancelled.cancelled_at = dt.datetime.now(dt.UTC)
    cancelled.sequence += 1
    await cancelled.save()
    await enqueue(
        MailKind.CANCELLATION, invitation, payload={"session_ids": [cancelled.id]}, settings=settings
    )
    await dispatcher.run_once()
    cancel, subject, text = calendar_of(smtp)
    assert subject == "Session cancelled: Aral Sea Week"
    assert "Planting 2" in text and "Planting 1" not in text
    assert cancel["METHOD"] == "CANCEL"
    [(uid, event)] = events_by_uid(cancel).items()
    assert uid in original_events and str(event["STATUS"]) == "CANCELLED"  # type: ignore[index]
    assert int(event["SEQUENCE"]) > int(original_events[uid]["SEQUENCE"])  # type: ignore[index]

    # The whole invitation is revoked: every entry is cancelled with a higher SEQUENCE.
    await invitation.refresh_from_db()
    invitation.status = InvitationStatus.REVOKED
    invitation.calendar_sequence += 1
    await invitation.save(update_fields=["status", "calendar_sequence"])
    await enqueue(MailKind.CANCELLATION, invitation, settings=settings)
    await dispatcher.run_once()
    revoked, subject, _ = calendar_of(smtp)
    assert subject == "Invitation withdrawn: Aral Sea Week"
    assert revoked["METHOD"] == "CANCEL"
    revoked_events = events_by_uid(revoked)
    assert set(revoked_events) == set(original_events)
    for uid, event in revoked_events.items():
        assert str(event["STATUS"]) == "CANCELLED"  # type: ignore[index]
        session = await Session.get(id=int(uid.split("-")[1]))
        assert int(event["SEQUENCE"]) == session.sequence + 1  # type: ignore[index]
        assert int(event["SEQUENCE"]) > int(original_events[uid]["SEQUENCE"])  # type: ignore[index]
    assert len(smtp.handler.messages()) == 4
    await invitation.refresh_from_db()
    assert invitation.status is InvitationStatus.REVOKED and invitation.delivery_attempts == 1


async def test_cancelled_exchange_and_never_mailed_invitations(
    sqlite_database: str, tmp_path: Path, smtp: SmtpServer, bus: RecordingBus
) -> None:
    settings = mail_settings(sqlite_database, tmp_path, smtp)
    host, exchange, _ = await make_world(status=ExchangeStatus.CANCELLED, sessions=0)
    mailed = await make_invitation(
        exchange,
        host,
        settings,
        email="mailed@example.org",
        locale="ru",
        status=InvitationStatus.REVOKED,
        sent_at=dt.datetime.now(dt.UTC),
        calendar_sequence=1,
    )
    unmailed = await make_invitation(
        exchange, host, settings, email="unmailed@example.org", status=InvitationStatus.REVOKED
    )
    await enqueue(MailKind.CANCELLATION, mailed, settings=settings)
    skipped = await enqueue(MailKind.CANCELLATION, unmailed, settings=settings)
    await Dispatcher(settings).run_once()

    [received] = smtp.handler.messages()
    assert received.rcpt_tos == ["mailed@example.org"]
    calendar, subject, text = calendar_of(smtp)
    assert subject == "Отменено: «Неделя Арала»"
    assert "отменён и не состоится" in text
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"exchange-{exchange.id}-invitation-{mailed.id}@exchange.test"
    assert int(event["SEQUENCE"]) == 1 and str(event["STATUS"]) == "CANCELLED"
    assert event.decoded("DTSTART") == dt.date(2027, 5, 10)
    await skipped.refresh_from_db()
    assert (
        skipped.status is MailStatus.SENT
        and skipped.last_error == "not sent: no invitation mail was ever sent"
    )


async def test_invitation_mail_for_a_revoked_or_expired_invitation_is_not_sent(
    sqlite_database: str, tmp_path: Path, smtp: SmtpServer, bus: RecordingBus
) -> None:
    settings = mail_settings(sqlite_database, tmp_path, smtp)
    host, exchange, _ = await make_world()
    revoked = await make_invitation(
        exchange, host, settings, email="r@example.org", status=InvitationStatus.REVOKED
    )
    expired = await make_invitation(
        exchange, host, settings, email="e@example.org", expires_in=dt.timedelta(seconds=-1)
    )
    for invitation in (revoked, expired):
        await enqueue(MailKind.INVITATION, invitation, settings=settings)
    await Dispatcher(settings).run_once()
    assert smtp.handler.messages() == []
    assert sorted(r.last_error or "" for r in await OutboxMail.all()) == [
        "not sent: invitation has expired",
        "not sent: invitation is REVOKED",
    ]
    assert await Invitation.filter(delivery_attempts=0).count() == 2


async def test_session_mail_to_a_whole_exchange_invitee_has_no_calendar_file(
    sqlite_database: str, tmp_path: Path, smtp: SmtpServer, bus: RecordingBus
) -> None:
    """Their calendar holds the exchange's all-day entry only: nothing to move or cancel."""
    settings = mail_settings(sqlite_database, tmp_path, smtp)
    host, exchange, sessions = await make_world()
    invitation = await make_invitation(
        exchange,
        host,
        settings,
        locale="kk",
        status=InvitationStatus.ACCEPTED,
        sent_at=dt.datetime.now(dt.UTC),
    )
    await enqueue(MailKind.UPDATE, invitation, payload={"session_ids": [sessions[1].id]}, settings=settings)
    await Dispatcher(settings).run_once()
    [received] = smtp.handler.messages()
    message = received.message
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.walk()] == [
        "multipart/alternative",
        "text/plain",
        "text/html",
    ]
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "Отырғызу 2" in text and ".ics" not in text
    assert message["Subject"] == "Кесте өзгерді: «Арал апталығы»"
