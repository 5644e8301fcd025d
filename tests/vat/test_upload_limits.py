"""Uploads are checked before they are parsed (issue 15, item 7): a zip bomb dressed as a workbook,
a workbook of too many parts or packed too tightly, a sheet declaring a million rows, and a CSV
field past the csv module's limit are each refused with a clear 4xx, quickly and in little memory."""

from __future__ import annotations

import io
import re
import struct
import threading
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.conftest import row_count
from vat.auth.models import Role
from vat.victims import import_template
from vat.victims.models import Victim

VICTIMS_SHEET = "xl/worksheets/sheet2.xml"  # in the template: README is sheet1, victims sheet2
BOMB_CHUNK = 8 * 2**20
BOMB_CHUNKS = 128  # 1 GiB of "0" in one cell, about 1 MB packed


# --- building archives by hand (zipfile cannot take data already deflated) ---------------------


def deflated(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def archive(members: list[tuple[str, bytes, int, int]]) -> bytes:
    """A zip of (name, raw deflate data, CRC-32, unpacked size) members."""
    out, central = io.BytesIO(), io.BytesIO()
    for name, data, crc, size in members:
        encoded = name.encode()
        offset = out.tell()
        out.write(
            struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(data), size, len(encoded), 0)
        )
        out.write(encoded + data)
        central.write(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                *(0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(data), size, len(encoded)),
                *(0, 0, 0, 0, 0, offset),
            )
            + encoded
        )
    directory = central.getvalue()
    end = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(directory), out.tell(), 0
    )
    return out.getvalue() + directory + end


def template_members(leave_out: str = "") -> list[tuple[str, bytes, int, int]]:
    template = zipfile.ZipFile(import_template.template_workbook())
    return [
        (item.filename, deflated(data), zlib.crc32(data), len(data))
        for item in template.infolist()
        if item.filename != leave_out
        for data in [template.read(item)]
    ]


def bomb_sheet() -> tuple[str, bytes, int, int]:
    """The victims sheet: its header row, then one cell of a gigabyte of zeros. Deflate with a
    full flush before each chunk forgets the past, so one chunk's packed bytes serve for all."""
    head = (
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>case_code</t></is></c></row>'
        b'<row r="2"><c r="A2" t="inlineStr"><is><t>'
    )
    tail = b"</t></is></c></row></sheetData></worksheet>"
    chunk = b"0" * BOMB_CHUNK
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = packer.compress(head) + packer.flush(zlib.Z_FULL_FLUSH)
    block = packer.compress(chunk) + packer.flush(zlib.Z_FULL_FLUSH)
    end = packer.compress(tail) + packer.flush()
    crc = zlib.crc32(head)
    for _ in range(BOMB_CHUNKS):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(tail, crc)
    size = len(head) + BOMB_CHUNK * BOMB_CHUNKS + len(tail)
    return VICTIMS_SHEET, start + block * BOMB_CHUNKS + end, crc, size


@pytest.fixture(scope="module")
def bomb() -> bytes:
    from tests.conftest import TEST_SETTINGS
    from vat import create_app

    with create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": "sqlite://"}).app_context():
        members = template_members(leave_out=VICTIMS_SHEET)
    return archive([*members, bomb_sheet()])


# --- measuring ---------------------------------------------------------------------------------


def _status_kib(field: str) -> int:
    match = re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.M)
    assert match, field
    return int(match.group(1))


@contextmanager
def peak_growth() -> Iterator[dict[str, float]]:
    """The process's peak resident memory during the block, above what it held before (MB), and
    the seconds it took. Linux's peak counter is reset first; where that is not allowed, a thread
    samples the resident size every millisecond instead."""
    figures: dict[str, float] = {}
    before = _status_kib("VmRSS")
    sampled = [before]
    stop = threading.Event()
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current size
        sampler = None
    except OSError:

        def sample() -> None:
            while not stop.wait(0.001):
                sampled.append(_status_kib("VmRSS"))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
    started = time.perf_counter()
    yield figures
    figures["seconds"] = time.perf_counter() - started
    stop.set()
    if sampler is None:
        peak = _status_kib("VmHWM")
    else:
        sampler.join()
        peak = max(sampled)
    figures["megabytes"] = (peak - before) / 1024


def upload(client: FlaskClient, content: bytes, name: str, language: str = "en") -> Any:
    """Post the file as a browser does; the body is encoded in memory (the test client would spool
    a large one to a temporary file it never closes)."""
    boundary, body = encode_multipart({"kind": "victims", "file": FileStorage(io.BytesIO(content), name)})
    return client.post(
        "/vat/import",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers={"Accept-Language": language},
    )


def victims(app: Flask) -> int:
    return row_count(app, Victim)


# --- the tests ---------------------------------------------------------------------------------


def test_a_zip_bomb_is_refused_in_under_a_second_and_little_memory(
    app: Flask, client: FlaskClient, login: Callable[..., Any], bomb: bytes
) -> None:
    assert 0.5 * 2**20 < len(bomb) < 2 * 2**20  # about a megabyte, within the 2 MB upload limit
    assert sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(bomb)).infolist()) > 2**30
    login(Role.ADVOCATE, "CAF")
    with peak_growth() as used:
        response = upload(client, bomb, "bomb.xlsx")
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "This workbook unpacks to 1024 MB; at most 64 MB are read." in page
    assert used["seconds"] < 1.0, used
    assert used["megabytes"] < 50, used
    assert victims(app) == 0
    seconds, megabytes = used["seconds"], used["megabytes"]
    print(f"zip bomb ({len(bomb) / 2**20:.2f} MB → 1 GiB): {seconds * 1000:.0f} ms, +{megabytes:.1f} MB")


