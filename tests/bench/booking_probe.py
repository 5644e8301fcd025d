"""Where one booking's time goes (PostgreSQL): N receipts booked one per transaction as a form
books them (`begin`, `post`, commit) on a fresh, empty, migrated database, each phase timed on
the wall and in the process's CPU, which moves less with the machine's load than the wall does.

    VAT_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python -m tests.bench.booking_probe 5000 [--explain] [--profile] [--pre-ping]

--explain: the server's own time of the write statement, from EXPLAIN (ANALYZE, BUFFERS) of it as
it is sent, at every booking (the statement still writes): planning, execution, the immediate
triggers and each CTE. --profile: cProfile of the client in CPU time (instance/bench/booking.prof).
--pre-ping: the pool pings each connection it hands out (SQLAlchemy's `pool_pre_ping`).
VAT_PROBE_SQL: SQL run on the fresh database before booking, to try a schema change without a
migration (an experiment only).
The last line printed is the figures as JSON.
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import statistics
import sys
import time
from datetime import date
from typing import Any, cast

import psycopg
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from ledger import engine, writes
from tests.bench.conftest import ROOT
from tests.bench.test_booking_peers import _event
from tests.conftest import _admin_connection, _postgres_url, make_app
from vat.db import db

TEMPLATE, RUN = "vat_booking_probe_template", "vat_booking_probe"
PROFILE = ROOT / "instance/bench/booking.prof"
PHASES = ("begin", "post", "commit")


def _fresh_database() -> str:
    """A copy of an empty database migrated once (the template is kept for the next run)."""
    with _admin_connection() as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (TEMPLATE,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{TEMPLATE}"')
    if not exists:
        with make_app(_postgres_url(TEMPLATE)).app_context():
            upgrade(revision="heads")
            db.engine.dispose()
    with _admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{RUN}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{RUN}" TEMPLATE "{TEMPLATE}"')
    url = _postgres_url(RUN)
    if os.environ.get("VAT_PROBE_SQL"):
        driver_url = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(driver_url, autocommit=True) as conn:
            conn.execute(os.environ["VAT_PROBE_SQL"])
    return url


def _explaining(server: list[dict[str, float]]) -> Any:
    """`writes.execute_numbered` as EXPLAIN (ANALYZE, BUFFERS) of the same statement: it runs and
    writes; its times are appended to `server`."""

    def execute(sql: str, values: list[Any]) -> None:
        raw = cast(Any, db.session.connection().connection.dbapi_connection)  # psycopg's Connection
        with psycopg.RawCursor(raw) as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, tuple(values))
            plan = cast(tuple[Any, ...], cursor.fetchone())[0][0]
        ctes = plan["Plan"].get("Plans", [])
        server.append(
            {
                "planning": plan["Planning Time"],
                "execution": plan["Execution Time"],
                "triggers": sum(trigger["Time"] for trigger in plan.get("Triggers", [])),
            }
            | {f"CTE {n['Subplan Name'][4:]}": n["Actual Total Time"] for n in ctes if "Subplan Name" in n}
        )

    return execute


def main() -> None:
    bookings = int(sys.argv[1])
    ping = {"pool_pre_ping": True, "hide_parameters": True} if "--pre-ping" in sys.argv else None
    app = make_app(_fresh_database(), **({"SQLALCHEMY_ENGINE_OPTIONS": ping} if ping else {}))
    server: list[dict[str, float]] = []
    if "--explain" in sys.argv:
        writes.execute_numbered = _explaining(server)
    profiler = cProfile.Profile(time.process_time) if "--profile" in sys.argv else None
    wall: dict[str, list[float]] = {name: [] for name in PHASES}
    cpu: dict[str, list[float]] = {name: [] for name in PHASES}
    day = date.today()
    with app.app_context():
        for number in range(10**6, 10**6 + 20):  # warm: compiled statements, prepared statements
            event = _event(number, day)
            engine.begin(event.key, event.payload)
            engine.post(None, event)
            db.session.commit()
        server.clear()
        if profiler:
            profiler.enable()
        started, used = time.perf_counter(), time.process_time()
        for number in range(bookings):
            event = _event(number, day)
            marks = [(time.perf_counter(), time.process_time())]
            assert engine.begin(event.key, event.payload) is None
            marks.append((time.perf_counter(), time.process_time()))
            engine.post(None, event)
            marks.append((time.perf_counter(), time.process_time()))
            db.session.commit()
            marks.append((time.perf_counter(), time.process_time()))
            for name, before, after in zip(PHASES, marks[:-1], marks[1:], strict=True):
                wall[name].append(after[0] - before[0])
                cpu[name].append(after[1] - before[1])
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - used
        if profiler:
            profiler.disable()
        db.engine.dispose()
    with _admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{RUN}" WITH (FORCE)')
    if profiler:
        PROFILE.parent.mkdir(parents=True, exist_ok=True)
        profiler.dump_stats(PROFILE)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    result: dict[str, Any] = {
        "bookings": bookings,
        "load": os.getloadavg(),
        "wall_ms": round(seconds * 1000 / bookings, 3),
        "cpu_ms": round(cpu_seconds * 1000 / bookings, 3),
        "median_wall_ms": {name: round(statistics.median(v) * 1000, 3) for name, v in wall.items()},
        "mean_cpu_ms": {name: round(statistics.fmean(v) * 1000, 3) for name, v in cpu.items()},
    }
    if server:
        result["write_server_ms_median"] = {
            name: round(statistics.median(s[name] for s in server), 3) for name in server[0]
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
