"""Uploaded spreadsheets, checked before any parser sees them.

An XLSX workbook is a zip archive: its central directory says how many members it holds and how
large each one unpacks, and Python's zipfile (which openpyxl reads through) never unpacks a member
past the size it declares. So limits on the declared sizes, checked first, bound what parsing can
cost: a "zip bomb" (a megabyte that unpacks to a gigabyte) is refused in milliseconds.

A CSV file's fields are bounded too: a field longer than the csv module's limit is a refusal that
names its line, not a crash.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from typing import IO

from flask_babel import lazy_gettext as _l

from vat.errors import DomainError

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
