"""Validation of plain values shared by the services (slugs, localized texts, URLs)."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import TZPATH, ZoneInfo, ZoneInfoNotFoundError

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


# The UN Sustainable Development Goals are numbered 1 to 17.
SDG_COUNT = 17


def is_sdg(goal: int) -> bool:
    return 1 <= goal <= SDG_COUNT


def check_sdgs(problems: Problems, sdgs: Sequence[int], field: str = "sdgs") -> list[int]:
    """The Sustainable Development Goals an exchange serves: each must be 1-17; returned once
    each, ascending (the order and repeats of the input mean nothing)."""
    for index, goal in enumerate(sdgs):
        if not is_sdg(goal):
            problems.invalid(
                f"{goal} is not a Sustainable Development Goal: the goals are numbered 1 to {SDG_COUNT}.",
                field,
                index,
            )
    return sorted({goal for goal in sdgs if is_sdg(goal)})


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


@functools.cache
def _time_zone_names() -> tuple[frozenset[str], dict[str, str]]:
    """The canonical names (zone.tab's Area/Location zones and UTC) and {old alias: its zone}.

    zone.tab is the tz database's list for choosing a zone; available_timezones() also holds
    "localtime", "Factory", posix/ and right/ copies, Etc/ offsets and legacy aliases
    (US/Pacific, Asia/Calcutta), some of which make dates follow the server's clock setting.
    Read from the tzdata package (installed with icalendar) and from the system's zoneinfo,
    so a zone known to either is accepted when ZoneInfo can load it.
    """
    names = {"UTC"}
    links = {"Etc/UTC": "UTC"}
    sources = [resources.files("tzdata.zoneinfo")] + [Path(path) for path in TZPATH]
    for source in sources:
        zone_tab, zic_input = source / "zone.tab", source / "tzdata.zi"
        if zone_tab.is_file():
            for line in zone_tab.read_text(encoding="utf-8").splitlines():
                columns = line.split("\t")
                if not line.startswith("#") and len(columns) >= 3:
                    names.add(columns[2])
        if zic_input.is_file():
            for line in zic_input.read_text(encoding="utf-8").splitlines():
                if line.startswith("L "):
                    _, target, alias = line.split()
                    links.setdefault(alias, "UTC" if target == "Etc/UTC" else target)
    return frozenset(names), links


def check_time_zone(problems: Problems, name: str, field: str = "timeZone") -> ZoneInfo | None:
    """The zone of a canonical IANA name (e.g. Asia/Almaty, or UTC); refuses every other name."""
    names, aliases = _time_zone_names()
    if name in names:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    hint = aliases.get(name)
    if hint in names:
        problems.invalid(f"{name!r} is an old alias; use its canonical IANA name {hint!r}.", field)
    else:
        problems.invalid(
            f"{name!r} is not a canonical IANA time zone: use an Area/Location name such as "
            "Asia/Almaty, or UTC.",
            field,
        )
    return None


def search_text(*maps: dict[str, str] | None) -> str:
    return "\n".join(fold(text) for texts in maps if texts for text in texts.values())
