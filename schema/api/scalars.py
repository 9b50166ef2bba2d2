"""The contract's scalars. Malformed values are rejected before execution with a message
that names the value; the HTTP layer tags such errors BAD_USER_INPUT."""

from __future__ import annotations

import datetime as dt
from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

from exchange.i18n import is_country_code, is_language_code


def _parse_country(value: object) -> str:
    if not isinstance(value, str) or not is_country_code(value):
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code (upper case, e.g. KZ)")
    return value


def _parse_language(value: object) -> str:
    if not isinstance(value, str) or not is_language_code(value):
        raise ValueError(f"{value!r} is not an ISO 639-1 language code (lower case, e.g. kk)")
    return value


def _parse_date(value: object) -> dt.date:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)")
    try:
        return dt.date.fromisoformat(value) if len(value) == 10 else _bad_date(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def _bad_date(value: str) -> dt.date:
    raise ValueError(value)


def _parse_datetime(value: object) -> dt.datetime:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a date-time (ISO 8601 with offset)")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date-time (ISO 8601 with offset)") from None
    if parsed.tzinfo is None:
        raise ValueError(f"{value!r} has no UTC offset; send e.g. 2027-04-11T09:00:00+05:00")
    return parsed.astimezone(dt.UTC)


def serialize_datetime(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat()


CountryCode = NewType("CountryCode", str)
LanguageCode = NewType("LanguageCode", str)

SCALAR_MAP: dict[object, ScalarDefinition] = {
    CountryCode: strawberry.scalar(
        name="CountryCode",
        description="ISO 3166-1 alpha-2 country code, upper case, e.g. KZ, UZ, DE.",
        serialize=str,
        parse_value=_parse_country,
    ),
    LanguageCode: strawberry.scalar(
        name="LanguageCode",
        description="ISO 639-1 language code, lower case, e.g. kk, ru, en.",
        serialize=str,
        parse_value=_parse_language,
    ),
    dt.date: strawberry.scalar(
        name="Date",
        description="Calendar date, ISO 8601 (YYYY-MM-DD).",
        serialize=lambda value: value.isoformat(),
        parse_value=_parse_date,
    ),
    dt.datetime: strawberry.scalar(
        name="DateTime",
        description="Instant with offset, ISO 8601. Sent in UTC; inputs must carry an offset.",
        serialize=serialize_datetime,
        parse_value=_parse_datetime,
    ),
}
