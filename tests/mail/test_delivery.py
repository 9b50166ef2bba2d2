"""Invitation mail through a real SMTP server: what arrives, in each language, and what
the invitation records about it."""

from __future__ import annotations

import datetime as dt
import os
import re
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from exchange.invitations import tokens
from exchange.mail.dispatcher import Dispatcher
from exchange.mail.outbox import enqueue
from exchange.models import (
    Exchange,
    ExchangeStatus,
    Invitation,
    InvitationStatus,
    MailKind,
    MailStatus,
    OutboxMail,
)
from tests.mail.conftest import (
    PUBLIC_URL,
    RecordingBus,
    SmtpServer,
    mail_settings,
    make_invitation,
    make_world,
)

NOTE = 'Бізге қосылыңыз! <script>alert("x")</script> & bring a hat\nSecond line'

EXPECTED = {
    "kk": {
        "subject": "Арал қоры сізді шақырады: «Арал апталығы»",
        "greeting": "Сәлеметсіз бе, Әйгерім Серікқызы!",
        "accept": "Қабылдаймын",
        "date": "2027 ж. 11 мамыр, сейсенбі, 09:00–12:00 (GMT+05:00)",
        "org": "Арал қоры",
    },
    "ru": {
        "subject": "Приглашение: «Неделя Арала» (Фонд «Арал»)",
        "greeting": "Здравствуйте, Әйгерім Серікқызы!",
        "accept": "Принимаю",
        "date": "вторник, 11 мая 2027 г., 09:00–12:00 (GMT+05:00)",
        "org": "Фонд «Арал»",
    },
    "en": {
        "subject": "Invitation from Aral Foundation: Aral Sea Week",
        "greeting": "Dear Әйгерім Серікқызы,",
        "accept": "Accept",
        "date": "Tuesday, May 11, 2027, 9:00 AM–12:00 PM (GMT+05:00)",
        "org": "Aral Foundation",
    },
}


def read_eml(path: Path) -> EmailMessage:
    parsed = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert isinstance(parsed, EmailMessage)
    return parsed


def parts(message: EmailMessage) -> tuple[str, str, bytes, EmailMessage]:
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    calendars = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert text is not None and html is not None and len(calendars) == 1
    calendar = calendars[0]
    assert isinstance(calendar, EmailMessage)
    # SMTP carries CRLF line ends; the note is compared as written.
    plain = text.get_content().replace("\r\n", "\n")
    return plain, html.get_content(), calendar.get_payload(decode=True), calendar


@pytest.mark.parametrize("locale", ["kk", "ru", "en"])
async def test_invitation_arrives_localised_with_links_and_calendar(
    locale: str, sqlite_database: str, tmp_path: Path, smtp: SmtpServer, bus: RecordingBus
) -> None:
    settings = mail_settings(sqlite_database, tmp_path, smtp)
    host, exchange, sessions = await make_world()
    invitation = await make_invitation(
        exchange, host, settings, locale=locale, sessions=sessions, message=NOTE
    )
    row = await enqueue(MailKind.INVITATION, invitation, settings=settings)

    dispatcher = Dispatcher(settings)
    assert await dispatcher.run_once() == 1

    [received] = smtp.handler.messages()
    assert received.rcpt_tos == ["aigerim@example.kz"]
    assert received.mail_from == "no-reply@exchange.test"
    message = received.message
    expected = EXPECTED[locale]
    assert message["Message-ID"] == row.message_id
    assert re.fullmatch(r"<mail-[0-9a-f]{32}@exchange\.test>", row.message_id)
    assert message["Subject"] == expected["subject"]
    assert message["From"].addresses[0].display_name == "Еріктілер алмасуы"
    assert message["From"].addresses[0].addr_spec == "no-reply@exchange.test"
    assert message["To"].addresses[0].display_name == "Әйгерім Серікқызы"
    assert message["Reply-To"].addresses[0].addr_spec == "hello@aral-fund.kz"
    assert message["Reply-To"].addresses[0].display_name == expected["org"]
    assert message["Content-Language"] == locale
    # Non-ASCII names travel as RFC 2047 encoded words, never raw 8-bit headers.
    raw_headers = received.data.split(b"\r\n\r\n", 1)[0]
    assert raw_headers.isascii()
    assert b"=?utf-8?" in raw_headers.lower()

    text, html, ics_bytes, ics_part = parts(message)
    assert expected["greeting"] in text and expected["accept"] in text
    # Babel (CLDR) separates with no-break spaces; compare the words.
    assert expected["date"] in text.replace("\u202f", " ").replace("\xa0", " ")
    # The organiser's note: verbatim in plain text, escaped in HTML.
    assert NOTE in text
    assert "<script>" not in html and "&lt;script&gt;" in html and "&amp; bring a hat" in html
    assert f'lang="{locale}"' in html

    links = set(re.findall(re.escape(PUBLIC_URL) + r"/invitations/([A-Za-z0-9_-]+)", text))
    assert len(links) == 1
    token = links.pop()
    assert tokens.token_hash(token) == invitation.token_hash
    assert await Invitation.get(token_hash=tokens.token_hash(token)) == invitation
    assert f"{PUBLIC_URL}/invitations/{token}?lang={locale}&response=accept" in text
    assert f"{PUBLIC_URL}/invitations/{token}?lang={locale}&amp;response=decline" in html

    assert ics_part.get_content_type() == "text/calendar"
    assert ics_part.get_param("method") == "REQUEST"
    calendar = Calendar.from_ical(ics_bytes)
    assert calendar["METHOD"] == "REQUEST"
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Asia/Almaty"]
    events = calendar.walk("VEVENT")
    assert [str(e["UID"]) for e in events] == [
        f"session-{s.id}-invitation-{invitation.id}@exchange.test" for s in sessions
    ]
    first = events[0]
    start = first.decoded("DTSTART")
    assert start.tzinfo == ZoneInfo("Asia/Almaty")
    assert (start.year, start.month, start.day, start.hour, start.minute) == (2027, 5, 11, 9, 0)
    assert first.decoded("DTEND") - start == dt.timedelta(hours=3)
    assert int(first["SEQUENCE"]) == 0
    assert str(first["ATTENDEE"]) == "mailto:aigerim@example.kz"

    await invitation.refresh_from_db()
    assert invitation.status is InvitationStatus.SENT
    assert invitation.delivery_attempts == 1
    assert invitation.sent_at is not None and invitation.last_error is None
    await row.refresh_from_db()
    assert row.status is MailStatus.SENT and row.attempts == 1 and row.sent_at is not None
    assert row.claimed_by is None and row.claimed_until is None
    [event] = bus.events
    assert (event.invitation_id, event.previous_status, event.status) == (
        invitation.id,
        InvitationStatus.QUEUED,
        InvitationStatus.SENT,
    )
    assert event.organiser_ids == {host.id, *[p.id for p in await exchange.partners.all()]}


