"""The ledger's import job timed, and the time it holds the locks other writers wait for (issue 16,
"Imports that finish without stopping anyone"):

    PYTHONPATH=. .venv/bin/python tests/bench/ledger_import_lock.py sqlite
    VAT_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/postgres \
        PYTHONPATH=. .venv/bin/python tests/bench/ledger_import_lock.py postgres

Each run migrates a scratch database (a temporary SQLite file, or the PostgreSQL database
`vat_bench_ledger_import`, dropped and made again), adds two fund managers and the months' NOK
rates, then runs the job (`jobs.execute`, as the worker does) on a 2,000-row file: 40 donors, 360
pledges, 800 receipts (360 naming a pledge), 400 withholdings and 400 transfers. The withholdings
name invented allegations, so the victims' side's check of them is off, as in the ledger's tests.

Prints one JSON line: the load average when it began, the job's seconds (wall, and CPU of the
process: the machine may be shared), and the seconds the
longest write transaction held the locks (SQLite: from its BEGIN IMMEDIATE to its commit or
rollback; PostgreSQL: from its first pg_advisory_xact_lock to its commit or rollback) and the
statements it ran meanwhile (a figure the machine's load does not change), with the sum of the
seconds over every such transaction of the run; and the seconds spent reading the file and
checking its rows' cells, under the locks and not; on PostgreSQL, the longest time a transaction
held the audit chain's lock, which every audited writer (a victim's page) waits for. A
measurement, not a test."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url

from ledger.services import ledger_import, ledger_import_job, months, withholdings
from tests.conftest import PASSWORD, _admin_connection, _postgres_url, make_app
from vat import jobs, upload_jobs
from vat.allegations.services import check_withholding
from vat.auth import services as auth
from vat.auth.models import Role, User
from vat.db import db

DATABASE = "vat_bench_ledger_import"
STATES = ("NOR", "SWE", "DNK", "FIN", "NLD", "DEU", "FRA", "BEL", "IRL", "AUT")
STATES += ("CHE", "GBR", "CAN", "AUS", "NZL", "JPN", "KOR", "ITA", "ESP", "LUX")
MONTHS = [date(year, month, 1) for year in (2019, 2020) for month in range(1, 13)]


def history() -> bytes:
    """The 2,000 rows, in an order the import can book: donors, then a month's events in turn."""
    rows = [f"donor,,,{code},,,,,,,,," for code in STATES]
    rows += [f"donor,,Foundation {n:02d},,,,,,,,,," for n in range(20)]
    donors = [*STATES, *(f"Foundation {n:02d}" for n in range(20))]
    for n in range(400):
        day = MONTHS[n % len(MONTHS)]
        donor = donors[n % len(donors)]
        currency = "NOK" if n % 4 == 0 and donor in STATES else "USD"
        if n < 360:
            rows.append(f"pledge,{day:%Y-%m}-05,{donor},,{currency},10000,P-{n},,,Education,,,")
            rows.append(f"receipt,{day:%Y-%m}-11,{donor},,{currency},4000,BANK-P{n},P-{n},,,,,")
        else:
            rows.append(f"receipt,{day:%Y-%m}-12,{donor},,USD,2500.50,BANK-U{n},,,,,,")
        rows.append(f"receipt,{day:%Y-%m}-13,{donor},,USD,1200,BANK-V{n},,,,,,")
        rows.append(f"withholding,{day:%Y-%m}-03,,ZAF,USD,40000,,,,,{n:04d}/19,DEC-{n},MONUSCO")
        rows.append(f"transfer,{day:%Y-%m}-20,,,,15000,TRF-{n},,,,{n:04d}/19,,")
    rows += [f"receipt,2020-12-14,{donors[n]},,USD,300,BANK-W{n},,,,,," for n in range(2000 - len(rows))]
    assert len(rows) == ledger_import.MAX_ROWS
    return ("\n".join([",".join(ledger_import.COLUMNS), *rows]) + "\n").encode()


def scratch_url(backend: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tempfile.mkdtemp(prefix='vat-bench-ledger-')}/ledger.db"
    with _admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')
    return _postgres_url(DATABASE)


def prepared(url: str, folder: str) -> tuple[Any, int]:
    """The migrated app, and a fund manager's id, with the NOK rates of every month confirmed."""
    import logging

    from flask_migrate import upgrade

    logging.disable(logging.INFO)  # the migrations' lines

    app = make_app(url, VAT_JOBS_IMMEDIATE=False, VAT_JOBS_FOLDER=folder)
    with app.app_context():
        upgrade(revision="heads")
        maker, checker = (
            auth.create_user(actor=None, username=f"fund{n}", password=PASSWORD, role=Role.FUND_MANAGER)
            for n in (1, 2)
        )
        for month in MONTHS:
            rate = months.set_rate(
                actor=maker,
                currency="NOK",
                month=month,
                rate=Decimal(f"8.{50 + month.month}"),
                source="bench",
            )
            months.confirm_rate(actor=checker, rate=rate)
        db.session.commit()
        return app, maker.id


