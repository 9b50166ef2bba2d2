"""Dates and times in an exchange's venue zone, worded for a reader: shared by the invitation
page and the certificate (PDF and verification page), so the two cannot drift apart. The mail
words times differently (it names the GMT offset on each line) and keeps its own."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_interval, format_time

DateFormat = Literal["short", "medium", "long", "full"]


def session_when(
    starts_at: datetime, ends_at: datetime, zone: ZoneInfo, lang: str, *, date_format: DateFormat
) -> str:
    """A session's day and hours at the venue; the date's length is the caller's (the page
    names the weekday, the certificate does not)."""
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    if start.date() == end.date():
        return (
            f"{format_date(start.date(), date_format, locale=lang)}, "
            f"{format_time(start, 'short', locale=lang)}–{format_time(end, 'short', locale=lang)}"
        )
    return format_interval(start, end, "yMMMdHm", tzinfo=zone, locale=lang)


def date_span(starts_on: date, ends_on: date, lang: str) -> str:
    """An exchange's first to last day, or the one day."""
    if starts_on == ends_on:
        return format_date(starts_on, "long", locale=lang)
    return format_interval(starts_on, ends_on, "yMMMMd", locale=lang)


def utc_offset(zone: ZoneInfo, at: datetime) -> str:
    """The zone's offset at that moment, as "UTC+02:00"."""
    offset = at.astimezone(zone).strftime("%z")
    return f"UTC{offset[:3]}:{offset[3:]}"