async def test_whole_exchange_invitation_gets_an_all_day_entry(
    sqlite_database: str, tmp_path: Path, smtp: SmtpServer, bus: RecordingBus
) -> None:
    settings = mail_settings(sqlite_database, tmp_path, smtp)
    host, exchange, _ = await make_world(contact_email=None)
    invitation = await make_invitation(exchange, host, settings, locale="en")
    await enqueue(MailKind.INVITATION, invitation, settings=settings)
    await Dispatcher(settings).run_once()

    [received] = smtp.handler.messages()
    message = received.message
    assert message["Reply-To"] is None
    text, _, ics_bytes, _ = parts(message)
    assert "May 10, 2027 – May 14, 2027" in text.replace("\u202f", " ").replace("\xa0", " ")
    [event] = Calendar.from_ical(ics_bytes).walk("VEVENT")
    assert str(event["UID"]) == f"exchange-{exchange.id}-invitation-{invitation.id}@exchange.test"
    assert event.decoded("DTSTART") == dt.date(2027, 5, 10)
    assert event.decoded("DTEND") == dt.date(2027, 5, 15)


async def test_no_header_injection_through_names_titles_or_contact(
    sqlite_database: str, tmp_path: Path, smtp: SmtpServer, bus: RecordingBus
) -> None:
    settings = mail_settings(sqlite_database, tmp_path, smtp)
    host, exchange, _ = await make_world(
        host_names={"en": "Evil Org\r\nBcc: victim@evil.test"},
        titles={"en": "Week\r\nX-Injected: yes\nSubject: other"},
        contact_email="contact@evil.test\r\nBcc: second@evil.test",
    )
    invitation = await make_invitation(
        exchange, host, settings, locale="en", full_name="Eve\r\nBcc: third@evil.test\u2028Cc: x@evil.test"
    )
    await enqueue(MailKind.INVITATION, invitation, settings=settings)
    await Dispatcher(settings).run_once()

    [received] = smtp.handler.messages()
    assert received.rcpt_tos == ["aigerim@example.kz"]
    message = received.message
    for name in ("Bcc", "Cc", "X-Injected"):
        assert message[name] is None
    assert message.get_all("Subject") == [
        "Invitation from Evil Org Bcc: victim@evil.test: Week X-Injected: yes Subject: other"
    ]
    [to] = message["To"].addresses
    assert to.addr_spec == "aigerim@example.kz"
    assert to.display_name == "Eve Bcc: third@evil.test Cc: x@evil.test"
    # An address with a line break is no address at all: no Reply-To rather than a forged one.
    assert message["Reply-To"] is None
    headers = received.data.split(b"\r\n\r\n", 1)[0]
    assert b"\nBcc" not in headers and b"\nX-Injected" not in headers and b"\nCc" not in headers


