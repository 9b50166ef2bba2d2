"""The session reminder mail: its words in each language with the venue's local time, zone
and call link; delivery over SMTP; and what is no longer sent once things changed."""

from __future__ import annotations

import datetime as dt
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest

from exchange.invitations import tokens
from exchange.invitations.session_reminders import enqueue_session_reminders
from exchange.mail import session_reminder
from exchange.mail.dispatcher import Dispatcher
from exchange.models import (
    Exchange,
    ExchangeStatus,
    Invitation,
    InvitationStatus,
    MailKind,
    MailStatus,
    OutboxMail,
    Participation,
    ParticipationStatus,
    Session,
    Volunteer,
)
from exchange.settings import Settings
from tests.mail.conftest import PUBLIC_URL, SmtpServer, mail_settings, make_invitation, make_world

# make_world's sessions, in Asia/Almaty (UTC+5): in person on 11 May 2027 09:00-12:00 at
# "Aralsk, Abay St. 1", online on 12 May 09:00-12:00 at https://meet.example/aral.
BEFORE_BOTH = dt.datetime(2027, 5, 10, 12, 0, tzinfo=dt.UTC)
CALL = "https://meet.example/aral"
# The venue's local date and hours: one line in the text, two in the HTML (the hours kept
# whole on a phone).
EXPECTED: dict[str, dict[str, Any]] = {
    "kk": {
        "subject": "Еске салу: «Отырғызу 1», 2027 ж. 11 мамыр, 09:00",
        "greeting": "Сәлеметсіз бе, Әйгерім Серікқызы!",
        "in_person": ("2027 ж. 11 мамыр, сейсенбі", "09:00–12:00 (GMT+05:00)"),
        "online": ("2027 ж. 12 мамыр, сәрсенбі", "09:00–12:00 (GMT+05:00)"),
        "zone": "Уақыт белдеуі: Қазақстан уақыты (Asia/Almaty)",
        "link_label": "Онлайн қосылу сілтемесі",
        "where": "Өтетін орны: Aralsk, Abay St. 1",
    },
    "ru": {
        "subject": "Напоминание: «Посадка 1», 11 мая 2027 г., 09:00",
        "greeting": "Здравствуйте, Әйгерім Серікқызы!",
        "in_person": ("вторник, 11 мая 2027 г.", "09:00–12:00 (GMT+05:00)"),
        "online": ("среда, 12 мая 2027 г.", "09:00–12:00 (GMT+05:00)"),
        "zone": "Часовой пояс: Казахстан (Asia/Almaty)",
        "link_label": "Подключиться онлайн",
        "where": "Где: Aralsk, Abay St. 1",
    },
    "en": {
        "subject": "Reminder: Planting 1, May 11, 2027, 9:00 AM",
        "greeting": "Dear Әйгерім Серікқызы,",
        "in_person": ("Tuesday, May 11, 2027", "9:00 AM–12:00 PM (GMT+05:00)"),
        "online": ("Wednesday, May 12, 2027", "9:00 AM–12:00 PM (GMT+05:00)"),
        "zone": "Time zone: Kazakhstan Time (Asia/Almaty)",
        "link_label": "Join online",
        "where": "Where: Aralsk, Abay St. 1",
    },
}


async def accepted_invitee(
    exchange: Exchange,
    settings: Settings,
    *,
    locale: str = "kk",
    email: str = "aigerim@example.kz",
    **extra: object,
) -> Invitation:
    host = await exchange.host
    volunteer = await Volunteer.create(
        full_name="Әйгерім Серікқызы", email=email, country="KZ", languages=[locale]
    )
    invitation = await make_invitation(
        exchange,
        host,
        settings,
        email=email,
        locale=locale,
        status=InvitationStatus.ACCEPTED,
        volunteer=volunteer,
        **extra,
    )
    await Participation.create(volunteer=volunteer, exchange=exchange, status=ParticipationStatus.CONFIRMED)
    return invitation


def plain(text: str) -> str:
    # Babel (CLDR) separates with no-break spaces; compare the words.
    return text.replace("\u202f", " ").replace("\xa0", " ")


def parse(data: bytes) -> tuple[EmailMessage, str, str]:
    message = BytesParser(policy=policy.default).parsebytes(data)
    assert isinstance(message, EmailMessage)
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    return message, plain(text.get_content().replace("\r\n", "\n")), plain(html.get_content())


