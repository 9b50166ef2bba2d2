"""What a certificate says, in one language: built from the facts stored at issue, for the PDF
and the verification page alike (so they cannot say different things). Dates and times are
the venue's, with its zone named once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal

from exchange.certificates import codes
from exchange.certificates.texts import TEXTS
from exchange.i18n import pick_text
from exchange.models import Certificate, CertificateStatus
from exchange.venue_time import date_span, session_when, utc_offset


@dataclass(frozen=True)
class SessionLine:
    title: str
    when: str


@dataclass(frozen=True)
class CertificateView:
    lang: str
    words: dict[str, str]
    name: str
    exchange: str
    dates: str
    place: str
    zone: str
    host: str
    partners: list[str]
    hours: str
    sessions: list[SessionLine]
    issued_on: str
    issued_by: str
    valid: bool
    revoked_on: str | None
    # Only where the code is known (the PDF, the page reached by it): never from the database.
    code: str | None = None
    url: str | None = None


def _text(texts: Any, lang: str, fallback: str = "") -> str:
    picked = pick_text(texts if isinstance(texts, dict) else None, [lang])
    return picked or fallback


def _instant(value: Any) -> datetime:
    return datetime.fromisoformat(str(value))


def build(
    certificate: Certificate, lang: str, *, code: str | None = None, public_url: str | None = None
) -> CertificateView:
    facts = certificate.facts
    exchange = facts.get("exchange", {})
    zone = ZoneInfo(str(exchange.get("timeZone") or "UTC"))
    starts_on = date.fromisoformat(str(exchange["startsOn"]))
    ends_on = date.fromisoformat(str(exchange["endsOn"]))
    country = Locale.parse(lang).territories.get(str(exchange.get("country")), exchange.get("country"))
    sessions = [
        SessionLine(
            title=_text(s.get("titles"), lang),
            when=session_when(_instant(s["startsAt"]), _instant(s["endsAt"]), zone, lang, date_format="long"),
        )
        for s in facts.get("sessions", [])
    ]
    first = datetime.combine(starts_on, datetime.min.time(), tzinfo=zone)
    issued_local = certificate.issued_at.astimezone(zone)
    words = TEXTS[lang]
    return CertificateView(
        lang=lang,
        words=words,
        name=str(facts.get("name", "")),
        exchange=_text(exchange.get("titles"), lang, str(exchange.get("slug", ""))),
        dates=date_span(starts_on, ends_on, lang),
        place=", ".join(str(part) for part in (exchange.get("city"), country) if part),
        zone=f"{zone.key} ({utc_offset(zone, first)})",
        host=_text(facts.get("host", {}).get("names"), lang, str(facts.get("host", {}).get("slug", ""))),
        partners=[_text(p.get("names"), lang, str(p.get("slug", ""))) for p in facts.get("partners", [])],
        hours=format_decimal(float(facts.get("hours") or 0), locale=lang),
        sessions=sessions,
        issued_on=format_date(issued_local.date(), "long", locale=lang),
        issued_by=_text(
            facts.get("issuedBy", {}).get("names"), lang, str(facts.get("issuedBy", {}).get("slug", ""))
        ),
        valid=certificate.status is CertificateStatus.VALID,
        revoked_on=(
            format_date(certificate.revoked_at.astimezone(zone).date(), "long", locale=lang)
            if certificate.revoked_at is not None
            else None
        ),
        code=codes.grouped(code) if code else None,
        url=codes.page_url(public_url, code) if code and public_url else None,
    )
