"""Rendering an outbox row into the email a volunteer receives: text and HTML in the
invitation's language, the calendar file, and headers no input can break."""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import SMTP
from email.utils import format_datetime as rfc2822_date
from email.utils import parseaddr
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time, get_timezone_gmt
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from exchange import notice
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
from exchange.web.texts import TEXTS

TEMPLATES = Path(__file__).parent / "templates"
INVITING_KINDS = (MailKind.INVITATION, MailKind.RESEND, MailKind.REMINDER)
_TEMPLATE_PREFIX = {MailKind.WITHDRAWAL: "withdrawal_", MailKind.WAITLIST_OFFER: "offer_"}
_DEFAULT_PLATFORM = "Volunteer Exchange"
_LINK_STYLE = "color:#0b6e4f;"


class InvalidMail(ValueError):
    """The row cannot become an email (e.g. an impossible recipient address): sending again
    will not help."""


# Shown to the host as the invitation's lastError: what they can do (invite again: a new
# invitation gets a new link under the current key), and what the operator could have done.
UNLINKABLE = (
    "the server's signing key changed since the invitation was made, and the old one is not in "
    "EXCHANGE_PREVIOUS_SECRET_KEYS: its link cannot be written again; invite the volunteer "
    "again to send a new link"
)


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
    cleaned = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in value)
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


async def load(
    mail: OutboxMail, invitation: Invitation | None = None, *, cache: dict[Any, Any] | None = None
) -> MailData:
    cache = {} if cache is None else cache
    if invitation is None:
        invitation = await Invitation.get(id=mail.invitation_id)
    exchange_key = ("exchange", invitation.exchange_id)
    if exchange_key not in cache:
        cache[exchange_key] = await Exchange.get(id=invitation.exchange_id)
    exchange: Exchange = cache[exchange_key]
    organisation_key = ("organisation", invitation.invited_by_id)
    if organisation_key not in cache:
        cache[organisation_key] = await Organisation.get(id=invitation.invited_by_id)
    invited_by: Organisation = cache[organisation_key]

    prefetched = cache.get(("invited_sessions", invitation.id))
    invited = (
        list(prefetched)
        if prefetched is not None
        else list(await invitation.sessions.all().order_by("starts_at", "id"))
    )
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


@dataclass(frozen=True)
class RenderedMail:
    """The exact bytes handed to SMTP (or written to a ``.eml`` file), with the envelope."""

    message_id: str
    envelope_from: str
    recipient: str
    data: bytes


def compose(data: MailData, settings: Settings, *, now: datetime | None = None) -> EmailMessage:
    """The mail as an ``EmailMessage``: parsed back from the bytes the dispatcher sends."""
    parsed = BytesParser(policy=SMTP).parsebytes(compose_bytes(data, settings, now=now).data)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _locale(invitation: Invitation, exchange: Exchange) -> str:
    if invitation.locale in UI_LOCALES:
        return invitation.locale
    return pick_ui_locale([invitation.locale], exchange.languages or [])


def _session_when(session: Session, zone: ZoneInfo, locale: str) -> str:
    return _when(session.starts_at, session.ends_at, zone, locale)


# Babel formatting is cached: a mass invitation formats the same few moments a thousand times.
@lru_cache(maxsize=4096)
def _when(starts_at: datetime, ends_at: datetime, zone: ZoneInfo, locale: str) -> str:
    start = starts_at.astimezone(zone)
    end = ends_at.astimezone(zone)
    gmt = get_timezone_gmt(start, locale=locale)
    start_time = format_time(start, "short", tzinfo=zone, locale=locale)
    end_time = format_time(end, "short", tzinfo=zone, locale=locale)
    if start.date() == end.date():
        return f"{format_date(start.date(), 'full', locale=locale)}, {start_time}–{end_time} ({gmt})"
    return (
        f"{format_date(start.date(), 'long', locale=locale)}, {start_time} – "
        f"{format_date(end.date(), 'long', locale=locale)}, {end_time} ({gmt})"
    )


