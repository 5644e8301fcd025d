"""Page and booking latency while a 10,000-row import runs as a job (issue 16, item 3), with real
servers: `PYTHONPATH=. python tests/bench/import_p95.py DATABASE_URL JOBS_FOLDER [VICTIMS]`
on an empty database (migrated and seeded with `flask seed-scale` here), or, with VICTIMS 0, on
one seeded before (a scratch copy: the run books receipts and imports 10,000 rows into it).
gunicorn (4 workers) and `flask jobs worker` run as `make run` / the README run them; clients
signed in as an advocate load their page without pause (the victims list, and victims' own pages,
which audit the identity they show and so write), and clients signed in as a fund manager post
receipts through the donor's receipt form, each with a fresh idempotency key, before, during and
after the import (`tests/vat/big_import.py`, posted through the form). The job's status, polled
every 0.1 s, splits the time into phases: idle, check (the rows read, checked and encrypted in a
read-only transaction) and save (from the check's last count to "finished": the one write
transaction, and the report). Afterwards every receipt answered 302 must be in the ledger once,
and the ledger's postings must add up to zero per currency. Prints one JSON line: every answer's
status per client kind, and p50, p95 and max per kind and phase. A measurement, not a test."""

from __future__ import annotations

import json
import os
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import date

from flask_migrate import upgrade
from sqlalchemy import func, select

from ledger.models import Donor, Entry, Posting
from ledger.services import ledger_import
from tests.bench.conftest import cookie_of, session_user, signed_in_client
from tests.conftest import make_app
from tests.soak.conftest import Client, Server
from tests.soak.helpers import Fund, connected, flask, open_fund, post_receipt
from tests.soak.test_jobs import start_worker
from tests.vat.big_import import big_workbook
from vat.auth.models import Role
from vat.db import db
from vat.victims.models import Victim

# The clients, one kind each (a slow page does not starve another): VAT_IMPORT_P95_CLIENTS, say
# "list,list,victim,booking" (default). "dashboard" adds /, which at 100,000 victims takes
# seconds of CPU a view (its clients then slow every other).
KINDS = tuple(os.environ.get("VAT_IMPORT_P95_CLIENTS", "list,list,victim,booking").split(","))
# VAT_IMPORT_P95_FILE=ledger: a fund manager imports 2,000 rows of the fund's history instead
# (`ledger_history`), which the job books under the ledger's lock from its first row: its "save"
# is the whole time the job runs.
LEDGER = os.environ.get("VAT_IMPORT_P95_FILE") == "ledger"
PAGES = {"list": "/vat/victims", "dashboard": "/"}
WARM_SECONDS, IDLE_SECONDS = 5, 20  # the servers' first requests (templates compiled) are not counted


