"""The withdrawal and offer mails as the dispatcher writes them (.eml files), on SQLite and
PostgreSQL: each in the invitee's language; the withdrawal cancels exactly the calendar
entries the invitation mail made (same UIDs, higher SEQUENCE); the offer names its deadline
in the venue's time and carries no calendar; an offer mail that is no longer true when its
turn comes is not sent."""

from __future__ import annotations

import datetime as dt
from email import message_from_bytes
from email.message import Message
from email.policy import SMTP

from babel.dates import format_date
from icalendar import Calendar

from exchange.mail.dispatcher import Dispatcher
from exchange.mail.transport import FileTransport
from exchange.models import Exchange, Invitation, MailKind, MailStatus, OutboxMail
from tests.conftest import GraphQLClient
from tests.invitations.conftest import World, invite, invitee, respond, token_for_email


async def _delivered(world: World, kind: MailKind) -> dict[str, Message]:
    await Dispatcher(world.settings).run_once()
    files = FileTransport(world.settings.mail_dir)
    mails = await OutboxMail.filter(kind=kind, sent_at__isnull=False)
    return {
        m.recipient: message_from_bytes(files.path_for(m.message_id).read_bytes(), policy=SMTP) for m in mails
    }


def _calendar(message: Message) -> Calendar | None:
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    return Calendar.from_ical(parts[0].get_payload(decode=True)) if parts else None


def _text(message: Message) -> str:
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    return str(part.get_payload(decode=True).decode())


async def _one_place_taken(gql: GraphQLClient, world: World) -> None:
    """One place: the Kazakh invitee (invited to the first session) holds it, the Russian one
    (whole exchange) waits; every invitation mail went out first."""
    await Exchange.filter(id=world.exchange.id).update(capacity=1, waitlist=True)
    await invite(
        gql,
        world,
        invitee("aigerim@example.com", "Айгерім", "KZ", locale="kk"),
        sessionIds=[world.session_id(0)],
    )
    await invite(gql, world, invitee("anna@example.com", "Анна", "RU", locale="ru"))
    await _delivered(world, MailKind.INVITATION)
    for email in ("aigerim@example.com", "anna@example.com"):
        await respond(gql, await token_for_email(email, world.settings), "ACCEPT")


async def test_the_withdrawal_cancels_the_entries_in_the_invitees_language(
    gql: GraphQLClient, world: World
) -> None:
    await _one_place_taken(gql, world)
    sent = _calendar((await _delivered(world, MailKind.INVITATION))["aigerim@example.com"])
    assert sent is not None
    [sent_event] = sent.walk("VEVENT")
    await respond(gql, await token_for_email("aigerim@example.com", world.settings), "WITHDRAW")
    mails = await _delivered(world, MailKind.WITHDRAWAL)
    message = mails["aigerim@example.com"]
    assert message["Content-Language"] == "kk"
    assert str(message["Subject"]) == "Қатысудан бас тарттыңыз: «Арал апталығы»"
    assert "Сіз «Арал апталығы» тәжірибе алмасуына қатысудан бас тарттыңыз." in _text(message)
    calendar = _calendar(message)
    assert calendar is not None and str(calendar["METHOD"]) == "CANCEL"
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == str(sent_event["UID"])
    assert int(event["SEQUENCE"]) == int(sent_event["SEQUENCE"]) + 1
    assert str(event["STATUS"]) == "CANCELLED"


async def test_the_offer_in_the_invitees_language_with_the_venue_local_deadline(
    gql: GraphQLClient, world: World
) -> None:
    await _one_place_taken(gql, world)
    await respond(gql, await token_for_email("aigerim@example.com", world.settings), "WITHDRAW")
    # 10:30 UTC is 15:30 in Asia/Qyzylorda.
    await Invitation.filter(email_normalised="anna@example.com").update(
        offer_expires_at=dt.datetime(2027, 5, 1, 10, 30, tzinfo=dt.UTC)
    )
    message = (await _delivered(world, MailKind.WAITLIST_OFFER))["anna@example.com"]
    assert message["Content-Language"] == "ru"
    assert str(message["Subject"]) == "Для вас освободилось место: «Неделя Арала»"
    text = _text(message)
    assert f"до {format_date(dt.date(2027, 5, 1), 'long', locale='ru')}, 15:30 (GMT+05:00)" in text
    token = await token_for_email("anna@example.com", world.settings)
    assert f"Принимаю: https://exchange.test/invitations/{token}?lang=ru&response=accept" in text
    assert _calendar(message) is None


async def test_an_offer_no_longer_true_is_not_sent(gql: GraphQLClient, world: World) -> None:
    await _one_place_taken(gql, world)
    await invite(gql, world, invitee("dana@example.com", locale="en"))
    await respond(gql, await token_for_email("dana@example.com", world.settings), "ACCEPT")
    await respond(gql, await token_for_email("aigerim@example.com", world.settings), "WITHDRAW")
    # Turned down before the dispatcher came: passed on to the next, whose offer then lapses.
    await respond(gql, await token_for_email("anna@example.com", world.settings), "DECLINE")
    await Invitation.filter(email_normalised="dana@example.com").update(
        offer_expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    )
    assert await _delivered(world, MailKind.WAITLIST_OFFER) == {}
    skipped = {m.recipient: m for m in await OutboxMail.filter(kind=MailKind.WAITLIST_OFFER)}
    assert {m.status for m in skipped.values()} == {MailStatus.SENT}
    assert skipped["anna@example.com"].last_error == "not sent: invitation is DECLINED"
    assert skipped["dana@example.com"].last_error == "not sent: the offer has lapsed"