@lru_cache(maxsize=4096)
def _moment(at: datetime, zone: ZoneInfo, locale: str) -> str:
    local = at.astimezone(zone)
    return (
        f"{format_date(local.date(), 'long', locale=locale)}, "
        f"{format_time(local, 'short', tzinfo=zone, locale=locale)} ({get_timezone_gmt(local, locale=locale)})"
    )


@lru_cache(maxsize=1024)
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
    local, domain = email.split("@")
    if not local.isascii():
        raise InvalidMail(f"an address with a non-ASCII local part needs SMTPUTF8: {email!r}")
    try:
        ascii_domain = domain if domain.isascii() else domain.encode("idna").decode("ascii")
        return Address(display_name=one_line(name), addr_spec=f"{local}@{ascii_domain}")
    except (ValueError, IndexError, UnicodeError) as exc:
        raise InvalidMail(f"not a deliverable address: {email!r}") from exc


def sender(settings: Settings) -> Address:
    return _sender(settings.mail_from)


@lru_cache(maxsize=16)
def _sender(mail_from: str) -> Address:
    name, email = parseaddr(mail_from)
    if not email:
        raise InvalidMail(f"EXCHANGE_MAIL_FROM has no address: {mail_from!r}")
    return _address(name or _DEFAULT_PLATFORM, email)


def compose_bytes(data: MailData, settings: Settings, *, now: datetime | None = None) -> RenderedMail:
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

    privacy_contact = notice.contact_for(settings.privacy_contact, data.invited_by.contact_email)

    # The link the first mail carried, whichever key made it: after a key rotation a reminder
    # or an update still carries the link the volunteer already has, and a mail queued before
    # the rotation a link that opens (the stored hash is of that token, not of a new one).
    token = tokens.token_of(invitation.token_nonce, invitation.token_hash, settings.verifying_keys)
    if token is None:
        # A mail whose link opens nothing would tell the volunteer to use it; none goes out.
        raise InvalidMail(UNLINKABLE)
    # The mail's language travels with every link: the page would otherwise follow the
    # browser's Accept-Language, and a Kazakh mail would open an English page.
    page_url = f"{tokens.link(settings.public_url, token)}?lang={locale}"
    title = one_line(pick_text(exchange.titles, [locale]) or exchange.slug, 300)
    # A withdrawal takes the invitation's entries out of the calendar as a cancellation does.
    cancels = kind in (MailKind.CANCELLATION, MailKind.WITHDRAWAL)
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
        "accept_url": f"{page_url}&response=accept",
        "decline_url": f"{page_url}&response=decline",
        # The page's own button words, so the mail and the page name the answer alike.
        "accept_label": TEXTS[locale]["accept"],
        "decline_label": TEXTS[locale]["decline"],
        # The privacy notice in short; the page's "privacy" section has the whole of it.
        "privacy_heading": notice.NOTICE[locale]["heading"],
        "privacy_text": notice.mail_text(locale, organisation, privacy_contact),
        "privacy_html": notice.mail_html(locale, organisation, privacy_contact, link_style=_LINK_STYLE),
        "privacy_url": f"{page_url}#{notice.ANCHOR}",
        "privacy_more": notice.NOTICE[locale]["mail_more"],
        "reply_to": reply_to is not None,
        "invites": kind in INVITING_KINDS,
        "cancels": cancels,
        "exchange_cancelled": cancels and exchange.status is ExchangeStatus.CANCELLED and not named_sessions,
        "session_cancellation": cancels and named_sessions,
        # A whole-exchange invitee's calendar holds one all-day entry and no session
        # entries: a mail about single sessions has nothing there to update or cancel.
        "has_calendar": not (data.whole_exchange and named_sessions) and kind is not MailKind.WAITLIST_OFFER,
        # The offer of a place from the waiting list: claimed on the page, by the deadline.
        "claim_by": _moment(invitation.offer_expires_at, zone, locale)
        if invitation.offer_expires_at
        else None,
        "claim_url": f"{page_url}&response=accept",
    }
    env = environment()
    # Withdrawal and offer mails say something else entirely: templates of their own.
    prefix = _TEMPLATE_PREFIX.get(kind, "")
    subject = one_line(env.get_template(f"{locale}/{prefix}subject.txt").render(context), 250)
    context["subject"] = subject
    text = env.get_template(f"{locale}/{prefix}body.txt").render(context)
    html = env.get_template(f"{locale}/{prefix}body.html").render(context)

    alternative = _multipart(
        "alternative",
        [
            _quoted_printable_part('text/plain; charset="utf-8"', text),
            _quoted_printable_part('text/html; charset="utf-8"', html),
        ],
    )
    if context["has_calendar"]:
        calendar = ics.build_calendar(
            cancel=cancels,
            invitation=invitation,
            exchange=exchange,
            sessions=data.sessions if not data.whole_exchange else [],
            locale=locale,
            host=mail_host(settings),
            organiser=ics.Party(organisation, reply_to.addr_spec if reply_to else from_address.addr_spec),
            attendee=ics.Party(one_line(invitation.full_name), to_address.addr_spec),
            location=context["place"] or None,
            # No link: the token answers the invitation, and calendars are often shared.
            description="\n\n".join(p for p in (organisation, one_line(context["description"], 500)) if p),
            now=now,
        )
        method = "CANCEL" if cancels else "REQUEST"
        filename = "cancel.ics" if cancels else "invitation.ics"
        attachment = _base64_part(
            f'text/calendar; charset="utf-8"; method={method}; name="{filename}"',
            calendar,
            f'Content-Disposition: attachment; filename="{filename}"\r\n',
        )
        body = _multipart("mixed", [alternative, attachment])
    else:
        body = alternative

    return with_headers(body, mail.message_id, from_address, to_address, reply_to, subject, locale, now)


