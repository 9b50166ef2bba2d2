from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from rich.console import Console

from exchange.invitations.csv_import import CsvImportError, import_csv
from exchange.models import ExchangeStatus, Invitation, MailKind, OutboxMail
from tests.invitations.conftest import World


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


async def test_good_and_bad_rows(world: World, tmp_path: Path) -> None:
    source = _write(
        tmp_path / "invitees.csv",
        "\ufeffEmail,Full_Name,Country,Locale\n"
        "nurlan@example.org,Нұрлан Әбдіров,KZ,kk\n"
        "not-an-address,Ольга Ким,UZ,ru\n"
        "olga@example.org,Ольга Ким,uz,\n"
        "\n"
        "ana@example.org,,ES,en\n"
        "NURLAN@example.org,Nurlan again,KZ,kk\n"
        "pierre@example.org,Pierre Martin,FR,fr\n"
        "zz@example.org,Nobody,XX,en\n",
    )
    console_out = io.StringIO()
    summary = await import_csv(world.settings, "aral-week", source, console=Console(file=console_out))
    assert summary.rows == 7
    assert summary.invited == 2
    assert summary.already_invited == 0
    assert [row.line for row in summary.rejected] == [3, 6, 7, 8, 9]
    assert str(summary) == (
        f"7 rows: 2 invited, 0 already invited, 5 rejected (reasons in {tmp_path / 'invitees.rejected.csv'})"
    )
    stored = {i.email: i for i in await Invitation.all()}
    assert set(stored) == {"nurlan@example.org", "olga@example.org"}
    assert stored["nurlan@example.org"].locale == "kk"
    assert stored["olga@example.org"].locale == "ru"  # the exchange's first language
    assert stored["olga@example.org"].country == "UZ"
    assert await OutboxMail.filter(kind=MailKind.INVITATION).count() == 2

    # The input had a byte-order mark, so the rejected rows have one too (Excel reads Cyrillic then).
    with (tmp_path / "invitees.rejected.csv").open(encoding="utf-8-sig") as handle:
        rejected = list(csv.DictReader(handle))
    assert [r["line"] for r in rejected] == ["3", "6", "7", "8", "9"]
    reasons = {r["email"]: r["reasons"] for r in rejected}
    assert reasons["not-an-address"].startswith("email: Not a valid email address")
    assert reasons["ana@example.org"].startswith("fullName:")
    assert reasons["NURLAN@example.org"].startswith("email: This address already appears")
    assert reasons["pierre@example.org"].startswith("locale:")
    assert reasons["zz@example.org"].startswith("country:")

    # Importing the fixed list again invites nobody twice.
    again = await import_csv(
        world.settings,
        "aral-week",
        _write(tmp_path / "again.csv", "email,full_name,country\nnurlan@example.org,Нұрлан Әбдіров,KZ\n"),
        console=Console(file=io.StringIO()),
    )
    assert (again.invited, again.already_invited, again.rejected) == (0, 1, [])
    assert again.rejected_file is None


async def test_refused_call_rejects_every_row(world: World, tmp_path: Path) -> None:
    world.exchange.status = ExchangeStatus.DRAFT
    await world.exchange.save()
    source = _write(
        tmp_path / "list.csv", "email,full_name,country\na@example.org,A,KZ\nb@example.org,B,KZ\n"
    )
    summary = await import_csv(world.settings, "aral-week", source, console=Console(file=io.StringIO()))
    assert summary.invited == 0 and len(summary.rejected) == 2
    assert "open exchanges" in summary.rejected[0].reasons[0]


async def test_unusable_file_or_exchange(world: World, tmp_path: Path) -> None:
    with pytest.raises(CsvImportError, match="missing column"):
        await import_csv(world.settings, "aral-week", _write(tmp_path / "x.csv", "mail,name\na,b\n"))
    with pytest.raises(CsvImportError, match="No exchange"):
        await import_csv(world.settings, "nope", _write(tmp_path / "y.csv", "email,full_name,country\n"))