@pytest.mark.parametrize(
    ("kind", "subject"), [(MailKind.INVITATION, "Invitation from"), (MailKind.RESEND, "Invitation from")]
)
async def test_connection_is_reused_for_a_batch(
    kind: MailKind, subject: str, sqlite_database: str, tmp_path: Path, smtp: SmtpServer, bus: RecordingBus
) -> None:
    settings = mail_settings(sqlite_database, tmp_path, smtp)
    host, exchange, _ = await make_world()
    for index in range(7):
        invitation = await make_invitation(
            exchange, host, settings, email=f"v{index}@example.org", locale="en"
        )
        await enqueue(kind, invitation, settings=settings)
    dispatcher = Dispatcher(settings)
    assert await dispatcher.run_once() == 7
    messages = smtp.handler.messages()
    assert sorted(m.rcpt_tos[0] for m in messages) == [f"v{i}@example.org" for i in range(7)]
    assert all(subject in m.message["Subject"] for m in messages)
    assert smtp.handler.connections == 1
    assert dispatcher.stats.connections_opened == 1
    assert await OutboxMail.filter(status=MailStatus.SENT).count() == 7
    assert await Invitation.filter(status=InvitationStatus.SENT, delivery_attempts=1).count() == 7


async def test_eml_files_without_smtp_host(sqlite_database: str, tmp_path: Path, bus: RecordingBus) -> None:
    settings = mail_settings(sqlite_database, tmp_path, None)
    assert settings.smtp_host is None
    host, exchange, sessions = await make_world()
    invitation = await make_invitation(exchange, host, settings, locale="ru", sessions=sessions[:1])
    row = await enqueue(MailKind.INVITATION, invitation, settings=settings)
    await Dispatcher(settings).run_once()

    files = sorted(os.listdir(settings.mail_dir))
    assert files == [row.message_id.strip("<>").replace("@", "_") + ".eml"]
    message = read_eml(Path(settings.mail_dir) / files[0])
    assert message["Message-ID"] == row.message_id
    assert message["Subject"] == EXPECTED["ru"]["subject"]
    text, html, ics_bytes, _ = parts(message)
    assert "Принимаю" in text and "Принимаю" in html
    assert len(Calendar.from_ical(ics_bytes).walk("VEVENT")) == 1
    await invitation.refresh_from_db()
    assert invitation.status is InvitationStatus.SENT


async def test_render_interface_and_locale_fallback(sqlite_database: str, tmp_path: Path) -> None:
    """render() gives the EmailMessage the dispatcher would send; a locale without platform
    texts falls back to the exchange's languages (kk first here)."""
    from exchange.mail.render import render

    settings = mail_settings(sqlite_database, tmp_path, None)
    host, exchange, sessions = await make_world()
    invitation = await make_invitation(exchange, host, settings, locale="de", sessions=sessions[:1])
    row = await enqueue(MailKind.INVITATION, invitation, settings=settings)
    message = await render(row, settings)
    assert isinstance(message, EmailMessage)
    assert message["Message-ID"] == row.message_id
    assert message["Content-Language"] == "kk"
    assert message["Subject"] == EXPECTED["kk"]["subject"]
    text, _, ics_bytes, _ = parts(message)
    assert EXPECTED["kk"]["greeting"] in text
    assert len(Calendar.from_ical(ics_bytes).walk("VEVENT")) == 1
    # Rendering writes nothing: the row is still waiting.
    await row.refresh_from_db()
    assert row.status is MailStatus.PENDING and row.attempts == 0


@pytest.mark.parametrize("status", [ExchangeStatus.CANCELLED, ExchangeStatus.CLOSED])
async def test_no_invitation_or_reminder_once_the_exchange_stopped_taking_answers(
    status: ExchangeStatus, sqlite_database: str, tmp_path: Path, smtp: SmtpServer
) -> None:
    # Queued while the exchange was open, due after it closed or was cancelled: nothing goes
    # out (it would ask for an answer that can no longer be yes); a cancellation still does.
    settings = mail_settings(sqlite_database, tmp_path, smtp)
    host, exchange, _ = await make_world()
    invited = await make_invitation(exchange, host, settings, email="a@example.org", locale="en")
    reminded = await make_invitation(
        exchange,
        host,
        settings,
        email="b@example.org",
        locale="en",
        status=InvitationStatus.SENT,
        sent_at=dt.datetime.now(dt.UTC),
    )
    rows = [
        await enqueue(MailKind.INVITATION, invited, settings=settings),
        await enqueue(MailKind.REMINDER, reminded, settings=settings),
        await enqueue(MailKind.CANCELLATION, reminded, settings=settings),
    ]
    await Exchange.filter(id=exchange.id).update(status=status)
    await Dispatcher(settings).run_once()
    assert [m.rcpt_tos[0] for m in smtp.handler.messages()] == ["b@example.org"]
    for row in rows[:2]:
        await row.refresh_from_db()
        assert row.status is MailStatus.SENT and row.last_error == f"not sent: the exchange is {status.value}"