def held_locks(
    engine: Any, taken: dict[int, tuple[float, list[int]]]
) -> tuple[list[tuple[float, int]], list[float]]:
    """The seconds each write transaction held the locks and the statements it ran meanwhile, as
    the engine's connections report (`taken` holds the transactions holding them now), and on
    PostgreSQL the seconds each held the audit chain's lock, which every audited writer waits for."""
    held: list[tuple[float, int]] = []
    chain_taken: dict[int, float] = {}
    chain_held: list[float] = []
    postgres = engine.dialect.name == "postgresql"

    @event.listens_for(engine, "before_cursor_execute")
    def _locked(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        raw = id(conn.connection.dbapi_connection)
        names = params.values() if isinstance(params, dict) else params or ()
        if postgres and "pg_advisory_xact_lock" in statement and "audit_event" in names:
            chain_taken.setdefault(raw, time.perf_counter())
        if raw in taken:
            taken[raw][1][0] += 1
        elif ("pg_advisory_xact_lock" in statement) if postgres else statement == "BEGIN IMMEDIATE":
            taken[raw] = (time.perf_counter(), [0])

    for name in ("do_commit", "do_rollback"):
        ends = getattr(engine.dialect, name)

        def ended(dbapi_connection: Any, ends: Any = ends) -> None:
            ends(dbapi_connection)
            # (SQLAlchemy hands the pool's proxy of the driver's connection)
            raw = id(getattr(dbapi_connection, "dbapi_connection", dbapi_connection))
            began = taken.pop(raw, None)
            if began is not None:
                held.append((time.perf_counter() - began[0], began[1][0]))
            chained = chain_taken.pop(raw, None)
            if chained is not None:
                chain_held.append(time.perf_counter() - chained)

        setattr(engine.dialect, name, ended)
    return held, chain_held


def timed_checks(taken: dict[int, tuple[float, list[int]]]) -> dict[str, float]:
    """The seconds spent reading the file and checking its rows' cells (`read_rows`, `_cells`),
    while a write transaction held the locks and while none did."""
    spent = {"locked": 0.0, "unlocked": 0.0}
    for name in ("read_rows", "_cells"):
        function = getattr(ledger_import, name)

        def timed(*args: Any, function: Any = function) -> Any:
            began = time.perf_counter()
            try:
                return function(*args)
            finally:
                spent["locked" if taken else "unlocked"] += time.perf_counter() - began

        setattr(ledger_import, name, timed)
    return spent


def main(backend: str) -> None:
    url = scratch_url(backend)
    app, owner_id = prepared(url, tempfile.mkdtemp(prefix="vat-bench-jobs-"))
    content = history()
    withholdings.withholding_requested.disconnect(check_withholding)
    with app.test_request_context():
        owner = db.session.get_one(User, owner_id)
        job, params = ledger_import_job.start(
            actor=owner, filename="history.csv", content=content, locale="en"
        )
        db.session.commit()
        job_id = job.id
        taken: dict[int, tuple[float, list[int]]] = {}
        held, chain_held = held_locks(db.engine, taken)
        checking = timed_checks(taken)
        load = os.getloadavg()[0]
        began, cpu = time.perf_counter(), time.process_time()
        jobs.execute(job_id, params)
        took, cpu = time.perf_counter() - began, time.process_time() - cpu
        report = upload_jobs.report_of(db.session.get_one(jobs.Job, job_id))
        db.session.rollback()
        db.engine.dispose()
    assert report is not None and not report["errors"], report and report["errors"][:3]
    print(
        json.dumps(
            {
                "backend": make_url(url).get_backend_name(),
                "rows": report["rows"],
                "load": round(load, 2),
                "import_s": round(took, 2),
                "import_cpu_s": round(cpu, 2),
                "lock_held_s": round(max(held)[0], 2),
                "statements_locked": max(held)[1],
                "lock_held_all_s": round(sum(seconds for seconds, _ in held), 2),
                "checks_locked_s": round(checking["locked"], 2),
                "checks_unlocked_s": round(checking["unlocked"], 2),
                "transactions_locked": len(held),
                "audit_chain_lock_held_s": round(max(chain_held), 3) if chain_held else None,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "sqlite")
