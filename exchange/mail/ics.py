"""iCalendar (RFC 5545 / iTIP RFC 5546) attachments for invitation mail.

UIDs are stable per (session or exchange, invitation), so a later REQUEST with a higher
SEQUENCE replaces the entry and a CANCEL removes it. SEQUENCE is the session's own
sequence (bumped when the session moves) plus the invitation's calendar_sequence (bumped
for invitation-wide changes such as revocation): both only grow, so the sum does too.
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


@lru_cache(maxsize=128)
def _vtimezone(tzid: str, first_year: int, last_year: int) -> Timezone:
    """The VTIMEZONE for the years the events fall in: computing one walks every UTC offset
    change, so it is built once per zone and window (the component is only read afterwards)."""
    return Timezone.from_tzid(tzid, first_date=date(first_year - 1, 1, 1), last_date=date(last_year + 2, 1, 1))


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
    cancelled: bool
    busy: bool
    organiser: Party
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
    entry.add("status", "CANCELLED" if shared.cancelled else "CONFIRMED")
    # A whole exchange spans days: shown in the calendar without blocking them.
    entry.add("transp", "OPAQUE" if shared.busy else "TRANSPARENT")
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


def _personal_lines(uid: str, now: datetime, attendee: Party) -> bytes:
    """UID, DTSTAMP and ATTENDEE: the lines that differ per invitee, written as content lines
    directly (building an Event per invitee cost more than the rest of the mail)."""
    lines = (
        Contentline.from_parts("UID", Parameters(), vText(uid).to_ical().decode()),
        Contentline.from_parts("DTSTAMP", Parameters(), vDDDTypes(now.astimezone(UTC)).to_ical().decode()),
        # RSVP=FALSE: the answer is given on the invitation page, not by a calendar reply.
        Contentline.from_parts(
            "ATTENDEE",
            Parameters({"CN": _cn(attendee.name), "ROLE": "REQ-PARTICIPANT", "RSVP": "FALSE"}),
            f"mailto:{attendee.email}",
        ),
    )
    return b"".join(line.to_ical() + b"\r\n" for line in lines)


@lru_cache(maxsize=256)
def _frame(method: str, zone_window: tuple[str, int, int] | None) -> tuple[bytes, bytes]:
    """The calendar around the events: properties and VTIMEZONE before, the end after."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    if zone_window is not None:
        calendar.add_component(_vtimezone(*zone_window))
    text = calendar.to_ical()
    end = b"END:VCALENDAR\r\n"
    assert text.endswith(end)
    return text[: -len(end)], end


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
    zone = ZoneInfo(exchange.time_zone)
    exchange_title = pick_text(exchange.titles, [locale]) or exchange.slug
    events: list[bytes] = []

    if sessions:
        years = [moment.astimezone(zone).year for s in sessions for moment in (s.starts_at, s.ends_at)]
        zone_window: tuple[str, int, int] | None = (exchange.time_zone, min(years), max(years))
        for session in sessions:
            session_title = pick_text(session.titles, [locale])
            if session.format is SessionFormat.ONLINE:
                where = session.online_url or location
            elif session.format is SessionFormat.HYBRID:
                where = ", ".join(p for p in (session.venue, session.online_url) if p) or location
            else:
                where = session.venue or location
            shared = _Shared(
                sequence=session.sequence + invitation.calendar_sequence,
                summary=f"{exchange_title}: {session_title}" if session_title else exchange_title,
                cancelled=cancel or session.cancelled_at is not None,
                busy=True,
                organiser=organiser,
                description=description,
                start=session.starts_at.astimezone(zone),
                end=session.ends_at.astimezone(zone),
                location=where,
                url=session.online_url,
            )
            events.append(_personal_lines(session_uid(session, invitation, host), now, attendee) + _shared_lines(shared))
    else:
        zone_window = None
        shared = _Shared(
            sequence=invitation.calendar_sequence,
            summary=exchange_title,
            cancelled=cancel,
            busy=False,
            organiser=organiser,
            description=description,
            start=exchange.starts_on,
            # All-day DTEND is exclusive.
            end=exchange.ends_on + timedelta(days=1),
            location=location,
            url=None,
        )
        events.append(_personal_lines(exchange_uid(exchange, invitation, host), now, attendee) + _shared_lines(shared))

    head, tail = _frame("CANCEL" if cancel else "REQUEST", zone_window)
    return head + b"".join(_BEGIN + lines + _END for lines in events) + tail
