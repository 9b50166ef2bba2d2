"""`exchange volunteer export|erase EMAIL`: exit codes, one-line refusals, the question
before erasing, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from exchange.cli import app as cli_app
from tests.cli.helpers import in_database
from tests.privacy_world import (
    EMAIL,
    NAME,
    PERSON,
    counts,
    mail_folder_mentions,
    seed_for_cli,
    stored_mentions,
)


@pytest.fixture(autouse=True)
def _no_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Settings read ./.env; a developer's file must not steer the commands under test.
    monkeypatch.chdir(tmp_path)


def volunteer(database_url: str, tmp_path: Path, *args: str, answer: str | None = None) -> Result:
    env = {"EXCHANGE_DATABASE_URL": database_url, "EXCHANGE_MAIL_DIR": str(tmp_path / "mail-out")}
    return CliRunner().invoke(cli_app, ["volunteer", *args], env=env, input=answer, catch_exceptions=False)


def one_line_error(result: Result, text: str) -> None:
    assert result.exit_code == 1, result.stdout
    assert result.stderr.count("\n") == 1 and text in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_export_prints_everything_or_says_nothing_is_stored(database_url: str, tmp_path: Path) -> None:
    seed_for_cli(database_url, tmp_path)
    result = volunteer(database_url, tmp_path, "export", EMAIL)
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert [v["fullName"] for v in document["volunteers"]] == [NAME]
    assert len(document["invitations"]) == 2 and len(document["mailFiles"]) == 1

    target = tmp_path / "export.json"
    target.write_text("old")
    written = volunteer(database_url, tmp_path, "export", EMAIL, "-o", str(target))
    assert written.exit_code == 0 and written.stdout == ""
    assert json.loads(target.read_text())["volunteers"][0]["fullName"] == NAME
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # personal data: readable by its owner only

    one_line_error(volunteer(database_url, tmp_path, "export", "nobody@example.org"), "Nothing is stored")
    one_line_error(volunteer(database_url, tmp_path, "export", "  "), "Give the person's email address")
    one_line_error(
        volunteer(database_url, tmp_path, "export", EMAIL, "-o", str(tmp_path / "missing" / "x.json")),
        "cannot write",
    )


def test_erase_asks_first_then_erases_once(database_url: str, tmp_path: Path) -> None:
    seed_for_cli(database_url, tmp_path)
    before = in_database(database_url, tmp_path, counts)

    declined = volunteer(database_url, tmp_path, "erase", EMAIL, answer="n\n")
    assert "This anonymises 1 volunteer record(s), 2 invitation(s)" in declined.stdout
    one_line_error(declined, "nothing was erased")
    no_terminal = volunteer(database_url, tmp_path, "erase", EMAIL, answer="")
    one_line_error(no_terminal, "nothing was erased")
    assert in_database(database_url, tmp_path, lambda: stored_mentions(*PERSON))

    erased = volunteer(database_url, tmp_path, "erase", EMAIL, answer="y\n")
    assert erased.exit_code == 0, erased.stderr
    assert (
        "Erased: 1 volunteer record(s), 2 invitation(s) (links invalidated), 2 mail row(s) (1 queued"
        in erased.stdout
    )
    assert EMAIL.lower() not in erased.stdout.lower() and NAME not in erased.stdout
    assert in_database(database_url, tmp_path, lambda: stored_mentions(*PERSON)) == []
    assert mail_folder_mentions(tmp_path / "mail-out", *PERSON) == []
    assert in_database(database_url, tmp_path, counts) == before

    one_line_error(volunteer(database_url, tmp_path, "erase", EMAIL, "--yes"), "Nothing is stored")
    one_line_error(volunteer(database_url, tmp_path, "erase", "never@example.org"), "Nothing is stored")
