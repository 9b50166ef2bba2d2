"""`exchange invite --exchange SLUG invitees.csv`: invite a list from a spreadsheet.

Columns: email, full_name, country, locale (locale optional). Rows go through the same
service as the API, in chunks of ``invitees_per_call``; rows it refuses are written with
their reasons to ``<file>.rejected.csv`` next to the input, so the list can be fixed and
imported again (addresses already invited are returned, not invited twice)."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from exchange.access import Actor, Role
from exchange.errors import DomainError
from exchange.invitations.invite import Invitee, InviteRequest, invite_volunteers
from exchange.models import Exchange
from exchange.settings import Settings
from exchange.spreadsheets import csv_writer, restored

COLUMNS = ("email", "full_name", "country", "locale")
# Spreadsheets set to Kazakh or Russian save "CSV" with semicolons (the comma is their decimal
# mark); a list pasted from a table comes with tabs.
DELIMITERS = (",", ";", "\t")
# The operator at the console acts for the host, like a platform admin.
CLI_ACTOR = Actor(Role.ADMIN, key_id="cli")


class CsvImportError(Exception):
    """The file or the exchange cannot be used at all (nothing was imported)."""


@dataclass
class RejectedRow:
    line: int
    row: dict[str, str]
    reasons: list[str]


@dataclass
class ImportSummary:
    rows: int = 0
    invited: int = 0
    already_invited: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)
    rejected_file: Path | None = None

    def __str__(self) -> str:
        text = (
            f"{self.rows} rows: {self.invited} invited, {self.already_invited} already invited, "
            f"{len(self.rejected)} rejected"
        )
        if self.rejected_file is not None:
            text += f" (reasons in {self.rejected_file})"
        return text


_API_FIELD = {"full_name": "fullName"}
_BY_LETTERS = {column.replace("_", ""): column for column in COLUMNS}


def _column(name: str) -> str:
    """'Full Name', 'fullname', 'E-mail' name full_name and email: letters count, case and separators not."""
    letters = "".join(name.replace("-", " ").replace("_", " ").lower().split())
    return _BY_LETTERS.get(letters, name.strip().lower())


def _dialect(path: Path) -> tuple[str, bool]:
    """The file's delimiter and whether it starts with a byte-order mark."""
    with path.open("rb") as handle:
        head = handle.readline()
    # The header names no delimiter, so the one it holds most of is the file's (ties: comma).
    header_line = head.decode("utf-8", errors="replace")
    return max(DELIMITERS, key=header_line.count), head.startswith(codecs.BOM_UTF8)


def _text(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise CsvImportError(
            f"{path}: not UTF-8 text (line {line} has the byte 0x{raw[error.start]:02x}); "
            'save the list as "CSV UTF-8" and import it again. Nothing was imported.'
        ) from None


def read_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    delimiter, _ = _dialect(path)
    reader = csv.DictReader(io.StringIO(_text(path), newline=""), delimiter=delimiter)
    try:
        header = [_column(name) for name in reader.fieldnames or []]
        missing = [name for name in COLUMNS[:3] if name not in header]
        if missing:
            raise CsvImportError(
                f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(COLUMNS)}"
            )
        reader.fieldnames = header
        rows = []
        for row in reader:
            cleaned = {key: restored((value or "").strip()) for key, value in row.items() if key in COLUMNS}
            if any(cleaned.values()):
                rows.append((reader.line_num, cleaned))
        return rows
    except csv.Error as error:  # e.g. a cell over the csv module's size limit
        raise CsvImportError(f"{path}, line {reader.line_num}: {error}. Nothing was imported.") from None


def _nul_problems(row: dict[str, str]) -> list[str]:
    # The API refuses U+0000 (BAD_USER_INPUT) and PostgreSQL cannot store it in text: sent on,
    # it failed the whole chunk of rows with a driver error.
    # Named like the API's fields, as the service's reasons are ("fullName: ...").
    return [
        f"{_API_FIELD.get(column, column)}: contains a NUL character (U+0000)."
        for column, value in row.items()
        if "\0" in value
    ]


def _invitee(row: dict[str, str]) -> Invitee:
    return Invitee(
        email=row.get("email", ""),
        full_name=row.get("full_name", ""),
        country=row.get("country", "").upper(),
        locale=row.get("locale", "").lower() or None,
    )


def _write_rejected(path: Path, rejected: Sequence[RejectedRow]) -> Path:
    target = path.with_name(path.stem + ".rejected.csv")
    # Written as the list came (delimiter, byte-order mark), so the spreadsheet that saved it
    # opens the rejected rows in columns and with Cyrillic intact.
    delimiter, bom = _dialect(path)
    with target.open("w", newline="", encoding="utf-8-sig" if bom else "utf-8") as handle:
        writer = csv_writer(handle, delimiter=delimiter)
        writer.writerow(["line", *COLUMNS, "reasons"])
        for item in rejected:
            writer.writerow(
                [item.line, *(item.row.get(name, "") for name in COLUMNS), "; ".join(item.reasons)]
            )
    return target


async def import_csv(
    settings: Settings, exchange_slug: str, path: Path, *, console: Console | None = None
) -> ImportSummary:
    exchange = await Exchange.get_or_none(slug=exchange_slug)
    if exchange is None:
        raise CsvImportError(f"No exchange with the slug {exchange_slug!r}.")
    rows = read_rows(path)
    summary = ImportSummary(rows=len(rows))
    for line, row in rows:
        if nul_problems := _nul_problems(row):
            # Written with U+FFFD where the NUL was, so the spreadsheet shows the place to fix.
            shown = {column: value.replace("\0", "\ufffd") for column, value in row.items()}
            summary.rejected.append(RejectedRow(line, shown, nul_problems))
    rows = [(line, row) for line, row in rows if not _nul_problems(row)]
    chunk_size = max(1, settings.invitees_per_call)
    console = console or Console(stderr=True)
    progress = Progress(
        TextColumn("Inviting"), BarColumn(), MofNCompleteColumn(), console=console, transient=True
    )
    with progress:
        task = progress.add_task("invite", total=len(rows))
        for start in range(0, len(rows), chunk_size):
            chunk = rows[start : start + chunk_size]
            request = InviteRequest(exchange_id=exchange.id, invitees=[_invitee(row) for _, row in chunk])
            try:
                result = await invite_volunteers(CLI_ACTOR, settings, request)
            except DomainError as error:
                # The whole call was refused (e.g. the exchange is not open): every row shares the reason.
                reason = "; ".join(problem.message for problem in error.problems)
                summary.rejected.extend(RejectedRow(line, row, [reason]) for line, row in chunk)
                progress.advance(task, len(chunk))
                continue
            reasons: dict[int, list[str]] = {}
            for problem in result.problems:
                index = int(problem.field[1]) if problem.field and len(problem.field) > 1 else 0
                column = problem.field[2] if problem.field and len(problem.field) > 2 else ""
                reasons.setdefault(index, []).append(
                    f"{column}: {problem.message}" if column else problem.message
                )
            for index, (line, row) in enumerate(chunk):
                if index in reasons:
                    summary.rejected.append(RejectedRow(line, row, reasons[index]))
            for invitation in result.invitations:
                if invitation.id in result.created_ids:
                    summary.invited += 1
                else:
                    summary.already_invited += 1
            progress.advance(task, len(chunk))
    if summary.rejected:
        summary.rejected.sort(key=lambda item: item.line)
        summary.rejected_file = _write_rejected(path, summary.rejected)
    return summary
