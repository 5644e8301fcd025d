"""The 10,000-row import as a job, timed:
`PYTHONPATH=. python tests/bench/import_timing.py DATABASE_URL JOBS_FOLDER`
on an empty database, migrated here (the figures of docs/reliability.md). Prints one JSON line: how
long `POST /vat/import` took to answer, how long the job ran as the worker runs it, and its parts
(read, check and encrypt, save: the write transaction's length), from the job's log line."""

from __future__ import annotations

import io
import json
import logging
import re
import sys
import time
from datetime import date

from flask_migrate import upgrade

from tests.bench.conftest import session_user, signed_in_client
from tests.conftest import make_app
from tests.vat.big_import import big_workbook
from vat import jobs
from vat.auth.models import Role


class Timings(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.parts: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        self.parts |= {k: float(v) for k, v in re.findall(r"(\w+) ([\d.]+)s", record.getMessage())}


def main(url: str, folder: str) -> None:
    app = make_app(url, VAT_JOBS_IMMEDIATE=False, VAT_JOBS_FOLDER=folder)
    with app.app_context():
        upgrade(revision="heads")
    timings = Timings()
    logger = logging.getLogger("vat.victims.import_job")
    logger.setLevel(logging.INFO)
    logger.addHandler(timings)
    client = signed_in_client(app, session_user(app, Role.ADVOCATE))
    content = big_workbook(date.today()).getvalue()
    started = time.perf_counter()
    response = client.post(
        "/vat/import",
        data={"kind": "victims", "file": (io.BytesIO(content), "big.xlsx")},
        content_type="multipart/form-data",
    )
    answered = time.perf_counter() - started
    assert response.status_code == 303, response.status_code
    queue = jobs.queue_of(app)
    started = time.perf_counter()
    queue.execute(queue.dequeue())
    ran = time.perf_counter() - started
    status = client.get(f"{response.location}/status").get_json()
    assert status["state"] == "finished", status
    print(json.dumps({"rows": status["rows"], "post_seconds": answered, "job_seconds": ran, **timings.parts}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
