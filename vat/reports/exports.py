"""Exports that are safe to open in a spreadsheet (S17): CSV streamed row by row through the csv
module, XLSX through openpyxl's write-only mode into a temporary file that is then streamed back
in blocks (memory stays flat however many rows). A text cell that a spreadsheet would read as a
formula (starting with =, +, -, @, tab, CR or NUL) gets a leading apostrophe; numbers, dates and
Decimals stay typed, so a negative amount is still a number. Bidirectional-override characters
(CVE-2021-42574) are removed from text."""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import IO, Any

from openpyxl import Workbook

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\0")
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
# Control characters a worksheet cannot hold (the XML forbids them); shown as U+FFFD instead.
XLSX_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
Cell = str | int | Decimal | date | datetime | None


def neutralise(value: Any) -> Cell:
    """The cell as it should be written: text made inert, numbers and dates unchanged."""
    if value is None or isinstance(value, bool):
        return None if value is None else ("yes" if value else "no")
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)  # spreadsheets have no time zones
    if isinstance(value, int | Decimal | date):
        return value
    if isinstance(value, float):
        raise TypeError("exports take Decimal, never float")
    text = BIDI_CONTROLS.sub("", str(value))
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]], *, bom: bool = True) -> Iterator[str]:
    """CSV text, one line at a time; a file starts with a BOM so spreadsheets read it as UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in header])
    yield ("\ufeff" if bom else "") + buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(["" if (cell := neutralise(v)) is None else cell for v in row])
        yield buffer.getvalue()


Sheets = Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any]]]]
BLOCK = 64 * 1024


def xlsx_file(sheets: Sheets) -> IO[bytes]:
    """A workbook of one or more (title, header, rows) sheets, written in write-only mode (each
    sheet goes to disk row by row) into an anonymous temporary file, rewound. The caller closes it
    (closing removes it)."""
    workbook = Workbook(write_only=True)
    used: set[str] = set()
    for title, header, rows in sheets:
        sheet = workbook.create_sheet(title=_unique_title(_sheet_title(title), used))
        sheet.append([_xlsx_cell(neutralise(h)) for h in header])
        for row in rows:
            sheet.append([_xlsx_cell(neutralise(v)) for v in row])
    output = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - handed to the caller
    try:
        workbook.save(output)
    except BaseException:
        output.close()
        raise
    output.seek(0)
    return output


def xlsx_bytes(sheets: Sheets) -> bytes:
    """The same workbook as bytes, for small files that are kept whole (e.g. encrypted first)."""
    with xlsx_file(sheets) as output:
        return output.read()


def file_size(handle: IO[bytes]) -> int:
    return os.fstat(handle.fileno()).st_size


def blocks(handle: IO[bytes]) -> Iterator[bytes]:
    """The file in blocks, closed (and so removed) at the end or when the download is abandoned."""
    try:
        while block := handle.read(BLOCK):
            yield block
    finally:
        handle.close()


def _xlsx_cell(value: Cell) -> Cell:
    return XLSX_ILLEGAL.sub("\ufffd", value) if isinstance(value, str) else value


def _unique_title(title: str, used: set[str]) -> str:
    """A title no other sheet has, within 31 characters: two translated titles may share their
    first 31 (openpyxl's own suffix would make one longer than spreadsheet programs read)."""
    unique, number = title, 1
    while unique.casefold() in used:
        number += 1
        unique = f"{title[: 31 - len(str(number)) - 1]} {number}"
    used.add(unique.casefold())
    return unique


def _sheet_title(title: str) -> str:
    cleaned = re.sub(r"[\[\]:*?/\\']", " ", str(neutralise(title) or "Sheet")).strip()
    return (cleaned or "Sheet")[:31]