async def due_now() -> None:
    """The sweep ran on the test's clock (in 2027); the dispatcher sends what is due by the real one."""
    await OutboxMail.all().update(next_attempt_at=dt.datetime.now(dt.UTC))


async def rendered(mail: OutboxMail, settings: Settings) -> tuple[EmailMessage, str, str]:
    data = await session_reminder.load(mail)
    assert session_reminder.skip_reason(data, BEFORE_BOTH) is None
    return parse(session_reminder.compose_bytes(data, settings).data)


@pytest.mark.parametrize("locale", ["kk", "ru", "en"])
async def test_words_time_zone_and_link_in_each_language(database: str, tmp_path: Path, locale: str) -> None:
    settings = mail_settings(database, tmp_path, session_reminder_hours=48)
    _host, exchange, sessions = await make_world()
    invitation = await accepted_invitee(exchange, settings, locale=locale)
    assert await enqueue_session_reminders(settings, BEFORE_BOTH) == 2
    in_person, online = await OutboxMail.filter(kind=MailKind.SESSION_REMINDER).order_by("id")
    assert [m.payload["session_id"] for m in (in_person, online)] == [s.id for s in sessions]
    words = EXPECTED[locale]

    message, text, html = await rendered(in_person, settings)
    assert plain(message["Subject"]) == words["subject"]
    assert message["Content-Language"] == locale
    assert message["To"].addresses[0].addr_spec == "aigerim@example.kz"
    assert message["Message-ID"] == in_person.message_id
    # No calendar file: the entry in the invitee's calendar has not changed.
    assert [p.get_content_type() for p in message.walk() if not p.is_multipart()] == [
        "text/plain",
        "text/html",
    ]
    date, hours = words["in_person"]
    for expected in (words["greeting"], f"{date}, {hours}", words["zone"], words["where"]):
        assert expected in text
    assert f'{date}<br><span style="white-space:nowrap;">{hours}</span>' in html
    for expected in ("Asia/Almaty", "Aralsk, Abay St. 1"):
        assert expected in html
    assert CALL not in text and CALL not in html
    page = f"{PUBLIC_URL}/invitations/"
    assert f"?lang={locale}" in text and page in text and page in html

    _, text, html = await rendered(online, settings)
    date, hours = words["online"]
    assert f"{date}, {hours}" in text
    assert date in html and hours in html
    assert f"{words['link_label']}: {CALL}" in text
    assert f'<a href="{CALL}"' in html
    assert words["where"] not in text
    assert invitation.status is InvitationStatus.ACCEPTED


async def test_on_the_roster_in_the_volunteers_language_without_a_link(database: str, tmp_path: Path) -> None:
    settings = mail_settings(database, tmp_path, session_reminder_hours=24)
    host, exchange, _sessions = await make_world()
    volunteer = await Volunteer.create(
        full_name="Мария Иванова", email="maria@example.org", country="KZ", languages=["de", "ru"]
    )
    await Participation.create(volunteer=volunteer, exchange=exchange, status=ParticipationStatus.CONFIRMED)
    assert await enqueue_session_reminders(settings, BEFORE_BOTH) == 1
    [mail] = await OutboxMail.filter(kind=MailKind.SESSION_REMINDER)
    message, text, _html = await rendered(mail, settings)
    assert plain(message["Subject"]) == EXPECTED["ru"]["subject"]
    assert "Здравствуйте, Мария Иванова!" in text
    # No invitation, no invitation page; the mail speaks for the host.
    assert "/invitations/" not in text
    assert "Фонд «Арал»" in text
    assert message["Reply-To"].addresses[0].addr_spec == host.contact_email


async def test_after_a_key_change_the_link_made_before_or_none(database: str, tmp_path: Path) -> None:
    settings = mail_settings(database, tmp_path, session_reminder_hours=24)
    _host, exchange, _sessions = await make_world()
    invitation = await accepted_invitee(exchange, settings, locale="en")
    link = (
        f"{PUBLIC_URL}/invitations/{tokens.token_for(invitation.token_nonce, settings.signing_key)}?lang=en"
    )
    assert await enqueue_session_reminders(settings, BEFORE_BOTH) == 1
    [mail] = await OutboxMail.filter(kind=MailKind.SESSION_REMINDER)
    # EXCHANGE_SECRET_KEY changed, the old key in EXCHANGE_PREVIOUS_SECRET_KEYS: the link the
    # volunteer already has, the one the stored hash is of.
    old_key = settings.secret_key
    assert old_key is not None
    settings.secret_key = "n" * 40
    settings.previous_secret_keys = [old_key]
    _, text, _html = await rendered(mail, settings)
    assert link in text
    # The old key no longer listed: the reminder goes without a link rather than with one
    # that opens nothing.
    settings.previous_secret_keys = []
    _, text, html = await rendered(mail, settings)
    assert "/invitations/" not in text and "/invitations/" not in html
    assert EXPECTED["en"]["greeting"] in text


