"""Exchanges take canonical IANA time zone names only (#10 item 8).

zoneinfo.available_timezones() also lists "localtime" (the server's clock setting),
"Factory", the posix/ and right/ copies, Etc/ offsets and legacy aliases; an exchange in one
of them would show dates that depend on the machine or on an old name.
"""

from __future__ import annotations

import zoneinfo

import pytest

from exchange.errors import Problems
from exchange.validation import check_time_zone


@pytest.mark.parametrize(
    "name",
    [
        "Asia/Almaty",
        "Asia/Qyzylorda",
        "Asia/Aqtau",
        "Asia/Tashkent",
        "Europe/Berlin",
        "America/Argentina/Salta",
        "UTC",
    ],
)
def test_canonical_names_are_accepted(name: str) -> None:
    problems = Problems()
    assert check_time_zone(problems, name) == zoneinfo.ZoneInfo(name)
    assert not problems


@pytest.mark.parametrize(
    "name",
    [
        "localtime",
        "Factory",
        "posixrules",
        "posix/Asia/Almaty",
        "right/Asia/Almaty",
        "Etc/GMT-5",
        "Etc/Unknown",
        "GMT",
        "EST5EDT",
        "Mars/Olympus",
        "UTC+5",
        "asia/almaty",
        "",
        "../../etc/passwd",
    ],
)
def test_other_names_are_refused_with_the_field(name: str) -> None:
    problems = Problems()
    assert check_time_zone(problems, name) is None
    [problem] = problems.items
    assert problem.field == ("timeZone",)
    assert "canonical IANA time zone" in problem.message


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("US/Pacific", "America/Los_Angeles"),
        ("Asia/Calcutta", "Asia/Kolkata"),
        ("Europe/Kiev", "Europe/Kyiv"),
        ("Etc/UTC", "UTC"),
        ("Zulu", "UTC"),
    ],
)
def test_an_old_alias_is_refused_naming_its_zone(alias: str, canonical: str) -> None:
    problems = Problems()
    assert check_time_zone(problems, alias) is None
    [problem] = problems.items
    assert problem.message == f"{alias!r} is an old alias; use its canonical IANA name {canonical!r}."
