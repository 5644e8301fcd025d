"""Peak RSS growth while exporting the per-victim report for every victim, in a fresh process:
`python tests/bench/export_rss.py DATABASE_URL csv|xlsx|raw-csv`. Prints one JSON line.

`csv` and `xlsx` go through the app as the report's button does: the export job started from its
page and run in this process (Huey's immediate mode, so the growth and the time are the worker's),
then its file consumed chunk by chunk as a server would send it; `raw-csv` is the reference: the
hand-written SQL through the bare driver, fetched in batches and written with the csv module. Each
mode writes to a file on disk and counts the victims' rows it wrote once the measure is taken."""

from __future__ import annotations

import csv
import io
import json
import sys
import tempfile
import time
from datetime import date, timedelta
from typing import BinaryIO

from openpyxl import load_workbook

from tests.bench.conftest import peak_rss_mb, session_user, signed_in_client
from tests.bench.sql import support_sql
from tests.conftest import make_app
from tests.reports.conftest import exported
from vat.auth.models import Role
from vat.db import db


def main(url: str, mode: str) -> None:
    app = make_app(url)
    client = signed_in_client(app, session_user(app, Role.SENIOR_ADVOCATE))
    assert client.get("/reports/victims").status_code == 200  # imports and caches warmed
    backend = "sqlite" if url.startswith("sqlite") else "postgres"
    before = peak_rss_mb()
    started = time.perf_counter()
    size = 0
    with tempfile.TemporaryFile() as written:  # on disk, so that keeping it costs no memory
        if mode == "raw-csv":
            since = date.today() - timedelta(days=int(app.config["VAT_NO_UPDATE_DAYS"]))
            sql, params = support_sql(backend, since.isoformat() if backend == "sqlite" else since)
            with app.app_context():
                connection = db.engine.raw_connection()
                cursor = connection.cursor()
                cursor.execute(sql, params)
                buffer = io.StringIO()
                writer = csv.writer(buffer)
                while batch := cursor.fetchmany(1000):
                    writer.writerows(batch)
                    size += written.write(buffer.getvalue().encode())
                    buffer.seek(0)
                    buffer.truncate()
                connection.close()
        else:
            response = exported(client, mode)
            assert response.status_code == 200, response.status_code
            for chunk in response.response:
                size += written.write(chunk if isinstance(chunk, bytes) else chunk.encode())
            response.close()
        elapsed = time.perf_counter() - started
        growth = peak_rss_mb() - before
        written.seek(0)
        rows = data_rows(written, mode)
    print(json.dumps({"mode": mode, "rows": rows, "bytes": size, "seconds": elapsed, "growth_mb": growth}))


def data_rows(written: BinaryIO, mode: str) -> int:
    """The rows of victims in what was written, read back once the measure is taken."""
    if mode == "xlsx":
        sheet = load_workbook(written, read_only=True).worksheets[0]
        return sum(1 for _ in sheet.iter_rows()) - 1  # the header
    lines = csv.reader(io.TextIOWrapper(written, encoding="utf-8-sig", newline=""))
    return sum(1 for _ in lines) - (0 if mode == "raw-csv" else 1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