def main(url: str, folder: str, victims: int) -> None:
    os.environ["VAT_JOBS_FOLDER"] = folder  # the servers' and the worker's environment
    app = make_app(url, VAT_JOBS_IMMEDIATE=False, VAT_JOBS_FOLDER=folder)
    with app.app_context():
        upgrade(revision="heads")
    if victims:  # 0: a database seeded before (a copy of `make bench`'s, say)
        seeded = flask(url, "seed-scale", "--victims", str(victims))
        assert seeded.returncode == 0, seeded.stderr[-2000:]
    advocate = cookie_of(signed_in_client(app, session_user(app, Role.ADVOCATE))).split("=", 1)[1]
    manager_id = session_user(app, Role.FUND_MANAGER, scope="")
    manager = cookie_of(signed_in_client(app, manager_id)).split("=", 1)[1]
    with app.app_context():  # a donor of the seeded fund's receives the receipts
        donor_id = db.session.scalar(select(Donor.id).order_by(Donor.id).limit(1))
    fund = open_fund(url, manager_id) if donor_id is None else Fund(donor_id, 0)
    with app.app_context():
        victim_ids = list(db.session.scalars(select(Victim.id).order_by(Victim.id).limit(200)))
        db.session.remove()
        db.engine.dispose()
    server = Server(url, workers=4)
    server.start()
    worker = start_worker(url)
    # (when it began, client kind, seconds, status, idempotency key or "")
    samples: list[tuple[float, str, float, int, str]] = []
    stop = threading.Event()

    def load(kind: str, offset: int) -> None:
        client = Client(server.url)
        client.use_session_cookie(manager if kind == "booking" else advocate)
        token = client.csrf_token(f"/ledger/donors/{fund.donor_id}/receipt") if kind == "booking" else ""
        n = offset
        while not stop.is_set():
            n += 1
            key = uuid.uuid4().hex if kind == "booking" else ""
            began = time.monotonic()
            if kind == "booking":
                code = post_receipt(client, fund, key, token)
            else:
                page = PAGES.get(kind) or f"/vat/victims/{victim_ids[n * 7 % len(victim_ids)]}"
                code, _ = client.request(page)
            samples.append((began, kind, time.monotonic() - began, code, key))

    threads = [threading.Thread(target=load, args=(k, i), daemon=True) for i, k in enumerate(KINDS)]
    try:
        uploader = Client(server.url)
        uploader.use_session_cookie(manager if LEDGER else advocate)
        form, filename = ("/ledger/import", "history.csv") if LEDGER else ("/vat/import", "big.xlsx")
        content = ledger_history() if LEDGER else big_workbook(date.today()).getvalue()
        token = uploader.csrf_token(form)
        for thread in threads:
            thread.start()
        time.sleep(WARM_SECONDS)
        idle_began = time.monotonic()
        load = {"idle": os.getloadavg()[0]}
        time.sleep(IDLE_SECONDS)
        posted = time.monotonic()
        load["check"] = os.getloadavg()[0]
        fields = {"csrf_token": token} if LEDGER else {"csrf_token": token, "kind": "victims"}
        for _ in range(5):  # the form answers 503 "try again" after a wait for other writers
            answer = uploader.post_file(form, fields, "file", filename, content)
            if answer != 503:
                break
        assert answer == 303, answer
        job = uploader.location.replace(server.url, "")
        save_began = None
        polled: Counter[int] = Counter()  # the status page's answers (503 while a writer waits)
        while True:
            code, body = uploader.request(f"{job}/status")
            polled[code] += 1
            if code != 200:
                time.sleep(0.1)
                continue
            now = json.loads(body)
            if (
                save_began is None
                and now["state"] == "running"
                and (LEDGER or (now["total"] and now["rows"] == now["total"]))
            ):
                save_began = time.monotonic()
                load["save"] = os.getloadavg()[0]
            if now["state"] in ("finished", "failed"):
                break
            time.sleep(0.1)
        finished = time.monotonic()
        load["finished"] = os.getloadavg()[0]
        time.sleep(5)
        after_ended = time.monotonic()
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
        os.killpg(worker.pid, 9)  # a measurement: nothing to finish
        worker.wait(30)
        server.kill()
    save_began = save_began or finished
    phases = {
        "idle": (idle_began, posted),
        "check": (posted, save_began),
        "save": (save_began, finished),
        "after": (finished, after_ended),
    }
    figures: dict[str, object] = {"backend": url.split(":", 1)[0], "victims_seeded": victims}
    figures["file"] = "ledger history, 2,000 rows" if LEDGER else "victims, 10,000 rows"
    figures["load_1min"] = load
    figures["import"] = {k: now.get(k) for k in ("state", "rows", "total")} | {"polled": dict(polled)}
    figures |= {f"{name}_seconds": round(end - start, 1) for name, (start, end) in phases.items()}
    figures["statuses"] = {
        kind: dict(Counter(code for _, k, _, code, _ in samples if k == kind)) for kind in sorted(set(KINDS))
    }
    for name, (start, end) in phases.items():
        for kind in sorted(set(KINDS)):
            began_here = [(s, code) for began, k, s, code, _ in samples if k == kind and start <= began < end]
            taken = sorted(s for s, _ in began_here)
            figure: dict[str, object] = {
                "n": len(taken),
                "statuses": dict(Counter(code for _, code in began_here)),
            }
            if len(taken) >= 2:
                figure |= {
                    "p50_ms": round(statistics.median(taken) * 1000),
                    # inclusive: never above the max
                    "p95_ms": round(statistics.quantiles(taken, n=20, method="inclusive")[-1] * 1000),
                    "max_ms": round(taken[-1] * 1000),
                }
            figures[f"{name} {kind}"] = figure
    acknowledged = [key for _, _, _, code, key in samples if code == 302 and key]
    figures["ledger"] = ledger_check(url, acknowledged)
    print(json.dumps(figures))


def ledger_history() -> bytes:
    """2,000 rows of a fund's history in US dollars (no rate to confirm first), dated yesterday as
    the clients' receipts are: 20 donors new to the ledger, a pledge each 4 rows and a receipt
    against it, and unpledged receipts."""
    run = uuid.uuid4().hex[:8]  # new donors' names, and a file never imported before
    on = date.fromordinal(date.today().toordinal() - 1).isoformat()
    donors = [f"Bench donor {run} {n:02d}" for n in range(20)]
    rows = [f"donor,,{name},,,,,,,,,," for name in donors]
    n = 0
    while len(rows) < ledger_import.MAX_ROWS:
        donor = donors[n % len(donors)]
        if n % 2 == 0:
            rows.append(f"pledge,{on},{donor},,USD,10000,P-{n},,,Education,,,")
            rows.append(f"receipt,{on},{donor},,USD,4000,BANK-P{n},P-{n},,,,,")
        else:
            rows.append(f"receipt,{on},{donor},,USD,2500.50,BANK-U{n},,,,,,")
        n += 1
    return ("\n".join([",".join(ledger_import.COLUMNS), *rows[: ledger_import.MAX_ROWS]]) + "\n").encode()


def ledger_check(url: str, acknowledged: list[str]) -> dict[str, object]:
    """Every acknowledged receipt once in the ledger, and the trial balance per currency."""
    with connected(url):
        once = Counter(
            db.session.scalars(select(Entry.idempotency_key).where(Entry.idempotency_key.in_(acknowledged)))
        )
        totals = db.session.execute(
            select(Posting.currency, func.sum(Posting.amount_minor), func.sum(Posting.usd_minor)).group_by(
                Posting.currency
            )
        ).all()
    return {
        "acknowledged": len(acknowledged),
        "found_once": sum(1 for key in acknowledged if once[key] == 1),
        "missing": sum(1 for key in acknowledged if once[key] == 0),
        "trial_balance_zero": all(amount == 0 and usd == 0 for _, amount, usd in totals),
        "currencies": len(totals),
    }


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 5000)
