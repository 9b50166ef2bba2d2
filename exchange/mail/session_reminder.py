"""The session reminder mail (exchange.invitations.session_reminders queues it): what it is
about, read afresh at send time, whether it may still go, and the mail itself in the
participant's language, with the session's time at the venue and its call link.

The row names the session, the calendar sequence it was queued for and the volunteer; its
invitation, if the volunteer came by one. Nothing is sent for a session that has been
cancelled, has moved since (the sweep queues a reminder for the new time), or has started,
nor to someone who no longer holds a place in the exchange: whatever happened after the
row was written wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time, get_timezone_gmt, get_timezone_name

from exchange.i18n import UI_LOCALES, pick_text, pick_ui_locale
from exchange.invitations import tokens
from exchange.invitations.session_reminders import REMINDED_EXCHANGES
from exchange.mail import render
from exchange.mail.render import InvalidMail, RenderedMail, one_line
from exchange.models import (
    Exchange,
    Invitation,
    InvitationStatus,
    Organisation,
    OutboxMail,
    Participation,
    Session,
    SessionFormat,
    Volunteer,
)
from exchange.participations import HOLDING_A_PLACE
from exchange.privacy import ERASED_RECIPIENT, is_erased_address
from exchange.settings import Settings


@dataclass
class ReminderData:
    mail: OutboxMail
    session: Session | None
    sequence: int
    exchange: Exchange | None
    volunteer: Volunteer | None
    # None when the volunteer holds a place without a live one (withdrawn, removed).
    participation: Participation | None
    invitation: Invitation | None
    # On whose behalf the mail speaks: who invited the participant, else the host.
    organisation: Organisation | None


def _payload_int(mail: OutboxMail, name: str) -> int:
    value = mail.payload.get(name) if isinstance(mail.payload, dict) else None
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidMail(f"a session reminder without {name} in its payload")
    return value


async def load(mail: OutboxMail, *, cache: dict[Any, Any] | None = None) -> ReminderData:
    """Reads what the reminder is about as it is now (exchanges and organisations once per
    dispatcher batch through ``cache``)."""
    cache = {} if cache is None else cache
    session_id = _payload_int(mail, "session_id")
    volunteer_id = _payload_int(mail, "volunteer_id")
    sequence = _payload_int(mail, "sequence")
    session = await Session.get_or_none(id=session_id)
    data = ReminderData(mail, session, sequence, None, None, None, None, None)
    if session is None:
        return data
    exchange_id: int = session.exchange_id
    exchange_key = ("exchange", exchange_id)
    if exchange_key not in cache:
        cache[exchange_key] = await Exchange.get(id=exchange_id)
    data.exchange = cache[exchange_key]
    data.volunteer = await Volunteer.get_or_none(id=volunteer_id)
    data.participation = await Participation.get_or_none(
        volunteer_id=volunteer_id, exchange_id=exchange_id, status__in=HOLDING_A_PLACE
    )
    invitation_id: int | None = mail.invitation_id
    if invitation_id is not None:
        data.invitation = await Invitation.get_or_none(id=invitation_id)
    organisation_id: int = (
        data.invitation.invited_by_id if data.invitation is not None else data.exchange.host_id
    )
    organisation_key = ("organisation", organisation_id)
    if organisation_key not in cache:
        cache[organisation_key] = await Organisation.get(id=organisation_id)
    data.organisation = cache[organisation_key]
    return data


def skip_reason(data: ReminderData, now: datetime) -> str | None:
    """Why the reminder must not go out (None: send it)."""
    session, exchange = data.session, data.exchange
    if session is None or exchange is None:
        return "the session no longer exists"
    if session.cancelled_at is not None:
        return "the session was cancelled"
    if session.sequence != data.sequence:
        return "the session has moved since; a reminder for its new time is due instead"
    if session.starts_at <= now:
        return "the session has already started"
    if exchange.status not in REMINDED_EXCHANGES:
        return f"the exchange is {exchange.status.value}"
    if data.volunteer is None or data.participation is None:
        return "the volunteer no longer takes part in the exchange"
    if data.mail.invitation_id is not None:
        if data.invitation is None:
            return "the invitation no longer exists"
        if data.invitation.status is not InvitationStatus.ACCEPTED:
            return f"the invitation is {data.invitation.status.value}"
    if is_erased_address(data.mail.recipient):
        return ERASED_RECIPIENT
    return None


def _locale(data: ReminderData, exchange: Exchange, volunteer: Volunteer) -> str:
    if data.invitation is not None and data.invitation.locale in UI_LOCALES:
        return data.invitation.locale
    languages = [data.invitation.locale] if data.invitation is not None else list(volunteer.languages or [])
    return pick_ui_locale(languages, exchange.languages or [])


def compose_bytes(data: ReminderData, settings: Settings, *, now: datetime | None = None) -> RenderedMail:
    """The mail as sent; ``data`` must have passed skip_reason."""
    session, exchange, volunteer, organisation = (
        data.session,
        data.exchange,
        data.volunteer,
        data.organisation,
    )
    if session is None or exchange is None or volunteer is None or organisation is None:
        raise InvalidMail("the reminder's session, exchange or volunteer is gone")
    mail = data.mail
    now = now or datetime.now(UTC)
    locale = _locale(data, exchange, volunteer)
    zone = ZoneInfo(exchange.time_zone)
    start = session.starts_at.astimezone(zone)
    end = session.ends_at.astimezone(zone)
    same_day = start.date() == end.date()
    from_address = render.sender(settings)
    name = one_line(data.invitation.full_name if data.invitation is not None else volunteer.full_name)
    to_address = render._address(name, mail.recipient)
    organisation_name = one_line(pick_text(organisation.names, [locale]) or organisation.slug)
    reply_to = None
    if organisation.contact_email:
        try:
            reply_to = render._address(organisation_name, organisation.contact_email)
        except InvalidMail:
            reply_to = None
    page_url = None
    if data.invitation is not None:
        # The link the volunteer already has, whichever key of the server made it (as in
        # render.compose_bytes); none when no key still listed did: the reminder matters
        # without it, and a link that opens nothing would mislead.
        invitation = data.invitation
        token = tokens.token_of(invitation.token_nonce, invitation.token_hash, settings.verifying_keys)
        if token is not None:
            page_url = f"{tokens.link(settings.public_url, token)}?lang={locale}"
    session_title = one_line(pick_text(session.titles, [locale]), 300)
    exchange_title = one_line(pick_text(exchange.titles, [locale]) or exchange.slug, 300)
    context: dict[str, Any] = {
        "locale": locale,
        "platform": from_address.display_name or render._DEFAULT_PLATFORM,
        "name": name or mail.recipient,
        "email": mail.recipient,
        "organisation": organisation_name,
        # The heading: the session's own title, or the exchange's for an untitled session.
        "title": session_title or exchange_title,
        "session_title": session_title,
        "exchange_title": exchange_title,
        "when": render._session_when(session, zone, locale),
        # The same, for a narrow screen: the date on one line, the hours unbroken on the next.
        "when_date": format_date(start.date(), "full", locale=locale) if same_day else None,
        "when_time": (
            f"{format_time(start, 'short', tzinfo=zone, locale=locale)}–"
            f"{format_time(end, 'short', tzinfo=zone, locale=locale)} ({get_timezone_gmt(start, locale=locale)})"
        ),
        # The subject's short form: the date and the start, in the venue's time.
        "starts": f"{format_date(start.date(), 'long', locale=locale)}, "
        f"{format_time(start, 'short', tzinfo=zone, locale=locale)}",
        "zone": f"{get_timezone_name(start, 'long', locale=locale)} ({exchange.time_zone})",
        "format": session.format.value,
        # The venue as the organisers wrote it, else the exchange's city; online: the link only.
        "where": None
        if session.format is SessionFormat.ONLINE
        else (session.venue or render._place(exchange, locale)),
        "online_url": session.online_url,
        "page_url": page_url,
        "reply_to": reply_to is not None,
    }
    env = render.environment()
    subject = one_line(env.get_template(f"{locale}/session_reminder_subject.txt").render(context), 250)
    context["subject"] = subject
    text = env.get_template(f"{locale}/session_reminder_body.txt").render(context)
    html = env.get_template(f"{locale}/session_reminder_body.html").render(context)
    body = render._multipart(
        "alternative",
        [
            render._quoted_printable_part('text/plain; charset="utf-8"', text),
            render._quoted_printable_part('text/html; charset="utf-8"', html),
        ],
    )
    return render.with_headers(
        body, mail.message_id, from_address, to_address, reply_to, subject, locale, now
    )
