"""Page latency while a 10,000-row import runs as a job (issue 16, item 3), with real servers:
`PYTHONPATH=. python tests/bench/import_p95.py DATABASE_URL JOBS_FOLDER [VICTIMS]`
on an empty database (migrated and seeded with `flask seed-scale` here), or, with VICTIMS 0, on
one seeded before. gunicorn (4 workers) and
`flask jobs worker` run as `make run` / the README run them; four clients signed in as an advocate,
two on the victims list and two on the dashboard, load their page without pause, before, during and after the
import (`tests/vat/big_import.py`, posted through the form). The job's status, polled every 0.1 s,
splits the time into phases: idle, check (the rows read, checked and encrypted in a read-only
transaction) and save (from the check's last count to "finished": the one write transaction, and
the report). Prints one JSON line: p50, p95 and max per page and phase. A measurement, not a test."""

from __future__ import annotations

import json
import os
import statistics
import sys
import threading
import time
from datetime import date

from flask_migrate import upgrade

from tests.bench.conftest import cookie_of, session_user, signed_in_client
from tests.conftest import make_app
from tests.soak.conftest import Client, Server
from tests.soak.helpers import flask
from tests.soak.test_jobs import start_worker
from tests.vat.big_import import big_workbook
from vat.auth.models import Role

# VAT_IMPORT_P95_PAGES=/vat/victims: the list alone (at 100,000 victims a dashboard view takes
# seconds of CPU, which the list's clients then wait for too).
PAGES = tuple(os.environ.get("VAT_IMPORT_P95_PAGES", "/vat/victims,/").split(","))
CLIENTS = 4
WARM_SECONDS, IDLE_SECONDS = 5, 20  # the servers' first requests (templates compiled) are not counted


def main(url: str, folder: str, victims: int) -> None:
    os.environ["VAT_JOBS_FOLDER"] = folder  # the servers' and the worker's environment
    app = make_app(url, VAT_JOBS_IMMEDIATE=False, VAT_JOBS_FOLDER=folder)
    with app.app_context():
        upgrade(revision="heads")
    if victims:  # 0: a database seeded before (a copy of `make bench`'s, say)
        seeded = flask(url, "seed-scale", "--victims", str(victims))
        assert seeded.returncode == 0, seeded.stderr[-2000:]
    cookie = cookie_of(signed_in_client(app, session_user(app, Role.ADVOCATE)))
    server = Server(url, workers=4)
    server.start()
    worker = start_worker(url)
    samples: list[tuple[float, str, float]] = []  # (when it began, page, seconds)
    stop = threading.Event()

    def load(offset: int) -> None:
        client = Client(server.url)
        client.use_session_cookie(cookie.split("=", 1)[1])
        page = PAGES[offset % len(PAGES)]  # one page a client: a slow page does not starve the other
        while not stop.is_set():
            began = time.monotonic()
            code, _ = client.request(page)
            samples.append((began, page, time.monotonic() - began))
            assert code == 200, (page, code)

    threads = [threading.Thread(target=load, args=(i,), daemon=True) for i in range(CLIENTS)]
    try:
        uploader = Client(server.url)
        uploader.use_session_cookie(cookie.split("=", 1)[1])
        content = big_workbook(date.today()).getvalue()
        token = uploader.csrf_token("/vat/import")
        for thread in threads:
            thread.start()
        time.sleep(WARM_SECONDS)
        idle_began = time.monotonic()
        time.sleep(IDLE_SECONDS)
        posted = time.monotonic()
        fields = {"csrf_token": token, "kind": "victims"}
        assert uploader.post_file("/vat/import", fields, "file", "big.xlsx", content) == 303
        job = uploader.location.replace(server.url, "")
        save_began = None
        while True:
            _, body = uploader.request(f"{job}/status")
            now = json.loads(body)
            if (
                save_began is None
                and now["state"] == "running"
                and now["total"]
                and now["rows"] == now["total"]
            ):
                save_began = time.monotonic()
            if now["state"] in ("finished", "failed"):
                break
            time.sleep(0.1)
        finished = time.monotonic()
        assert now["state"] == "finished", now
        time.sleep(2)
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
        os.killpg(worker.pid, 9)  # a measurement: nothing to finish
        worker.wait(30)
        server.kill()
    save_began = save_began or finished
    phases = {"idle": (idle_began, posted), "check": (posted, save_began), "save": (save_began, finished)}
    figures: dict[str, object] = {"backend": url.split(":", 1)[0], "victims_seeded": victims}
    figures |= {f"{name}_seconds": round(end - start, 1) for name, (start, end) in phases.items()}
    for name, (start, end) in phases.items():
        for page in PAGES:
            taken = sorted(s for began, p, s in samples if p == page and start <= began < end)
            if len(taken) < 2:
                continue
            p95 = statistics.quantiles(taken, n=20, method="inclusive")[-1]  # never above the max
            figures[f"{name} {page}"] = {
                "n": len(taken),
                "p50_ms": round(statistics.median(taken) * 1000),
                "p95_ms": round(p95 * 1000),
                "max_ms": round(taken[-1] * 1000),
            }
    print(json.dumps(figures))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 5000)
