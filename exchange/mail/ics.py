"""iCalendar (RFC 5545 / iTIP RFC 5546) for invitation mail and the calendar feeds.

UIDs are stable per (session or exchange, invitation), so a later REQUEST with a higher
SEQUENCE replaces the entry and a CANCEL removes it. SEQUENCE is the session's own
sequence (bumped when the session moves) plus the invitation's calendar_sequence (bumped
for invitation-wide changes such as revocation): both only grow, so the sum does too.

The personal feed of an invitation repeats the mails' entries (same UIDs, SEQUENCE and
VTIMEZONE, one place that writes them); the public feed of an exchange has UIDs of its own
(``session-{id}@host``), since it belongs to no invitation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, vCalAddress, vDDDTypes, vText
from icalendar.parser import Contentline, Parameters

from exchange.i18n import pick_text
from exchange.models import Exchange, Invitation, Session, SessionFormat

PRODID = "-//Volunteer Exchange//Invitations//EN"


@dataclass(frozen=True)
class Party:
    name: str
    email: str


def session_uid(session: Session, invitation: Invitation, host: str) -> str:
    return f"session-{session.id}-invitation-{invitation.id}@{host}"


def exchange_uid(exchange: Exchange, invitation: Invitation, host: str) -> str:
    return f"exchange-{exchange.id}-invitation-{invitation.id}@{host}"


def public_session_uid(session: Session, host: str) -> str:
    return f"session-{session.id}@{host}"


def public_exchange_uid(exchange: Exchange, host: str) -> str:
    return f"exchange-{exchange.id}@{host}"


@lru_cache(maxsize=128)
def _vtimezone(tzid: str, first_year: int, last_year: int) -> Timezone:
    """The VTIMEZONE for the years the events fall in: computing one walks every UTC offset
    change, so it is built once per zone and window (the component is only read afterwards)."""
    return Timezone.from_tzid(
        tzid, first_date=date(first_year - 1, 1, 1), last_date=date(last_year + 2, 1, 1)
    )


def _cn(name: str) -> str:
    # A parameter value cannot hold a double quote (RFC 5545 3.1); names may.
    return name.replace('"', "'")


def _party(kind: str, party: Party, **params: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{party.email}")
    address.params["cn"] = vText(_cn(party.name))
    for key, value in params.items():
        address.params[key] = vText(value)
    return address


@dataclass(frozen=True)
class _Shared:
    """What an entry says that is the same for every invitee: rendered once and cached,
    since a mass invitation sends the same sessions to a thousand people."""

    sequence: int
    summary: str
    # CONFIRMED, TENTATIVE or CANCELLED (RFC 5545 3.8.1.11).
    status: str
    busy: bool
    # None in feeds: an ORGANIZER there would make some clients show a meeting to answer.
    organiser: Party | None
    description: str | None
    start: datetime | date
    end: datetime | date
    location: str | None
    url: str | None


_BEGIN, _END = b"BEGIN:VEVENT\r\n", b"END:VEVENT\r\n"


def _inner(entry: Event) -> bytes:
    lines = entry.to_ical()
    assert lines.startswith(_BEGIN) and lines.endswith(_END)
    return lines[len(_BEGIN) : -len(_END)]


@lru_cache(maxsize=4096)
def _shared_lines(shared: _Shared) -> bytes:
    entry = Event()
    entry.add("sequence", shared.sequence)
    entry.add("summary", shared.summary)
    entry.add("status", shared.status)
    # A whole exchange spans days: shown in the calendar without blocking them.
    entry.add("transp", "OPAQUE" if shared.busy else "TRANSPARENT")
    if shared.organiser is not None:
        entry.add("organizer", _party("organizer", shared.organiser))
    if shared.description:
        entry.add("description", shared.description)
    entry.add("dtstart", shared.start)
    entry.add("dtend", shared.end)
    if shared.location:
        entry.add("location", shared.location)
    if shared.url:
        entry.add("url", shared.url)
    return _inner(entry)


def _personal_lines(uid: str, now: datetime, attendee: Party | None) -> bytes:
    """UID, DTSTAMP and ATTENDEE: the lines that differ per invitee, written as content lines
    directly (building an Event per invitee cost more than the rest of the mail). Feeds
    name no attendee: their URL is fetched by calendar services, and needs no address."""
    lines = [
        Contentline.from_parts("UID", Parameters(), vText(uid).to_ical().decode()),
        Contentline.from_parts("DTSTAMP", Parameters(), vDDDTypes(now.astimezone(UTC)).to_ical().decode()),
    ]
    if attendee is not None:
        # RSVP=FALSE: the answer is given on the invitation page, not by a calendar reply.
        lines.append(
            Contentline.from_parts(
                "ATTENDEE",
                Parameters({"CN": _cn(attendee.name), "ROLE": "REQ-PARTICIPANT", "RSVP": "FALSE"}),
                f"mailto:{attendee.email}",
            )
        )
    return b"".join(line.to_ical() + b"\r\n" for line in lines)


@lru_cache(maxsize=256)
def _frame(
    method: str | None, zone_window: tuple[str, int, int] | None, name: str | None = None
) -> tuple[bytes, bytes]:
    """The calendar around the events: properties and VTIMEZONE before, the end after. A
    feed (no method) has a name and tells subscribers how often to look again."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method is not None:
        calendar.add("method", method)
    if name is not None:
        calendar.add("x-wr-calname", name)
        calendar.add("refresh-interval", FEED_REFRESH, parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", FEED_REFRESH)
    if zone_window is not None:
        calendar.add_component(_vtimezone(*zone_window))
    text = calendar.to_ical()
    end = b"END:VCALENDAR\r\n"
    assert text.endswith(end)
    return text[: -len(end)], end


# How often a subscribed calendar should fetch a feed again (RFC 7986 REFRESH-INTERVAL).
FEED_REFRESH = timedelta(hours=1)


def _zone_window(exchange: Exchange, sessions: Sequence[Session]) -> tuple[str, int, int] | None:
    """The zone and years a VTIMEZONE must cover: the same for a mail and a feed that
    hold the same sessions, so both carry the same component."""
    if not sessions:
        return None
    zone = ZoneInfo(exchange.time_zone)
    years = [moment.astimezone(zone).year for s in sessions for moment in (s.starts_at, s.ends_at)]
    return exchange.time_zone, min(years), max(years)


def _title(exchange: Exchange, locale: str) -> str:
    return pick_text(exchange.titles, [locale]) or exchange.slug


@dataclass(frozen=True)
class _Texts:
    """What every entry of one calendar says alike."""

    locale: str
    organiser: Party | None
    location: str | None
    description: str | None


def _session_entry(
    session: Session, exchange: Exchange, texts: _Texts, sequence: int, status: str
) -> _Shared:
    zone = ZoneInfo(exchange.time_zone)
    exchange_title = _title(exchange, texts.locale)
    session_title = pick_text(session.titles, [texts.locale])
    if session.format is SessionFormat.ONLINE:
        where = session.online_url or texts.location
    elif session.format is SessionFormat.HYBRID:
        where = ", ".join(p for p in (session.venue, session.online_url) if p) or texts.location
    else:
        where = session.venue or texts.location
    return _Shared(
        sequence=sequence,
        summary=f"{exchange_title}: {session_title}" if session_title else exchange_title,
        status=status,
        busy=True,
        organiser=texts.organiser,
        description=texts.description,
        start=session.starts_at.astimezone(zone),
        end=session.ends_at.astimezone(zone),
        location=where,
        url=session.online_url,
    )


def _exchange_entry(exchange: Exchange, texts: _Texts, sequence: int, status: str) -> _Shared:
    return _Shared(
        sequence=sequence,
        summary=_title(exchange, texts.locale),
        status=status,
        busy=False,
        organiser=texts.organiser,
        description=texts.description,
        start=exchange.starts_on,
        # All-day DTEND is exclusive.
        end=exchange.ends_on + timedelta(days=1),
        location=texts.location,
        url=None,
    )


def build_calendar(
    *,
    cancel: bool,
    invitation: Invitation,
    exchange: Exchange,
    sessions: Sequence[Session],
    locale: str,
    host: str,
    organiser: Party,
    attendee: Party,
    location: str | None,
    description: str | None,
    now: datetime | None = None,
) -> bytes:
    """METHOD:REQUEST (or CANCEL) with one VEVENT per session, or one all-day entry for the
    whole exchange when ``sessions`` is empty."""
    now = now or datetime.now(UTC)
    events: list[bytes] = []
    texts = _Texts(locale, organiser, location, description)
    for session in sessions:
        sequence = session.sequence + invitation.calendar_sequence
        status = "CANCELLED" if cancel or session.cancelled_at is not None else "CONFIRMED"
        shared = _session_entry(session, exchange, texts, sequence, status)
        uid = session_uid(session, invitation, host)
        events.append(_personal_lines(uid, now, attendee) + _shared_lines(shared))
    if not sessions:
        shared = _exchange_entry(
            exchange, texts, invitation.calendar_sequence, "CANCELLED" if cancel else "CONFIRMED"
        )
        uid = exchange_uid(exchange, invitation, host)
        events.append(_personal_lines(uid, now, attendee) + _shared_lines(shared))

    head, tail = _frame("CANCEL" if cancel else "REQUEST", _zone_window(exchange, sessions))
    return head + b"".join(_BEGIN + lines + _END for lines in events) + tail


@dataclass(frozen=True)
class FeedEntry:
    """One VEVENT of a feed: a session, or (``session`` None) the whole exchange's all-day
    entry. ``stamp`` is its DTSTAMP, a moment of the data itself (not the time of the
    request), so an unchanged feed is byte for byte the same and its ETag holds."""

    uid: str
    sequence: int
    status: str
    stamp: datetime
    session: Session | None = None


def build_feed(
    *,
    name: str,
    exchange: Exchange,
    entries: Sequence[FeedEntry],
    locale: str,
    location: str | None,
    description: str | None,
) -> bytes:
    """A calendar to subscribe to: no METHOD (it is published, not sent), no organiser or
    attendee, the VTIMEZONE the mails carry for the same sessions."""
    texts = _Texts(locale, None, location, description)
    events: list[bytes] = []
    for entry in entries:
        if entry.session is None:
            shared = _exchange_entry(exchange, texts, entry.sequence, entry.status)
        else:
            shared = _session_entry(entry.session, exchange, texts, entry.sequence, entry.status)
        events.append(_personal_lines(entry.uid, entry.stamp, None) + _shared_lines(shared))
    sessions = [entry.session for entry in entries if entry.session is not None]
    head, tail = _frame(None, _zone_window(exchange, sessions), name)
    return head + b"".join(_BEGIN + lines + _END for lines in events) + tail
