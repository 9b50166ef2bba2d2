"""The certificate as a PDF (reportlab; the README says why this library and this font).

A4 portrait: the title, the volunteer's name, the exchange, a table of its dates, place,
organisers and hours, the sessions attended, and on every page a footer with the
verification code, its page's address and a QR code of that address. The font is PT Sans
from the fontpkg-pt-sans package (ParaType's family for the languages of Russia and the CIS:
every Kazakh letter), embedded as a subset; nothing is read from the system.
"""

from __future__ import annotations

import dataclasses
import io
import unicodedata
from collections.abc import Iterator
from functools import cache

import fontpkg
import segno
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from exchange.certificates.view import CertificateView, SessionLine

REGULAR = "PTSans"
BOLD = "PTSans-Bold"
FAMILY = "PT Sans"
ACCENT = HexColor("#0b6e4f")
MUTED = HexColor("#555555")
TEXT = HexColor("#1a1a1a")
MARGIN = 56.0
FOOTER = 118.0
WIDTH, HEIGHT = A4


@cache
def register_fonts() -> None:
    """Once per process: reportlab keeps registered fonts in a global registry."""
    pdfmetrics.registerFont(TTFont(REGULAR, str(fontpkg.path(FAMILY, weight=400))))
    pdfmetrics.registerFont(TTFont(BOLD, str(fontpkg.path(FAMILY, weight=700))))


@cache
def _covered() -> frozenset[int]:
    register_fonts()
    font = pdfmetrics.getFont(REGULAR)
    return frozenset(font.face.charToGlyph)


def printable(text: str) -> str:
    """``text`` with what the font lacks replaced by what it has: babel writes narrow no-break
    spaces (U+202F) in dates, which PT Sans has no glyph for; other characters by their
    compatibility form (NFKC) when the font has that."""
    covered = _covered()
    if all(ord(ch) in covered for ch in text):
        return text
    out = []
    for ch in text:
        if ord(ch) in covered:
            out.append(ch)
        elif unicodedata.category(ch) == "Zs":
            out.append("\u00a0")
        else:
            compatible = unicodedata.normalize("NFKC", ch)
            out.append(compatible if all(ord(c) in covered for c in compatible) else ch)
    return "".join(out)


def _printable_view(view: CertificateView) -> CertificateView:
    changes: dict[str, object] = {
        field.name: printable(value)
        for field in dataclasses.fields(view)
        if isinstance(value := getattr(view, field.name), str)
    }
    changes["partners"] = [printable(p) for p in view.partners]
    changes["sessions"] = [SessionLine(printable(s.title), printable(s.when)) for s in view.sessions]
    changes["words"] = {key: printable(value) for key, value in view.words.items()}
    return dataclasses.replace(view, **changes)  # type: ignore[arg-type]


class _Page:
    """A cursor down the page that starts a new page (with its footer) when text would run
    into the footer."""

    def __init__(self, canvas: Canvas, view: CertificateView) -> None:
        self.canvas = canvas
        self.view = view
        self.number = 1
        self.y = HEIGHT - MARGIN
        self._decorate()

    def _decorate(self) -> None:
        c = self.canvas
        c.setFillColor(ACCENT)
        c.rect(0, HEIGHT - 10, WIDTH, 10, stroke=0, fill=1)
        _footer(c, self.view, self.number)

    def need(self, height: float) -> None:
        if self.y - height < MARGIN + FOOTER:
            self.canvas.showPage()
            self.number += 1
            self.y = HEIGHT - MARGIN
            self._decorate()

    def centred(self, text: str, font: str, size: float, *, color: object = TEXT, gap: float = 0.3) -> None:
        lines = simpleSplit(text, font, size, WIDTH - 2 * MARGIN)
        for line in lines:
            self.need(size * 1.25)
            self.y -= size * 1.25
            self.canvas.setFont(font, size)
            self.canvas.setFillColor(color)
            self.canvas.drawCentredString(WIDTH / 2, self.y, line)
        self.y -= size * gap

    def row(self, label: str, value: str, *, size: float = 11.0, font: str = REGULAR) -> None:
        """A label in the left column, its value wrapped in the right one."""
        label_width = 150.0
        lines = simpleSplit(value, font, size, WIDTH - 2 * MARGIN - label_width) or [""]
        self.need(size * 1.35 * len(lines))
        c = self.canvas
        c.setFont(REGULAR, 9.5)
        c.setFillColor(MUTED)
        c.drawString(MARGIN, self.y - size * 1.25, label)
        c.setFillColor(TEXT)
        c.setFont(font, size)
        for line in lines:
            self.y -= size * 1.35
            c.drawString(MARGIN + label_width, self.y, line)
        self.y -= 4


