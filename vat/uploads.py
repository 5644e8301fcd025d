"""Uploaded spreadsheets, checked before any parser sees them.

An XLSX workbook is a zip archive: its central directory says how many members it holds and how
large each one unpacks, and Python's zipfile (which openpyxl reads through) never unpacks a member
past the size it declares. So limits on the declared sizes, checked first, bound what parsing can
cost: a "zip bomb" (a megabyte that unpacks to a gigabyte) is refused in milliseconds.

A CSV file's fields are bounded too: a field longer than the csv module's limit is a refusal that
names its line, not a crash.

`read_table` reads a file of one table (a CSV file, or a workbook's first sheet) as the ledger's
imports take it: every filled row with its number, cells as written; `LinesRefused` carries every
error of every row at once.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any
from xml.etree.ElementTree import ParseError  # nosec B405  # the class only: openpyxl parses with defusedxml

from flask_babel import lazy_gettext as _l
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from vat.errors import DomainError
from vat.inputs import InvalidField

MAX_MEMBERS = 500  # a workbook of the import's four sheets holds about 15
MAX_UNPACKED = 64 * 1024 * 1024  # all members together, as declared: 10,000 rows need a few MB
MAX_RATIO = 200  # unpacked / packed, for a member over a megabyte (sheet XML packs 5 to 30 times)
RATIO_FROM = 1024 * 1024
MAX_CSV_FIELD = 131_072  # the csv module's own limit, said in the refusal


class UploadRefused(DomainError):
    """The file is refused as a whole, before any row is read (HTTP 422)."""

    status = 422


class UploadTooLarge(UploadRefused):
    """The file would unpack to more than the limits allow (HTTP 413)."""

    status = 413


def check_workbook(stream: IO[bytes]) -> None:
    """Refuse an XLSX upload whose archive is unreadable, or too large once unpacked, before
    openpyxl opens it; leave the stream at its start."""
    try:
        with zipfile.ZipFile(stream) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise UploadRefused(_l("This file is not a readable XLSX workbook.")) from error
    finally:
        stream.seek(0)
    if len(members) > MAX_MEMBERS:
        raise UploadTooLarge(_l("This workbook holds too many parts (at most %(limit)s).", limit=MAX_MEMBERS))
    unpacked = sum(member.file_size for member in members)
    if unpacked > MAX_UNPACKED:
        raise UploadTooLarge(
            _l(
                "This workbook unpacks to %(size)s MB; at most %(limit)s MB are read. Split it.",
                size=unpacked // 2**20,
                limit=MAX_UNPACKED // 2**20,
            )
        )
    for member in members:
        if member.file_size > RATIO_FROM and member.file_size > MAX_RATIO * max(member.compress_size, 1):
            raise UploadTooLarge(_l("This workbook is packed tighter than any spreadsheet; it is refused."))


def csv_rows(text: str) -> Iterator[list[str]]:
    """The rows of a CSV text; UploadRefused naming the line where a field is too long (or holds
    a NUL character), instead of the csv module's error."""
    reader = csv.reader(io.StringIO(text))
    try:
        yield from reader
    except csv.Error as error:
        raise UploadRefused(
            _l(
                "Line %(line)s of the CSV file cannot be read: a field over %(limit)s characters, or a NUL.",
                line=reader.line_num,
                limit=MAX_CSV_FIELD,
            )
        ) from error


# --- a file of one table ---------------------------------------------------------------------


@dataclass(frozen=True)
class LineError:
    row: int  # the spreadsheet's row number (the header is row 1); 0 for the file as a whole
    column: str
    message: str


class LinesRefused(DomainError):
    """The file has refused rows: nothing was imported; `errors` names each."""

    def __init__(self, errors: list[LineError]) -> None:
        super().__init__(_l("%(count)s errors in the file: nothing was imported.", count=len(errors)))
        self.errors = errors


def table_rows(filename: str, stream: IO[bytes]) -> Iterator[Iterable[Any]]:
    """The rows of a CSV file, or of a workbook's first sheet, header included."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        check_workbook(stream)  # declared sizes first, before openpyxl unpacks anything
        try:
            workbook = load_workbook(stream, read_only=True, data_only=True)
        except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError, ParseError) as error:
            raise UploadRefused(_l("This file is not a readable XLSX workbook.")) from error
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # rows as wide as they are, not as the declared extent
        try:
            yield from sheet.iter_rows(values_only=True)
        except (ParseError, ValueError) as error:  # defusedxml's refusals of entities are ValueErrors
            raise UploadRefused(_l("This file is not a readable XLSX workbook.")) from error
        finally:
            workbook.close()
        return
    if name.endswith(".csv"):
        try:
            text = stream.read().decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise UploadRefused(_l("Save the CSV file as UTF-8.")) from error
        yield from csv_rows(text)
        return
    raise UploadRefused(_l("Upload a .csv or .xlsx file."))


def read_table(
    filename: str, stream: IO[bytes], *, limit: int
) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    """The header's column names (lower case, spaces as underscores) and the filled rows, each
    with its row number, as {column: cell}; UploadRefused for an unreadable file or more than
    `limit` rows. The caller checks the columns."""
    table = table_rows(filename, stream)
    header = [str(cell or "").strip().lower().replace(" ", "_") for cell in next(table, None) or []]
    rows: list[tuple[int, dict[str, Any]]] = []
    for number, cells in enumerate(table, start=2):
        row = {header[i]: cell for i, cell in enumerate(cells) if i < len(header) and header[i]}
        if all(cell in (None, "") for cell in row.values()):
            continue
        if len(rows) == limit:
            raise UploadRefused(_l("Import at most %(limit)s lines at a time.", limit=limit))
        rows.append((number, row))
    return header, rows


def cell_text(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float):  # a workbook's number cell: its shortest decimal form, never a sum
        return repr(int(cell)) if cell.is_integer() else repr(cell)
    if isinstance(cell, datetime):
        return cell.date().isoformat()
    return str(cell).strip()


def cell_date(column: str, cell: Any) -> date | None:
    """A date cell (a workbook's date, or text written YYYY-MM-DD); None if empty."""
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date) or cell in (None, ""):
        return cell or None
    try:
        return date.fromisoformat(cell_text(cell))
    except ValueError as error:
        raise InvalidField(column, _l("Write dates as YYYY-MM-DD.")) from error
