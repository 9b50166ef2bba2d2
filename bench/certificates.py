"""Certificate PDFs: 100 certificates with each candidate library, same content, same font.

    python -m bench.certificates            # prints a Markdown table (bench/RESULTS.md has one)
    python -m bench.certificates --count 300

reportlab renders through the project's own module (exchange.certificates.pdf); fpdf2 through
an equivalent layout below (title, name, exchange, the facts table, the sessions, the footer
with the code, address and QR code). Both embed PT Sans (fontpkg-pt-sans) as a subset. Measured
per library: the first certificate of a process (font loading included), then ``count`` more,
wall and CPU time, size, and whether pypdf reads the name and the Kazakh letters back.
fpdf2 is in the ``bench`` extra only: the server does not use it.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import fontpkg
import pypdf
import segno

from exchange.certificates import codes, pdf, view
from exchange.models import Certificate, CertificateStatus

KAZAKH = "әғқңөұүһі"
_NAMES = [
    "Әлия Нұрланқызы Серікбаева",
    "Анна Кузнецова",
    "Jonas Becker",
    "Ғалым Үмбетов",
    "Aizhan Toktogulova",
]
_SESSION_TITLES = [
    {"kk": "Көшеттерді дайындау", "ru": "Подготовка саженцев", "en": "Preparing the seedlings"},
    {"kk": "Отырғызу күні: құрғаған теңіз түбі", "ru": "День посадки на высохшем дне", "en": "Planting day"},
    {"kk": "Қорытынды кездесу һәм есеп", "ru": "Итоговая встреча", "en": "Closing meeting and report"},
]


def sample(index: int) -> tuple[Certificate, str]:
    """A certificate like the demo's: 1 to 12 attended sessions, kk/ru/en in turn."""
    start = datetime(2026, 5, 12, 4, tzinfo=UTC)
    sessions = [
        {
            "titles": _SESSION_TITLES[i % 3],
            "startsAt": (start + timedelta(days=i // 2, hours=5 * (i % 2))).isoformat(),
            "endsAt": (start + timedelta(days=i // 2, hours=5 * (i % 2) + 4)).isoformat(),
        }
        for i in range(1 + index % 12)
    ]
    names = {
        "kk": "Арал экология орталығы",
        "ru": "Аральский экологический центр",
        "en": "Aral Ecology Centre",
    }
    facts: dict[str, Any] = {
        "name": _NAMES[index % len(_NAMES)],
        "exchange": {
            "slug": "aral-week",
            "titles": {
                "kk": "Арал аптасы: құрғаған теңіз түбіне сексеуіл отырғызу",
                "ru": "Аральская неделя: посадка саксаула на высохшем дне моря",
                "en": "Aral week: planting saxaul on the dried sea bed",
            },
            "city": "Aralsk",
            "country": "KZ",
            "timeZone": "Asia/Qyzylorda",
            "startsOn": "2026-05-12",
            "endsOn": "2026-05-18",
        },
        "host": {"slug": "aral-eco", "names": names},
        "issuedBy": {"slug": "aral-eco", "names": names},
        "partners": [{"slug": "cis", "names": {"ru": "Волонтёрский союз СНГ", "en": "CIS Volunteer Union"}}],
        "hours": 4.0 * len(sessions),
        "sessions": sessions,
    }
    certificate = Certificate(
        facts=facts,
        status=CertificateStatus.VALID,
        issued_at=datetime(2026, 5, 20, tzinfo=UTC),
        language="kk",
    )
    return certificate, ("kk", "ru", "en")[index % 3]


def render_fpdf2(v: view.CertificateView) -> bytes:
    """The same page with fpdf2."""
    from fpdf import FPDF

    doc = FPDF(format="A4", unit="pt")
    doc.set_auto_page_break(False)
    doc.add_font("PTSans", "", str(fontpkg.path("PT Sans", weight=400)))
    doc.add_font("PTSans", "B", str(fontpkg.path("PT Sans", weight=700)))
    doc.set_title(f"{v.words['title']}: {v.exchange}")
    doc.set_lang(v.lang)
    margin, width, height = 56.0, 595.28, 841.89
    words = {key: pdf.printable(value) for key, value in v.words.items()}

    def footer() -> None:
        doc.set_fill_color(11, 110, 79)
        doc.rect(0, 0, width, 10, style="F")
        top = height - margin - 104
        doc.set_draw_color(11, 110, 79)
        doc.line(margin, top, width - margin, top)
        if v.url:
            qr = segno.make(v.url, error="m", micro=False)
            size = 84.0
            unit = size / qr.symbol_size(scale=1, border=0)[0]
            doc.set_fill_color(26, 26, 26)
            for r, col, length in pdf._qr_runs(v.url):
                doc.rect(
                    margin + col * unit, height - margin - size + r * unit, length * unit, unit, style="F"
                )
        x = margin + 102
        doc.set_xy(x, top + 12)
        doc.set_font("PTSans", "", 9)
        doc.cell(text=words["code"])
        doc.set_xy(x, top + 26)
        doc.set_font("PTSans", "B", 15)
        doc.cell(text=v.code or "")
        doc.set_font("PTSans", "", 9)
        doc.set_xy(x, top + 46)
        doc.cell(text=words["verify_at"])
        doc.set_xy(x, top + 58)
        doc.cell(text=v.url or "", link=v.url or "")
        doc.set_xy(x, top + 76)
        doc.cell(
            text=pdf.printable(f"{words['issued_on']}: {v.issued_on} · {words['issued_by']}: {v.issued_by}")
        )

    def new_page() -> None:
        doc.add_page()
        footer()
        doc.set_xy(margin, margin)

    def room(h: float) -> None:
        if doc.get_y() + h > height - margin - 118:
            new_page()

    new_page()
    for text, style, size, gap in (
        ("Volunteer Exchange", "", 10, 14),
        (words["title"], "B", 26, 12),
        (words["certifies"], "", 12, 6),
        (pdf.printable(v.name), "B", 24, 6),
        (words["took_part"], "", 12, 4),
        (pdf.printable(v.exchange), "B", 16, 18),
    ):
        doc.set_font("PTSans", style, size)
        doc.set_x(margin)
        doc.multi_cell(width - 2 * margin, size * 1.25, text, align="C")
        doc.set_y(doc.get_y() + gap)
    rows = [(words["dates"], v.dates), (words["place"], v.place), (words["host"], v.host)]
    if v.partners:
        rows.append((words["partners"], ", ".join(v.partners)))
    rows.append((words["hours"], v.hours))
    for label, value in rows:
        room(16)
        y = doc.get_y()
        doc.set_font("PTSans", "", 9.5)
        doc.set_xy(margin, y)
        doc.cell(150, 15, label)
        doc.set_font("PTSans", "", 11)
        doc.set_xy(margin + 150, y)
        doc.multi_cell(width - 2 * margin - 150, 15, pdf.printable(value))
    doc.set_y(doc.get_y() + 10)
    doc.set_font("PTSans", "B", 11)
    doc.set_x(margin)
    doc.cell(text=words["sessions"])
    doc.set_y(doc.get_y() + 16)
    for session in v.sessions:
        room(30)
        doc.set_font("PTSans", "B", 10)
        doc.set_x(margin + 12)
        doc.multi_cell(width - 2 * margin - 12, 13, pdf.printable(session.title))
        doc.set_font("PTSans", "", 9.5)
        doc.set_x(margin + 12)
        doc.cell(text=pdf.printable(session.when))
        doc.set_y(doc.get_y() + 17)
    return bytes(doc.output())


def _reads_back(data: bytes, name: str, lang: str) -> bool:
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)
    return name in text and (lang != "kk" or all(letter in text for letter in "құ"))


def measure(label: str, render: Callable[[view.CertificateView], bytes], count: int) -> dict[str, Any]:
    views = []
    for index in range(count + 1):
        certificate, lang = sample(index)
        code = codes.code_for(f"nonce-{index}", b"bench-signing-key")
        views.append(view.build(certificate, lang, code=code, public_url="https://exchange.example.org"))
    started = time.perf_counter()
    first = render(views[0])
    first_ms = (time.perf_counter() - started) * 1000
    times, sizes = [], []
    cpu = time.process_time()
    wall = time.perf_counter()
    outputs = []
    for v in views[1:]:
        t = time.perf_counter()
        data = render(v)
        times.append((time.perf_counter() - t) * 1000)
        sizes.append(len(data))
        outputs.append((data, v))
    wall_s = time.perf_counter() - wall
    cpu_s = time.process_time() - cpu
    checked = all(_reads_back(data, v.name, v.lang) for data, v in outputs[:12]) and bool(first)
    return {
        "library": label,
        "first_ms": first_ms,
        "total_s": wall_s,
        "cpu_s": cpu_s,
        "mean_ms": statistics.mean(times),
        "p95_ms": statistics.quantiles(times, n=20)[-1],
        "kb": statistics.mean(sizes) / 1024,
        "reads_back": checked,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.certificates", description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    args = parser.parse_args(argv)
    import reportlab
    from fpdf import __version__ as fpdf_version

    results = [
        measure(f"reportlab {reportlab.Version}", pdf.render, args.count),
        measure(f"fpdf2 {fpdf_version}", render_fpdf2, args.count),
    ]
    print(
        f"| library | first (ms) | {args.count} certificates (s) | CPU (s) | mean (ms) | p95 (ms) | size (KiB) | text reads back |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in results:
        print(
            f"| {r['library']} | {r['first_ms']:.0f} | {r['total_s']:.2f} | {r['cpu_s']:.2f} | {r['mean_ms']:.1f} | "
            f"{r['p95_ms']:.1f} | {r['kb']:.0f} | {'yes' if r['reads_back'] else 'NO'} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
