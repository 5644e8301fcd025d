"""The import's save timed in-process, part by part (issue 16, item 3):
`PYTHONPATH=. python tests/bench/import_save.py DATABASE_URL` on a scratch copy of a seeded
database (the save writes the 10,000-row workbook of `tests/vat/big_import.py` into it). The rows
are checked as the job checks them (one reading transaction), then saved as the job saves them
(one IMMEDIATE transaction, committed), each part of the save wrapped. Prints one JSON line: wall
and CPU seconds of the process for the whole save and for each part (a part called inside another
counts in both), and the seconds the audit chain's lock was held: on PostgreSQL from the first
`pg_advisory_xact_lock` naming it to the commit's end, on SQLite (whose one write lock the save
holds from its BEGIN IMMEDIATE) the whole save. The rows are built before the save's transaction
(`import_rows.ready`, as the job does) when the code has it. Of the save's wall time, the seconds
on a CPU and those spent runnable but waiting for one (other processes on the same cores); the
load average when it began. A measurement, not a test."""

from __future__ import annotations

import io
import json
import os
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import event

from tests.bench.conftest import session_user
from tests.conftest import make_app
from tests.vat.big_import import big_workbook
from vat import audit
from vat.allegations import clock_counts
from vat.auth.models import Role, User
from vat.db import BeginMode, begin_mode, db
from vat.victims import import_rows, importer, service_tally, support_summary

# (module, function) wrapped when the module has it (the code before and after the change differ).
PARTS = (
    (import_rows, "fingerprint"),
    (import_rows, "_insert"),
    (import_rows, "ready"),
    (import_rows, "insert_driver_rows"),
    (audit, "unchained"),
    (audit, "append"),
    (audit, "insert_batch"),
    (audit, "commit_batch"),
    (audit, "record_many"),
    (audit, "chained"),
    (clock_counts, "count_added"),
    (service_tally, "count_added"),
    (service_tally, "counted"),
    (service_tally, "counted_rows"),
    (support_summary, "start_many"),
    (support_summary, "refresh_many"),
)


def wrapped(times: dict[str, list[float]], name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            spent = times.setdefault(name, [0.0, 0.0])
            spent[0] += time.perf_counter() - wall
            spent[1] += time.process_time() - cpu

    return timed


def _scheduled() -> tuple[float, float]:
    """This thread's seconds on a CPU and waiting for one while runnable (Linux's schedstat): the
    rest of a wall time is waiting on something else (the disk, a lock)."""
    on_cpu, waiting, _ = Path("/proc/thread-self/schedstat").read_text().split()
    return int(on_cpu) / 1e9, int(waiting) / 1e9


def main(url: str) -> None:
    app = make_app(url)
    owner_id = session_user(app, Role.ADVOCATE)
    content = big_workbook(date.today()).getvalue()
    times: dict[str, list[float]] = {}
    for module, name in PARTS:
        if hasattr(module, name):
            setattr(
                module,
                name,
                wrapped(times, f"{module.__name__.rsplit('.', 1)[1]}.{name}", getattr(module, name)),
            )
    locked: list[float] = []
    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "after_cursor_execute")
        def _lock_taken(
            conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
        ) -> None:
            if not locked and "pg_advisory_xact_lock" in statement and "audit_event" in str(params):
                locked.append(time.perf_counter())

        owner = db.session.get_one(User, owner_id)
        sheets = importer.read_file("upload.xlsx", io.BytesIO(content), "victims")
        began = time.perf_counter()
        with begin_mode(BeginMode.DEFERRED):
            if engine.dialect.name == "postgresql":
                db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            report, plan = importer.check_sheets(actor=owner, sheets=sheets)
            db.session.rollback()
        check = time.perf_counter() - began
        assert report.ok, report.errors[:3]
        times.clear()
        locked.clear()
        built = time.perf_counter()
        if hasattr(import_rows, "ready"):  # the code before the change builds in the save
            with begin_mode(BeginMode.DEFERRED):
                import_rows.ready(owner, plan)
                db.session.rollback()
        built = time.perf_counter() - built
        load = os.getloadavg()[0]
        wall, cpu, (on_cpu, queued) = time.perf_counter(), time.process_time(), _scheduled()
        with begin_mode(BeginMode.IMMEDIATE):
            importer.save(actor=owner, report=report, plan=plan)
            committing = time.perf_counter()
            db.session.commit()
        ended, cpu_spent = time.perf_counter(), time.process_time() - cpu
        on_cpu, queued = (
            after - before for after, before in zip(_scheduled(), (on_cpu, queued), strict=True)
        )
        held = ended - (locked[0] if locked and engine.dialect.name == "postgresql" else wall)
    print(
        json.dumps(
            {
                "backend": engine.dialect.name,
                "rows": report.rows,
                "check_s": round(check, 2),
                "built_before_s": round(built, 2),
                "load": round(load, 1),
                "save_wall_s": round(ended - wall, 2),
                "save_cpu_s": round(cpu_spent, 2),
                "lock_held_s": round(held, 2),
                "on_cpu_s": round(on_cpu, 2),
                "runnable_waiting_s": round(queued, 2),
                "commit_s": round(ended - committing, 2),
                "before_lock_s": round(ended - wall - held, 2),
                "parts": {k: [round(v[0], 2), round(v[1], 2)] for k, v in sorted(times.items())},
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