def _qr_runs(url: str) -> Iterator[tuple[int, int, int]]:
    """(row, first column, length) of each run of dark modules: a few hundred rectangles."""
    for row_index, row in enumerate(segno.make(url, error="m", micro=False).matrix):
        start = None
        for column, dark in enumerate([*row, 0]):
            if dark and start is None:
                start = column
            elif not dark and start is not None:
                yield row_index, start, column - start
                start = None


def _footer(c: Canvas, view: CertificateView, number: int) -> None:
    words = view.words
    c.setStrokeColor(ACCENT)
    c.setLineWidth(0.8)
    top = MARGIN + FOOTER - 14
    c.line(MARGIN, top, WIDTH - MARGIN, top)
    text_x = MARGIN
    if view.url:
        size = 84.0
        modules = segno.make(view.url, error="m", micro=False).symbol_size(scale=1, border=0)[0]
        unit = size / modules
        c.setFillColor(TEXT)
        bottom = MARGIN
        for row, column, length in _qr_runs(view.url):
            c.rect(
                MARGIN + column * unit,
                bottom + size - (row + 1) * unit,
                length * unit,
                unit,
                stroke=0,
                fill=1,
            )
        text_x = MARGIN + size + 18
    y = top - 22
    c.setFillColor(MUTED)
    c.setFont(REGULAR, 9)
    c.drawString(text_x, y, words["code"])
    if view.code:
        c.setFillColor(TEXT)
        c.setFont(BOLD, 15)
        c.drawString(text_x, y - 19, view.code)
    if view.url:
        c.setFillColor(MUTED)
        c.setFont(REGULAR, 9)
        c.drawString(text_x, y - 36, words["verify_at"])
        c.setFillColor(ACCENT)
        c.drawString(text_x, y - 48, view.url)
        c.linkURL(
            view.url, (text_x, y - 51, text_x + c.stringWidth(view.url, REGULAR, 9), y - 40), relative=0
        )
    c.setFillColor(MUTED)
    c.setFont(REGULAR, 9)
    c.drawString(
        text_x, y - 66, f"{words['issued_on']}: {view.issued_on} · {words['issued_by']}: {view.issued_by}"
    )
    if number > 1:
        c.drawRightString(WIDTH - MARGIN, MARGIN - 16, words["page_more"].format(page=number))


def render(view: CertificateView, *, platform: str = "Volunteer Exchange") -> bytes:
    """The PDF's bytes. Holds no email address: none is in the view."""
    register_fonts()
    view = _printable_view(view)
    buffer = io.BytesIO()
    # The initial font too: reportlab would otherwise name Helvetica, a font it does not embed.
    c = Canvas(buffer, pagesize=A4, pageCompression=1, lang=view.lang, initialFontName=REGULAR)
    words = view.words
    c.setTitle(f"{words['title']}: {view.exchange}")
    c.setAuthor(view.issued_by)
    c.setCreator(platform)
    c.setSubject(view.exchange)
    page = _Page(c, view)
    page.y -= 8
    page.centred(platform, REGULAR, 10, color=MUTED, gap=1.6)
    page.centred(words["title"], BOLD, 26, color=ACCENT, gap=1.0)
    page.centred(words["certifies"], REGULAR, 12, color=MUTED, gap=0.6)
    page.centred(view.name, BOLD, 24, gap=0.6)
    page.centred(words["took_part"], REGULAR, 12, color=MUTED, gap=0.4)
    page.centred(view.exchange, BOLD, 16, gap=1.6)
    page.row(words["dates"], view.dates)
    if view.place:
        page.row(words["place"], view.place)
    page.row(words["host"], view.host)
    if view.partners:
        page.row(words["partners"], ", ".join(view.partners))
    page.row(words["hours"], view.hours, size=14, font=BOLD)
    if view.sessions:
        page.y -= 10
        page.need(30)
        c.setFont(BOLD, 11)
        c.setFillColor(TEXT)
        page.y -= 14
        c.drawString(MARGIN, page.y, words["sessions"])
        page.y -= 4
        for session in view.sessions:
            title_lines = (
                simpleSplit(session.title, BOLD, 10, WIDTH - 2 * MARGIN - 12) if session.title else []
            )
            page.need(13 * (len(title_lines) + 1) + 4)
            c.setFillColor(ACCENT)
            c.circle(MARGIN + 3, page.y - 9.5, 1.6, stroke=0, fill=1)
            for line in title_lines:
                page.y -= 13
                c.setFillColor(TEXT)
                c.setFont(BOLD, 10)
                c.drawString(MARGIN + 12, page.y, line)
            page.y -= 13
            c.setFillColor(MUTED)
            c.setFont(REGULAR, 9.5)
            c.drawString(MARGIN + 12, page.y, session.when)
            page.y -= 4
    page.y -= 6
    page.need(14)
    c.setFont(REGULAR, 8.5)
    c.setFillColor(MUTED)
    page.y -= 11
    c.drawString(MARGIN, page.y, words["zone_note"].format(zone=view.zone))
    c.showPage()
    c.save()
    return buffer.getvalue()