def test_a_workbook_of_too_many_parts_is_refused(
    client: FlaskClient, login: Callable[..., Any], app: Flask
) -> None:
    with app.app_context():
        members = template_members()
    extra = [(f"xl/media/image{n}.png", deflated(b"x"), zlib.crc32(b"x"), 1) for n in range(600)]
    login(Role.ADVOCATE, "CAF")
    response = upload(client, archive(members + extra), "parts.xlsx")
    assert response.status_code == 413
    assert "too many parts" in response.get_data(as_text=True)


def test_a_member_packed_tighter_than_any_spreadsheet_is_refused(
    client: FlaskClient, login: Callable[..., Any], app: Flask
) -> None:
    """Small enough overall (8 MB unpacked), but a thousand times packed: no sheet looks like that."""
    with app.app_context():
        members = template_members(leave_out=VICTIMS_SHEET)
    zeros = b"<worksheet>" + b"0" * (8 * 2**20) + b"</worksheet>"
    login(Role.ADVOCATE, "CAF")
    response = upload(
        client,
        archive([*members, (VICTIMS_SHEET, deflated(zeros), zlib.crc32(zeros), len(zeros))]),
        "tight.xlsx",
    )
    assert response.status_code == 413
    assert "packed tighter than any spreadsheet" in response.get_data(as_text=True)


def test_an_archive_that_is_no_workbook_is_refused_with_422(
    client: FlaskClient, login: Callable[..., Any]
) -> None:
    login(Role.ADVOCATE, "CAF")
    response = upload(client, b"PK\x03\x04 not really a zip", "broken.xlsx")
    assert response.status_code == 422
    assert "This file is not a readable XLSX workbook." in response.get_data(as_text=True)


def row_xml(number: int, *texts: str) -> bytes:
    cells = "".join(
        f'<c r="{column}{number}" t="inlineStr"><is><t>{text}</t></is></c>'
        for column, text in zip("AB", texts, strict=False)
    )
    return f'<row r="{number}">{cells}</row>'.encode()


def sheet_upload(client: FlaskClient, app: Flask, rows: bytes, extent: str) -> Any:
    sheet = (
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + f'<dimension ref="{extent}"/><sheetData>'.encode()
        + rows
        + b"</sheetData></worksheet>"
    )
    with app.app_context():
        members = template_members(leave_out=VICTIMS_SHEET)
    content = archive([*members, (VICTIMS_SHEET, deflated(sheet), zlib.crc32(sheet), len(sheet))])
    return upload(client, content, "wide.xlsx")


def test_one_far_cell_cannot_make_a_million_rows(
    app: Flask, client: FlaskClient, login: Callable[..., Any]
) -> None:
    """An 8 KB workbook whose sheet holds a cell at XFD1048576: every row between counted as a
    blank row 16,384 cells wide — over 300 s before (stopped there); now refused at the row limit."""
    far = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t> </t></is></c></row>'
    rows = row_xml(1, "case_code", "country_code") + row_xml(2, "CAR-2016-0101", "CAF") + far
    login(Role.ADVOCATE, "CAF")
    with peak_growth() as used:
        response = sheet_upload(client, app, rows, "A1:XFD1048576")
    # The rows are read by the import's job (run at once in tests), which reports the refusal.
    assert response.status_code == 303
    assert "Import at most 10000 rows at a time." in client.get(response.location).get_data(as_text=True)
    assert used["seconds"] < 2.0 and used["megabytes"] < 50, used
    assert victims(app) == 0


def test_a_sheet_declaring_a_large_extent_reads_the_rows_it_holds(
    app: Flask, client: FlaskClient, login: Callable[..., Any]
) -> None:
    rows = row_xml(1, "case_code", "country_code") + row_xml(2, "CAR-2016-0101", "CAF")
    login(Role.ADVOCATE, "CAF")
    response = sheet_upload(client, app, rows, "A1:XFD1048576")
    assert response.status_code == 303  # read by the import's job (run at once in tests)
    assert "1 victims created" in client.get(response.location).get_data(as_text=True)


def test_a_csv_field_over_the_limit_answers_422_naming_its_line(
    app: Flask, client: FlaskClient, login: Callable[..., Any]
) -> None:
    content = (
        b"case_code,country_code,notes\nCAR-2016-0102,CAF,ok\nCAR-2016-0103,CAF," + b"n" * 131_073 + b"\n"
    )
    login(Role.ADVOCATE, "CAF")
    response = upload(client, content, "long.csv")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Line 3 of the CSV file cannot be read: a field over 131072 characters" in page
    assert victims(app) == 0


def test_refusals_are_in_the_readers_language(client: FlaskClient, login: Callable[..., Any]) -> None:
    login(Role.ADVOCATE, "CAF")
    content = b"case_code\n" + b"n" * 131_073 + b"\n"
    for language, expected in (("fr", "Ligne 2"), ("zh", "第 2 行")):
        response = upload(client, content, "long.csv", language)
        assert response.status_code == 422 and expected in response.get_data(as_text=True), language


def test_only_an_editor_may_upload(client: FlaskClient, login: Callable[..., Any], bomb: bytes) -> None:
    login(Role.FUND_MANAGER, "")
    assert upload(client, bomb, "bomb.xlsx").status_code == 403
