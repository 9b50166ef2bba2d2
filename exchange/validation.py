"""Validation of plain values shared by the services (slugs, localized texts, URLs)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from email_validator import EmailNotValidError, validate_email

from exchange.errors import Problems
from exchange.i18n import fold

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class LocalizedText:
    locale: str
    text: str


def is_slug(slug: str) -> bool:
    return 1 <= len(slug) <= 100 and SLUG_RE.match(slug) is not None


def check_slug(problems: Problems, slug: str, field: str = "slug") -> None:
    if not is_slug(slug):
        problems.invalid(
            "A slug is 1-100 lower-case letters, digits and single hyphens, e.g. aral-sea-week-2027.", field
        )


def localized_map(
    problems: Problems,
    texts: Sequence[LocalizedText] | None,
    field: str,
    *,
    required: bool,
    max_length: int = 500,
) -> dict[str, str]:
    """{locale: text} in input order (the first is the default language)."""
    result: dict[str, str] = {}
    if texts is None:
        if required:
            problems.invalid("At least one text is required.", field)
        return result
    if required and not texts:
        problems.invalid("At least one text is required.", field)
    for index, item in enumerate(texts):
        text = item.text.strip()
        if item.locale in result:
            problems.invalid(f"Language {item.locale} appears twice.", field, index, "locale")
        elif not text:
            problems.invalid("The text must not be empty.", field, index, "text")
        elif len(text) > max_length:
            problems.invalid(f"The text is longer than {max_length} characters.", field, index, "text")
        else:
            result[item.locale] = text
    return result


def check_capacity(problems: Problems, capacity: int | None, field: str = "capacity") -> None:
    if capacity is not None and capacity < 0:
        problems.invalid("The capacity must not be negative (leave it out for no limit).", field)


def check_languages(problems: Problems, languages: Sequence[str], field: str = "languages") -> list[str]:
    """At least one language code, each once; returns them in order without repeats."""
    if not languages:
        problems.invalid("At least one language is required.", field)
    result: list[str] = []
    for index, code in enumerate(languages):
        if code in result:
            problems.invalid(f"Language {code} appears twice.", field, index)
        else:
            result.append(code)
    return result


def check_email(problems: Problems, email: str, *field: str | int) -> str:
    """The address in email-validator's normalised form (syntax only, no DNS); "" when invalid."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized
    except EmailNotValidError as error:
        problems.invalid(f"Not a valid email address: {error}", *field)
        return ""


def check_url(
    problems: Problems, url: str | None, field: str, *, schemes: tuple[str, ...] = ("http", "https")
) -> None:
    if url is None:
        return
    parsed = urlparse(url)
    if parsed.scheme not in schemes or not parsed.netloc or len(url) > 500:
        problems.invalid(f"Expected an absolute {' or '.join(schemes)} URL.", field)


_ZONES: frozenset[str] | None = None


def check_time_zone(problems: Problems, name: str, field: str = "timeZone") -> ZoneInfo | None:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones())
    if name not in _ZONES:
        problems.invalid(f"{name!r} is not an IANA time zone (e.g. Asia/Almaty).", field)
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        problems.invalid(f"{name!r} is not an IANA time zone (e.g. Asia/Almaty).", field)
        return None


def search_text(*maps: dict[str, str] | None) -> str:
    return "\n".join(fold(text) for texts in maps if texts for text in texts.values())