def with_headers(
    body: bytes,
    message_id: str,
    from_address: Address,
    to_address: Address,
    reply_to: Address | None,
    subject: str,
    locale: str,
    now: datetime,
) -> RenderedMail:
    """The MIME body under the headers every platform mail carries (invitation, reminder,
    certificate), ready for SMTP."""
    headers = [
        _address_header("From", from_address.display_name, from_address.addr_spec),
        _address_header("To", to_address.display_name, to_address.addr_spec),
        *([_address_header("Reply-To", reply_to.display_name, reply_to.addr_spec)] if reply_to else []),
        _subject_line(subject),
        # Values made here, ASCII and single-line by construction.
        f"Date: {rfc2822_date(now)}\r\n",
        f"Message-ID: {_checked_message_id(message_id)}\r\n",
        f"Content-Language: {locale}\r\n",
        # Keeps out-of-office robots from answering the platform's address.
        "Auto-Submitted: auto-generated\r\n",
        "MIME-Version: 1.0\r\n",
    ]
    return RenderedMail(
        message_id=message_id,
        envelope_from=from_address.addr_spec,
        recipient=to_address.addr_spec,
        data="".join(headers).encode("ascii") + body,
    )


# The MIME tree is written out directly: every part is quoted-printable or base64 (ASCII,
# short lines), and a boundary starting "=_" can occur in neither: base64 has no "=_", and
# quoted-printable writes "=" only before two hex digits or a line end (RFC 2045 6.7).
# Building it with the email package cost more than everything else in a mail together.


def _quoted_printable_part(content_type: str, text: str) -> bytes:
    """Text and HTML in quoted-printable: ASCII stays as written, so a `.eml` file (or the
    source view of a mail) can be read as it is, which base64 never can."""
    encoded = binascii.b2a_qp(_crlf(text).encode(), istext=True)
    # Mailboxes in mbox format turn a line starting "From " into ">From ".
    encoded = encoded.replace(b"\r\nFrom ", b"\r\n=46rom ")
    if encoded.startswith(b"From "):
        encoded = b"=46" + encoded[1:]
    head = f"Content-Type: {content_type}\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
    return head.encode("ascii") + encoded


