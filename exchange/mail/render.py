"""Rendering an outbox row into the email a volunteer receives: text and HTML in the
invitation's language, the calendar file, and headers no input can break."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime as rfc2822_date
from email.utils import parseaddr
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time, get_timezone_gmt
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from exchange.i18n import UI_LOCALES, pick_text, pick_ui_locale
from exchange.invitations import tokens
from exchange.mail import ics
from exchange.mail.outbox import mail_host
from exchange.models import (
    Exchange,
    ExchangeStatus,
    Invitation,
    MailKind,
    Organisation,
    OutboxMail,
    Session,
)
from exchange.settings import Settings

TEMPLATES = Path(__file__).parent / "templates"
INVITING_KINDS = (MailKind.INVITATION, MailKind.RESEND, MailKind.REMINDER)
_DEFAULT_PLATFORM = "Volunteer Exchange"


class InvalidMail(ValueError):
    """The row cannot become an email (e.g. an impossible recipient address): sending again
    will not help."""


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["nl2br"] = _nl2br
    return env


def _nl2br(value: str) -> Markup:
    return Markup("<br>\n").join(escape(line) for line in str(value).splitlines())


def one_line(value: str | None, limit: int = 200) -> str:
    """Header-safe text: every control, format or line/paragraph separator character becomes
    a space, so no input can end a header line and start another."""
    if not value:
        return ""
    cleaned = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in value
    )
    cleaned = " ".join(cleaned.split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1].rstrip() + "…"


@dataclass
class MailData:
    """Everything a mail is rendered from, loaded once (the dispatcher shares the exchange
    and organisation objects between the rows of a batch)."""

    mail: OutboxMail
    invitation: Invitation
    exchange: Exchange
    invited_by: Organisation
    # Sessions the mail is about: the invited ones, or those named in the payload.
    sessions: list[Session]
    # True when the invitation names no sessions: it is for the whole exchange.
    whole_exchange: bool


async def load(mail: OutboxMail, invitation: Invitation | None = None, *, cache: dict[Any, Any] | None = None) -> MailData:
    cache = {} if cache is None else cache
    if invitation is None:
        invitation = await Invitation.get(id=mail.invitation_id)  # type: ignore[attr-defined]
    exchange_key = ("exchange", invitation.exchange_id)  # type: ignore[attr-defined]
    if exchange_key not in cache:
        cache[exchange_key] = await Exchange.get(id=invitation.exchange_id)  # type: ignore[attr-defined]
    exchange: Exchange = cache[exchange_key]
    organisation_key = ("organisation", invitation.invited_by_id)  # type: ignore[attr-defined]
    if organisation_key not in cache:
        cache[organisation_key] = await Organisation.get(id=invitation.invited_by_id)  # type: ignore[attr-defined]
    invited_by: Organisation = cache[organisation_key]

    invited = list(await invitation.sessions.all().order_by("starts_at", "id"))
    named = _named_session_ids(mail)
    if named and mail.kind in (MailKind.UPDATE, MailKind.CANCELLATION):
        sessions = list(
            await Session.filter(id__in=named, exchange_id=exchange.id).order_by("starts_at", "id")
        )
    else:
        sessions = invited
    return MailData(mail, invitation, exchange, invited_by, sessions, whole_exchange=not invited)


def _named_session_ids(mail: OutboxMail) -> list[int]:
    ids = mail.payload.get("session_ids") if isinstance(mail.payload, dict) else None
    return [i for i in ids if isinstance(i, int)] if isinstance(ids, list) else []


async def render(mail: OutboxMail, settings: Settings) -> EmailMessage:
    return compose(await load(mail), settings)


def _locale(invitation: Invitation, exchange: Exchange) -> str:
    if invitation.locale in UI_LOCALES:
        return invitation.locale
    return pick_ui_locale([invitation.locale], exchange.languages or [])


def _session_when(session: Session, zone: ZoneInfo, locale: str) -> str:
    start = session.starts_at.astimezone(zone)
    end = session.ends_at.astimezone(zone)
    gmt = get_timezone_gmt(start, locale=locale)
    start_time = format_time(start, "short", tzinfo=zone, locale=locale)
    end_time = format_time(end, "short", tzinfo=zone, locale=locale)
    if start.date() == end.date():
        return f"{format_date(start.date(), 'full', locale=locale)}, {start_time}–{end_time} ({gmt})"
    return (
        f"{format_date(start.date(), 'long', locale=locale)}, {start_time} – "
        f"{format_date(end.date(), 'long', locale=locale)}, {end_time} ({gmt})"
    )


def _moment(at: datetime, zone: ZoneInfo, locale: str) -> str:
    local = at.astimezone(zone)
    return (
        f"{format_date(local.date(), 'long', locale=locale)}, "
        f"{format_time(local, 'short', tzinfo=zone, locale=locale)} ({get_timezone_gmt(local, locale=locale)})"
    )


def _date_range(start: date, end: date, locale: str) -> str:
    if start == end:
        return format_date(start, "long", locale=locale)
    return f"{format_date(start, 'long', locale=locale)} – {format_date(end, 'long', locale=locale)}"


def _place(exchange: Exchange, locale: str) -> str:
    country = Locale.parse(locale).territories.get(exchange.country, exchange.country)
    return ", ".join(part for part in (exchange.city, country) if part)


def _address(name: str, email: str) -> Address:
    if any(ch in email for ch in "\r\n\t ") or email.count("@") != 1:
        raise InvalidMail(f"not a deliverable address: {email!r}")
    try:
        return Address(display_name=one_line(name), addr_spec=email)
    except (ValueError, IndexError) as exc:
        raise InvalidMail(f"not a deliverable address: {email!r}") from exc


def sender(settings: Settings) -> Address:
    name, email = parseaddr(settings.mail_from)
    if not email:
        raise InvalidMail(f"EXCHANGE_MAIL_FROM has no address: {settings.mail_from!r}")
    return _address(name or _DEFAULT_PLATFORM, email)


def compose(data: MailData, settings: Settings, *, now: datetime | None = None) -> EmailMessage:
    now = now or datetime.now(UTC)
    mail, invitation, exchange = data.mail, data.invitation, data.exchange
    kind = MailKind(mail.kind)
    locale = _locale(invitation, exchange)
    zone = ZoneInfo(exchange.time_zone)
    from_address = sender(settings)
    to_address = _address(invitation.full_name, mail.recipient)
    organisation = one_line(pick_text(data.invited_by.names, [locale]) or data.invited_by.slug)
    reply_to: Address | None = None
    if data.invited_by.contact_email:
        try:
            reply_to = _address(organisation, data.invited_by.contact_email)
        except InvalidMail:
            reply_to = None

    token = tokens.token_for(invitation.token_nonce, settings.signing_key)
    page_url = tokens.link(settings.public_url, token)
    title = one_line(pick_text(exchange.titles, [locale]) or exchange.slug, 300)
    cancels = kind is MailKind.CANCELLATION
    named_sessions = bool(_named_session_ids(mail))
    sessions = [
        {
            "title": pick_text(s.titles, [locale]) or "",
            "when": _session_when(s, zone, locale),
            "format": s.format.value,
            "venue": s.venue,
            "online_url": s.online_url,
            # A cancellation mail lists exactly the sessions it cancels.
            "cancelled": cancels or s.cancelled_at is not None,
        }
        for s in data.sessions
    ]
    context: dict[str, Any] = {
        "kind": kind.value,
        "locale": locale,
        "platform": from_address.display_name or _DEFAULT_PLATFORM,
        "name": one_line(invitation.full_name) or mail.recipient,
        "email": mail.recipient,
        "organisation": organisation,
        "title": title,
        "description": pick_text(exchange.descriptions, [locale]),
        "place": _place(exchange, locale),
        "dates": _date_range(exchange.starts_on, exchange.ends_on, locale),
        "sessions": sessions,
        "whole_exchange": data.whole_exchange,
        "note": invitation.message,
        "expires": _moment(invitation.expires_at, zone, locale),
        "page_url": page_url,
        "accept_url": f"{page_url}?response=accept",
        "decline_url": f"{page_url}?response=decline",
        "reply_to": reply_to is not None,
        "invites": kind in INVITING_KINDS,
        "cancels": cancels,
        "exchange_cancelled": cancels and exchange.status is ExchangeStatus.CANCELLED and not named_sessions,
        "session_cancellation": cancels and named_sessions,
        "has_calendar": True,
    }
    env = environment()
    subject = one_line(env.get_template(f"{locale}/subject.txt").render(context), 250)
    context["subject"] = subject
    text = env.get_template(f"{locale}/body.txt").render(context)
    html = env.get_template(f"{locale}/body.html").render(context)

    calendar = ics.build_calendar(
        cancel=cancels,
        invitation=invitation,
        exchange=exchange,
        sessions=data.sessions if not data.whole_exchange else [],
        locale=locale,
        host=mail_host(settings),
        organiser=ics.Party(organisation, reply_to.addr_spec if reply_to else from_address.addr_spec),
        attendee=ics.Party(one_line(invitation.full_name), mail.recipient),
        location=context["place"] or None,
        # No link: the token answers the invitation, and calendars are often shared.
        description="\n\n".join(p for p in (organisation, one_line(context["description"], 500)) if p),
        now=now,
    )

    message = EmailMessage(policy=SMTP)
    message["From"] = from_address
    message["To"] = to_address
    if reply_to is not None:
        message["Reply-To"] = reply_to
    if subject.isascii():
        message["Subject"] = subject
    else:
        # Python 3.11's header folder drops the space at a fold between two encoded words
        # ("приглашает вас" arrives as "приглашаетвас"); the legacy encoder keeps spaces
        # inside the encoded words, which every reader joins back correctly.
        message.set_raw("Subject", Header(subject, "utf-8", maxlinelen=76, header_name="Subject").encode())
    message["Date"] = rfc2822_date(now)
    message["Message-ID"] = mail.message_id
    # Keeps out-of-office robots from answering the platform's address.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text, subtype="plain", charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    method = "CANCEL" if cancels else "REQUEST"
    message.add_attachment(
        calendar,
        maintype="text",
        subtype="calendar",
        filename="cancel.ics" if cancels else "invitation.ics",
        params={"method": method, "charset": "utf-8"},
    )
    # Set last: building the MIME tree moves Content-* headers into the first part.
    message["Content-Language"] = locale
    return message
