"""CSV files as spreadsheets in Kazakh and Russian locales save them: semicolons, a BOM,
header names written for people ("Full Name"); tabs from a pasted table."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from exchange.invitations.csv_import import import_csv
from exchange.models import Invitation
from tests.invitations.conftest import World


@pytest.mark.parametrize(
    "text",
    [
        "\ufeffemail;full_name;country;locale\r\nnurlan@example.org;Әбдіров, Нұрлан;KZ;kk\r\n"
        "olga@example.org;Ольга Ким;UZ;ru\r\n",
        'Email,Full Name,Country,Locale\nnurlan@example.org,"Әбдіров, Нұрлан",kz,KK\n'
        "olga@example.org,Ольга Ким,UZ,ru\n",
        "E-mail\tfull-name\tCOUNTRY\tlocale\nnurlan@example.org\tӘбдіров, Нұрлан\tKZ\tkk\n"
        "olga@example.org\tОльга Ким\tUZ\tru\n",
    ],
    ids=["semicolons-bom-crlf", "comma-human-header", "tabs"],
)
async def test_spreadsheet_dialects(world: World, tmp_path: Path, text: str) -> None:
    source = tmp_path / "list.csv"
    source.write_text(text, encoding="utf-8")
    summary = await import_csv(world.settings, "aral-week", source, console=Console(file=io.StringIO()))
    assert (summary.rows, summary.invited, summary.rejected) == (2, 2, [])
    stored = {i.email: (i.full_name, i.country, i.locale) for i in await Invitation.all()}
    assert stored == {
        "nurlan@example.org": ("Әбдіров, Нұрлан", "KZ", "kk"),
        "olga@example.org": ("Ольга Ким", "UZ", "ru"),
    }


async def test_rejected_rows_come_back_in_the_same_dialect(world: World, tmp_path: Path) -> None:
    source = tmp_path / "list.csv"
    source.write_bytes(
        "\ufeffemail;full_name;country\r\nnot-an-address;Ольга Ким;UZ\r\nana@example.org;Ана;KZ\r\n".encode()
    )
    summary = await import_csv(world.settings, "aral-week", source, console=Console(file=io.StringIO()))
    assert summary.invited == 1 and summary.rejected_file is not None
    written = summary.rejected_file.read_bytes()
    assert written.startswith(b"\xef\xbb\xbfline;email;full_name;country;locale;reasons\r\n")
    assert "2;not-an-address;Ольга Ким;UZ;;email: Not a valid email address" in written.decode("utf-8-sig")

    plain = tmp_path / "plain.csv"
    plain.write_text("email,full_name,country\nbad,Bad,KZ\n", encoding="utf-8")
    summary = await import_csv(world.settings, "aral-week", plain, console=Console(file=io.StringIO()))
    assert summary.rejected_file is not None
    assert summary.rejected_file.read_bytes().startswith(b"line,email,full_name,country,locale,reasons\r\n")