def _base64_part(content_type: str, payload: bytes, extra_headers: str = "") -> bytes:
    head = f"Content-Type: {content_type}\r\nContent-Transfer-Encoding: base64\r\n{extra_headers}\r\n"
    return head.encode("ascii") + base64.encodebytes(payload).replace(b"\n", b"\r\n")


def _multipart(subtype: str, parts: list[bytes]) -> bytes:
    boundary = f"=_{uuid.uuid4().hex}"
    delimiter = f"--{boundary}\r\n".encode("ascii")
    return (
        f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n\r\n'.encode("ascii")
        + b"".join(delimiter + part + b"\r\n" for part in parts)
        + f"--{boundary}--\r\n".encode("ascii")
    )


def _crlf(text: str) -> str:
    """Canonical line ends for text in a MIME body (RFC 2046 4.1.1)."""
    return "\r\n".join(text.splitlines()) + "\r\n"


_ATOMS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]+")
# 45 bytes of UTF-8 make a 72-character encoded word, within RFC 2047's 75.
_WORD_BYTES = 45


def _encoded_words(text: str) -> list[str]:
    """RFC 2047 base64 encoded words. Breaks fall after a space where they can (a long word
    is split between characters), so a reader that wrongly keeps the folding whitespace
    between encoded words shows a double space rather than a word cut in two."""
    chunks: list[bytes] = [b""]
    for word in re.split(r"(?<= )", text):
        data = word.encode()
        if len(chunks[-1]) + len(data) <= _WORD_BYTES:
            chunks[-1] += data
            continue
        if chunks[-1]:
            chunks.append(b"")
        for char in word:
            encoded = char.encode()
            if len(chunks[-1]) + len(encoded) > _WORD_BYTES:
                chunks.append(b"")
            chunks[-1] += encoded
    return [f"=?utf-8?b?{base64.b64encode(chunk).decode('ascii')}?=" for chunk in chunks if chunk]


def _address_header(name: str, display_name: str, addr_spec: str) -> str:
    """``Name: display name <address>``, encoded and folded (RFC 5322, RFC 2047). Written
    directly: the email package's folder is slow, and it cannot fold subjects correctly."""
    if not display_name:
        words = []
    elif not display_name.isascii():
        words = _encoded_words(display_name)
    elif _ATOMS.fullmatch(display_name):
        words = [display_name]
    else:
        words = ['"' + display_name.replace("\\", "\\\\").replace('"', '\\"') + '"']
    lines = [f"{name}:"]
    for word in [*words, f"<{addr_spec}>"]:
        # Fold before a word that would pass 78 characters (also right after the colon),
        # unless the line holds only the field name and the word is too long for any line.
        if len(lines[-1]) + 1 + len(word) > 78 and (lines[-1] != f"{name}:" or len(word) < 78):
            lines.append(" " + word)
        else:
            lines[-1] += " " + word
    return "\r\n".join(lines) + "\r\n"


_MESSAGE_ID = re.compile(r"<[A-Za-z0-9._-]+@[A-Za-z0-9.-]+>")


def _checked_message_id(message_id: str) -> str:
    if not _MESSAGE_ID.fullmatch(message_id):
        raise InvalidMail(f"malformed Message-ID {message_id!r}")
    return message_id


def _subject_line(subject: str) -> str:
    if subject.isascii():
        folded: str = SMTP.header_factory("Subject", subject).fold(policy=SMTP)
        return folded
    # Python 3.11's header folder drops the space at a fold between two encoded words
    # ("приглашает вас" arrives as "приглашаетвас"); the legacy encoder keeps spaces
    # inside the encoded words, which every reader joins back correctly.
    encoded = Header(subject, "utf-8", maxlinelen=76, header_name="Subject").encode(linesep="\r\n")
    return f"Subject: {encoded}\r\n"
