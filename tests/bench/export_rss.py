"""Peak RSS growth while exporting the per-victim report for every victim, in a fresh process:
`python tests/bench/export_rss.py DATABASE_URL csv|xlsx|raw-csv`. Prints one JSON line.

`csv` and `xlsx` go through the app (the export view, response consumed chunk by chunk as a
server would send it); `raw-csv` is the reference: the hand-written SQL through the bare driver,
fetched in batches and written with the csv module."""

from __future__ import annotations

import csv
import io
import json
import resource
import sys
import time
from datetime import date, timedelta

from tests.bench.conftest import session_user, signed_in_client
from tests.bench.sql import support_sql
from tests.conftest import make_app
from vat.auth.models import Role
from vat.db import db


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(url: str, mode: str) -> None:
    app = make_app(url)
    client = signed_in_client(app, session_user(app, Role.SENIOR_ADVOCATE))
    assert client.get("/reports/victims").status_code == 200  # imports and caches warmed
    backend = "sqlite" if url.startswith("sqlite") else "postgres"
    before = peak_mb()
    started = time.perf_counter()
    size = rows = 0
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
                for row in batch:
                    writer.writerow(row)
                    rows += 1
                size += len(buffer.getvalue())
                buffer.seek(0)
                buffer.truncate()
            connection.close()
    else:
        response = client.get(f"/reports/victims/export.{mode}", buffered=False)
        assert response.status_code == 200, response.status_code
        for chunk in response.response:
            size += len(chunk)
            if mode == "csv":
                rows += chunk.count(b"\r\n") if isinstance(chunk, bytes) else chunk.count("\r\n")
        response.close()
        rows = rows - 1 if mode == "csv" else -1
    elapsed = time.perf_counter() - started
    print(
        json.dumps(
            {"mode": mode, "rows": rows, "bytes": size, "seconds": elapsed, "growth_mb": peak_mb() - before}
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
