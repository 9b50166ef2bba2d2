"""iCalendar (RFC 5545 / iTIP RFC 5546) attachments for invitation mail.

UIDs are stable per (session or exchange, invitation), so a later REQUEST with a higher
SEQUENCE replaces the entry and a CANCEL removes it. SEQUENCE is the session's own
sequence (bumped when the session moves) plus the invitation's calendar_sequence (bumped
for invitation-wide changes such as revocation): both only grow, so the sum does too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vText

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


def _party(kind: str, party: Party, **params: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{party.email}")
    address.params["cn"] = vText(party.name)
    for key, value in params.items():
        address.params[key] = vText(value)
    return address


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

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "CANCEL" if cancel else "REQUEST")

    def event(uid: str, sequence: int, summary: str, cancelled: bool, busy: bool = True) -> Event:
        entry = Event()
        entry.add("uid", uid)
        entry.add("dtstamp", now)
        entry.add("sequence", sequence)
        entry.add("summary", summary)
        entry.add("status", "CANCELLED" if cancelled else "CONFIRMED")
        # A whole exchange spans days: shown in the calendar without blocking them.
        entry.add("transp", "OPAQUE" if busy else "TRANSPARENT")
        entry.add("organizer", _party("organizer", organiser))
        # RSVP=FALSE: the answer is given on the invitation page, not by a calendar reply.
        entry.add("attendee", _party("attendee", attendee, role="REQ-PARTICIPANT", rsvp="FALSE"))
        if description:
            entry.add("description", description)
        return entry

    if sessions:
        for session in sessions:
            session_title = pick_text(session.titles, [locale])
            summary = f"{exchange_title}: {session_title}" if session_title else exchange_title
            entry = event(
                session_uid(session, invitation, host),
                session.sequence + invitation.calendar_sequence,
                summary,
                cancel or session.cancelled_at is not None,
            )
            entry.add("dtstart", session.starts_at.astimezone(zone))
            entry.add("dtend", session.ends_at.astimezone(zone))
            if session.format is SessionFormat.ONLINE:
                where = session.online_url or location
            elif session.format is SessionFormat.HYBRID:
                where = ", ".join(p for p in (session.venue, session.online_url) if p) or location
            else:
                where = session.venue or location
            if where:
                entry.add("location", where)
            if session.online_url:
                entry.add("url", session.online_url)
            calendar.add_component(entry)
    else:
        entry = event(
            exchange_uid(exchange, invitation, host),
            invitation.calendar_sequence,
            exchange_title,
            cancel,
            busy=False,
        )
        entry.add("dtstart", exchange.starts_on)
        # All-day DTEND is exclusive.
        entry.add("dtend", exchange.ends_on + timedelta(days=1))
        if location:
            entry.add("location", location)
        calendar.add_component(entry)

    calendar.add_missing_timezones()
    return calendar.to_ical()
