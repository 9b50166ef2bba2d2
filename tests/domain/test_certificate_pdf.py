"""Certificate codes and the PDF without a database: 120-bit codes read back from paper,
stored only as a hash; the PDF rasterised by poppler (as a reader's viewer would) with its
font embedded, in kk, ru and en."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from exchange.certificates import codes, pdf, view
from exchange.models import Certificate, CertificateStatus
from tests.services import REQUIRE_SERVICES

FACTS = {
    "name": "Әлия Ғұмарқызы Үмбетова",
    "exchange": {
        "slug": "aral-week",
        "titles": {"kk": "Арал аптасы: сексеуіл көшеттері һәм теңіз түбі", "en": "Aral week"},
        "city": "Aralsk",
        "country": "KZ",
        "timeZone": "Asia/Qyzylorda",
        "startsOn": "2026-05-12",
        "endsOn": "2026-05-13",
    },
    "host": {"slug": "aral-eco", "names": {"en": "Aral Ecology Centre"}},
    "issuedBy": {"slug": "aral-eco", "names": {"en": "Aral Ecology Centre"}},
    "partners": [],
    "hours": 8.0,
    "sessionIds": [1],
    "sessions": [
        {
            "titles": {"en": "Planting"},
            "startsAt": "2026-05-12T04:00:00+00:00",
            "endsAt": "2026-05-12T08:00:00+00:00",
        }
    ],
}


def test_codes_carry_120_bits_and_are_read_back_as_typed() -> None:
    code = codes.code_for(codes.new_nonce(), b"signing key")
    assert len(code) == 24 and len(codes.grouped(code)) == 29
    assert codes.CODE_BYTES * 8 == 120
    assert codes.normalised(codes.grouped(code).lower()) == code
    assert codes.normalised(" ".join(codes.grouped(code).split("-"))) == code
    for garbage in ("", "ABC", code + "A", code[:-1] + "0", code[:-1] + "1", "é" * 24, "A" * 100):
        assert codes.normalised(garbage) is None, garbage
    assert codes.code_hash(code) == hashlib.sha256(code.encode()).hexdigest()
    # Another nonce, another key: another code (and never the invitation link's HMAC).
    assert codes.code_for("n1", b"k") != codes.code_for("n2", b"k") != codes.code_for("n1", b"other")


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        message = f"{name} (Debian's poppler-utils) is not installed"
        if REQUIRE_SERVICES:
            pytest.fail(message + " (.ci/run installs it)")
        pytest.skip(message)
    return found


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_pdf_renders_with_its_font_embedded(tmp_path: Path, lang: str) -> None:
    certificate = Certificate(
        facts=FACTS,
        status=CertificateStatus.VALID,
        issued_at=dt.datetime(2026, 5, 20, tzinfo=dt.UTC),
        language=lang,
    )
    shown = view.build(certificate, lang, code=codes.code_for("n", b"k"), public_url="https://exchange.test")
    document = tmp_path / "certificate.pdf"
    document.write_bytes(pdf.render(shown))

    fonts = subprocess.run(
        [_tool("pdffonts"), str(document)], capture_output=True, text=True, check=True
    ).stdout
    rows = [line.split() for line in fonts.splitlines()[2:]]
    assert rows and all("PTSans" in row[0] for row in rows), fonts
    # name type encoding emb sub uni object ID: every font embedded, as a subset, with a ToUnicode map.
    assert all(row[-5:-2] == ["yes", "yes", "yes"] for row in rows), fonts

    subprocess.run([_tool("pdftoppm"), "-r", "40", "-png", str(document), str(tmp_path / "page")], check=True)
    from PIL import Image

    with Image.open(tmp_path / "page-1.png") as image:
        grey = image.convert("L")
        low, high = grey.getextrema()
        assert (low, high) != (255, 255) and low < 80  # dark text on a white page, not blank