async def test_sent_over_smtp_once(database: str, tmp_path: Path, smtp: SmtpServer) -> None:
    settings = mail_settings(database, tmp_path, smtp, session_reminder_hours=24)
    _host, exchange, sessions = await make_world()
    invitation = await accepted_invitee(exchange, settings, locale="en", sessions=sessions[:1])
    assert await enqueue_session_reminders(settings, BEFORE_BOTH) == 1
    await due_now()
    dispatcher = Dispatcher(settings)
    assert await dispatcher.run_once() == 1
    [received] = smtp.handler.messages()
    assert received.rcpt_tos == ["aigerim@example.kz"]
    message, text, _ = parse(received.data)
    assert plain(message["Subject"]) == EXPECTED["en"]["subject"]
    assert ", ".join(EXPECTED["en"]["in_person"]) in text
    mail = await OutboxMail.get(kind=MailKind.SESSION_REMINDER)
    assert mail.status is MailStatus.SENT and mail.sent_at is not None and mail.last_error is None
    assert received.message_id == mail.message_id
    # The sweep runs again, later: nothing new is queued, nothing more is sent.
    assert await enqueue_session_reminders(settings, BEFORE_BOTH + dt.timedelta(hours=3)) == 0
    assert await dispatcher.run_once() == 0
    assert len(smtp.handler.messages()) == 1
    stored = await Invitation.get(id=invitation.id)
    assert (stored.status, stored.last_error) == (InvitationStatus.ACCEPTED, None)


async def _change(case: str, exchange: Exchange, session: Session, invitation: Invitation) -> None:
    if case == "moved":
        await Session.filter(id=session.id).update(
            starts_at=session.starts_at + dt.timedelta(hours=2), sequence=session.sequence + 1
        )
    elif case == "cancelled":
        await Session.filter(id=session.id).update(cancelled_at=BEFORE_BOTH, sequence=session.sequence + 1)
    elif case == "exchange cancelled":
        await Exchange.filter(id=exchange.id).update(status=ExchangeStatus.CANCELLED)
    elif case == "withdrawn":
        await Participation.filter(exchange_id=exchange.id).update(status=ParticipationStatus.WITHDRAWN)
    elif case == "revoked":
        await Invitation.filter(id=invitation.id).update(status=InvitationStatus.REVOKED)
    elif case == "started":
        await Session.filter(id=session.id).update(
            starts_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        )


SKIPS = {
    "moved": "not sent: the session has moved since; a reminder for its new time is due instead",
    "cancelled": "not sent: the session was cancelled",
    "exchange cancelled": "not sent: the exchange is CANCELLED",
    "withdrawn": "not sent: the volunteer no longer takes part in the exchange",
    "revoked": "not sent: the invitation is REVOKED",
    "started": "not sent: the session has already started",
}


@pytest.mark.parametrize("case", list(SKIPS))
async def test_not_sent_once_things_changed_after_queueing(
    sqlite_database: str, tmp_path: Path, smtp: SmtpServer, case: str
) -> None:
    settings = mail_settings(sqlite_database, tmp_path, smtp, session_reminder_hours=24)
    _host, exchange, sessions = await make_world()
    invitation = await accepted_invitee(exchange, settings, sessions=sessions[:1])
    assert await enqueue_session_reminders(settings, BEFORE_BOTH) == 1
    await _change(case, exchange, sessions[0], invitation)
    await due_now()
    assert await Dispatcher(settings).run_once() == 1
    mail = await OutboxMail.get(kind=MailKind.SESSION_REMINDER)
    assert (mail.status, mail.sent_at, mail.last_error) == (MailStatus.SENT, None, SKIPS[case])
    assert smtp.handler.messages() == []
