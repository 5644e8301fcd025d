"""The benchmarks of issue 7, items 1 to 6: each measures the app and a reference in the same run
and records one row per figure (see conftest.record). Nothing here asserts a time: the figures go
to the table that `make bench` prints and docs/benchmarks.md keeps. What each one asserts is that
what it timed was right (the same rows as the reference, every answer a 200, every entry balanced),
so that a fast wrong answer fails."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from ledger import engine
from ledger.engine import EntryKind, Line
from ledger.models import Entry, Posting
from tests.bench.conftest import (
    ROOT,
    VICTIMS,
    Seeded,
    cookie_of,
    copy_database,
    drop_copy,
    last_json,
    logged_queries,
    make_app,
    median,
    p95,
    record,
    run_script,
    session_user,
    signed_in_client,
    timed,
)
from tests.bench.sql import ageing_limits, bind, fund_statement_sql, reconciliation_sql, support_sql
from vat.auth.models import Role, User
from vat.db import BeginMode, begin_mode, db
from vat.victims.models import Communication

pytestmark = pytest.mark.timeout(4 * 3600)  # bounded by their own sizes, not the suite's 300 s

REQUESTS = int(os.environ.get("VAT_BENCH_REQUESTS", "200"))
BOOKINGS = int(os.environ.get("VAT_BENCH_BOOKINGS", "100000"))
LOAD_SECONDS = int(os.environ.get("VAT_BENCH_LOAD_SECONDS", "30"))
COMMIT_EVERY = 100


@contextmanager
def driver_cursor(app: Flask) -> Iterator[Any]:
    """A cursor of the bare driver, for the reference figures; what it read is rolled back."""
    with app.app_context():
        connection = db.engine.raw_connection()
        try:
            cursor = connection.cursor()
            yield cursor
            cursor.close()
            connection.rollback()
        finally:
            connection.close()


def _raw(app: Flask, sql: str, params: Any = None, *, many: bool = False) -> int:
    """Run hand-written SQL through the bare driver; return the rows fetched."""
    with driver_cursor(app) as cursor:
        cursor.execute(sql, params or {})
        count = 0
        while rows := cursor.fetchmany(5000):
            count += len(rows)
    return count


def _since(app: Flask) -> date:
    return date.today() - timedelta(days=int(app.config["VAT_NO_UPDATE_DAYS"]))


def _date_param(backend: str, day: date) -> Any:
    return day.isoformat() if backend == "sqlite" else day


# --- 1. the per-victim support report --------------------------------------------------------


def test_support_report(seeded: Seeded) -> None:
    from vat.reports.scope import VictimFilters
    from vat.reports.support import support_rows

    app = seeded.app
    user_id = session_user(app, Role.SENIOR_ADVOCATE)
    rows: list[int] = []

    def run_app() -> None:
        with app.app_context(), begin_mode(BeginMode.DEFERRED):
            user = db.session.get(User, user_id)
            query = support_rows(user, VictimFilters())
            rows.append(len(db.session.execute(query).all()))

    sql, params = support_sql(seeded.backend, _date_param(seeded.backend, _since(app)))
    reference_rows: list[int] = []

    def run_reference() -> None:
        reference_rows.append(_raw(app, sql, params))

    run_app(), run_reference()  # warm the page cache the same for both
    app_times, reference_times = [], []
    for _ in range(3):
        app_times += timed(run_app)
        reference_times += timed(run_reference)
    assert rows[-1] == reference_rows[-1] == VICTIMS
    record(
        "1 support report",
        f"all {VICTIMS:,} victims, median of 3 (s)",
        seeded.backend,
        median(app_times),
        median(reference_times),
        target="≤ 1.5×",
        met=median(app_times) <= 1.5 * median(reference_times),
    )


# --- 2. list and timeline pages through the test client ---------------------------------------


def _replay(app: Flask, statements: list[tuple[str, Any]]) -> float:
    """The page's SELECT statements, sent again through the bare driver (the reference)."""
    with driver_cursor(app) as cursor:
        started = time.perf_counter()
        for statement, parameters in statements:
            cursor.execute(statement, parameters)
            cursor.fetchall()
        elapsed = time.perf_counter() - started
    return elapsed


def test_pages(seeded: Seeded) -> None:
    app = seeded.app
    client = signed_in_client(app, session_user(app, Role.SENIOR_ADVOCATE))
    with app.app_context():
        busiest = db.session.execute(
            select(Communication.victim_id)
            .group_by(Communication.victim_id)
            .order_by(func.count().desc(), Communication.victim_id)
            .limit(1)
        ).scalar_one()
    pages = {
        "victim list, active, page 1": "/vat/victims?status=active",
        "victim list, active, page 2,000": "/vat/victims?status=active&page=2000",
        "victim page (timeline)": f"/vat/victims/{busiest}",
        "needs attention, every victim in scope": "/vat/attention?all=1",
    }
    for label, url in pages.items():
        for _ in range(5):
            assert client.get(url).status_code == 200
        with logged_queries(app) as log:
            assert client.get(url).status_code == 200
        selects = [(s, p) for s, p in log.statements if s.lstrip().upper().startswith(("SELECT", "WITH"))]
        times = []
        reference = []
        for _ in range(REQUESTS):
            started = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - started)
            assert response.status_code == 200
            reference.append(_replay(app, selects))
        extra = {"queries": len(log.statements), "target": "p95 < 150 ms under load (item 3)"}
        record(
            "2 pages",
            f"{label}: median (ms)",
            seeded.backend,
            median(times) * 1e3,
            median(reference) * 1e3,
            **extra,
        )
        record(
            "2 pages", f"{label}: p95 (ms)", seeded.backend, p95(times) * 1e3, p95(reference) * 1e3, **extra
        )


# --- 2b. every page -------------------------------------------------------------------------------

PAGE_VIEWS = int(os.environ.get("VAT_BENCH_PAGE_VIEWS", "20"))
ROLES = (Role.SENIOR_ADVOCATE, Role.FUND_MANAGER, Role.ADMIN, Role.AUDITOR)
NOT_PAGES = ("/auth", "/language", "/health", "/static", "/ledger/static", "/vat/import/template.xlsx")


def _busiest(table: str, column: str) -> str:
    return f"SELECT {column} FROM {table} GROUP BY {column} ORDER BY count(*) DESC LIMIT 1"  # noqa: S608


# The record each detail page shows: the busiest of its kind, so the page is at its largest.
BUSIEST = {
    "/ledger/donors/{}": _busiest("ledger_receipt", "donor_id"),
    "/ledger/entries/{}": "SELECT max(id) FROM ledger_entry",
    "/ledger/projects/{}": _busiest("ledger_tranche", "project_id"),
    "/ledger/withholdings/{}": _busiest("ledger_withholding_transfer", "withholding_id"),
    "/ledger/periods/{}": "SELECT max(id) FROM ledger_period",
    "/vat/allegations/{}": _busiest("vat_victim_allegation", "allegation_id"),
    "/vat/claims/{}": _busiest("vat_claim_event", "claim_id"),
    "/vat/victims/{}": _busiest("vat_assistance", "victim_id"),
}


def _every_page(app: Flask) -> list[str]:
    """Every page a GET without arguments reaches, and the detail page of each kind's busiest record."""
    plain = sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or ()) and not rule.arguments and not rule.rule.startswith(NOT_PAGES)
    )
    with app.app_context(), begin_mode(BeginMode.DEFERRED):
        detail = [
            url.format(record_id)
            for url, sql in BUSIEST.items()
            if (record_id := db.session.execute(text(sql)).scalar()) is not None
        ]
    return plain + detail


def _first_view(url: str, clients: dict[Role, Any]) -> tuple[float, Role | None]:
    """The time of the first answer of 200 to `url`, trying each role in turn, and that role."""
    for role, client in clients.items():
        started = time.perf_counter()
        if client.get(url).status_code == 200:
            return time.perf_counter() - started, role
    return 0.0, None


def test_every_page(seeded: Seeded) -> None:
    """Each page as its users see it: the first view after a start, then the p95 of repeated views
    against the page's own SELECTs replayed through the bare driver. Nothing is kept between
    requests: the first view is every view."""
    app = seeded.app
    clients = {role: signed_in_client(app, session_user(app, role)) for role in ROLES}
    for url in _every_page(app):
        first, role = _first_view(url, clients)
        if role is None:
            continue  # a form or download that needs more than a GET
        client = clients[role]
        with logged_queries(app) as log:
            assert client.get(url).status_code == 200
        selects = [(s, p) for s, p in log.statements if s.lstrip().upper().startswith(("SELECT", "WITH"))]
        times, reference = [], []
        for _ in range(PAGE_VIEWS):
            started = time.perf_counter()
            assert client.get(url).status_code == 200
            times.append(time.perf_counter() - started)
            reference.append(_replay(app, selects))
        record(
            "2b every page",
            f"{url} ({role.value}): p95 of {PAGE_VIEWS} views (ms); first view {first * 1e3:,.0f} ms",
            seeded.backend,
            p95(times) * 1e3,
            p95(reference) * 1e3,
            queries=len(log.statements),
            target="p95 < 150 ms",
            met=p95(times) * 1e3 < 150,
        )


# --- 3. HTTP under load --------------------------------------------------------------------------

LUA = """
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format('WRK {"requests": %d, "seconds": %f, "errors": %d, "non2xx": %d, '
    .. '"p50": %f, "p95": %f, "p99": %f}\\n',
    summary.requests, summary.duration / 1e6, errors, summary.errors.status,
    latency:percentile(50) / 1e3, latency:percentile(95) / 1e3, latency:percentile(99) / 1e3))
end
"""


def _wrk(url: str, cookie: str, script: Path) -> dict[str, Any]:
    command = [
        "wrk",
        "--threads",
        "2",
        "--connections",
        "20",
        "--duration",
        f"{LOAD_SECONDS}s",
        "--timeout",
        "10s",
        "--script",
        str(script),
        "--header",
        f"Cookie: {cookie}",
        url,
    ]
    output = subprocess.run(  # noqa: S603 - wrk on loopback, our arguments
        command, capture_output=True, text=True, timeout=LOAD_SECONDS + 60, check=True
    ).stdout
    line = next(x for x in output.splitlines() if x.startswith("WRK "))
    return json.loads(line[4:])


def _warm(base: str, cookie: str, paths: Any) -> None:
    """Until every worker has booted and answered each page once (bounded: 3 minutes)."""
    deadline = time.monotonic() + 180
    for path in paths:
        for _ in range(8):
            request = urllib.request.Request(base + path, headers={"Cookie": cookie})  # noqa: S310 - loopback
            while True:
                try:
                    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback
                        assert response.status == 200, path
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)


def test_http_load(seeded: Seeded, tmp_path: Path) -> None:
    from tests.soak.conftest import Server

    if shutil.which("wrk") is None:
        pytest.skip("wrk is not installed (make bench installs it)")
    app = seeded.app
    cookie = cookie_of(signed_in_client(app, session_user(app, Role.SENIOR_ADVOCATE)))
    script = tmp_path / "p95.lua"
    script.write_text(LUA)
    server = Server(seeded.url, workers=4)
    server.start()
    paths = {  # the dashboard last: a slow page leaves queued work that would burden the next run
        "health": "/health",
        "victim list": "/vat/victims?status=active",
        "victim list, page 2,000": "/vat/victims?status=active&page=2000",
        "dashboard": "/",
    }
    try:
        _warm(server.url, cookie, paths.values())
        results = {name: _wrk(server.url + path, cookie, script) for name, path in paths.items()}
    finally:
        try:
            server.stop()
        except subprocess.TimeoutExpired:  # workers still busy with the last requests
            server.kill()
    for name, figures in results.items():  # an error status under load is a wrong answer, not slowness
        assert figures["requests"] > 0 and figures["non2xx"] == 0, (name, figures)
    health = results.pop("health")
    for name, figures in results.items():
        for measure, unit in (("requests", "req/s"), ("p50", "ms"), ("p95", "ms"), ("p99", "ms")):
            if measure == "requests":
                mine, reference = (
                    figures["requests"] / figures["seconds"],
                    health["requests"] / health["seconds"],
                )
            else:
                mine, reference = figures[measure], health[measure]
            extra: dict[str, Any] = {"errors": figures["errors"] + figures["non2xx"]}
            if measure == "p95" and "list" in name:
                extra.update(target="< 150 ms", met=mine < 150)
            record(
                "3 HTTP, 20 clients",
                f"{name} vs /health: {measure} ({unit})",
                seeded.backend,
                mine,
                reference,
                **extra,
            )
        record(
            "3 HTTP, 20 clients",
            f"{name}: errors (reference: /health errors)",
            seeded.backend,
            figures["errors"] + figures["non2xx"],
            health["errors"] + health["non2xx"],
        )


# --- 4. the ledger: booking and verify -------------------------------------------------------


def _book_through_engine(app: Flask, count: int) -> tuple[float, int]:
    """`count` direct-support events through the posting engine's batch entry point, 100 events
    per call and per transaction (every check of a single `post` runs for each event)."""
    day = date.today()
    with app.app_context():
        first = db.session.scalar(select(func.max(Entry.seq))) or 0
        db.session.commit()
        started = time.perf_counter()
        for start in range(0, count, COMMIT_EVERY):
            events = [_bench_event(number, day) for number in range(start, min(count, start + COMMIT_EVERY))]
            engine.post_many(actor=None, events=events)
            db.session.commit()
        elapsed = time.perf_counter() - started
        assert db.session.scalar(select(func.max(Entry.seq))) == first + count  # every event booked once
        postings = select(Posting.entry_id).where(Posting.entry_id > first)
        assert db.session.scalar(select(func.count()).select_from(postings.subquery())) == 2 * count
        unbalanced = postings.group_by(Posting.entry_id).having(func.sum(Posting.usd_minor) != 0)
        assert db.session.scalar(select(func.count()).select_from(unbalanced.subquery())) == 0
        db.session.commit()
        return elapsed, first


def _bench_event(
    number: int, day: date, kind: str = EntryKind.VICTIM_SUPPORT, debit: str = engine.VICTIM_SUPPORT
) -> engine.Event:
    """Event `number`: `debit` debited and cash credited (victim support by default), or, for a
    receipt, cash debited and contributions credited."""
    amount = Decimal(100 + number % 900)
    dims = {"case_code": f"BENCH-{number % 1000:04d}", "country_code": "CAF"}
    credit = engine.CONTRIBUTIONS if debit == engine.CASH else engine.CASH
    return engine.Event(
        key=f"bench-{number}",
        payload={"event": "bench", "n": number},
        kind=kind,
        entry_date=day,
        memo="benchmark",
        lines=[Line(debit, "USD", amount, dims=dims), Line(credit, "USD", -amount, dims=dims)],
    )


def _insert_raw(app: Flask, source: Flask, after_seq: int) -> float:
    """The same entries and postings, read back from `source`, inserted with executemany."""
    with source.app_context():
        entries = [
            dict(r._mapping)
            for r in db.session.execute(
                select(Entry.__table__).where(Entry.seq > after_seq).order_by(Entry.seq)
            )
        ]
        postings = [
            dict(r._mapping)
            for r in db.session.execute(
                select(Posting.__table__).where(Posting.entry_id > after_seq).order_by(Posting.id)
            )
        ]
        db.session.rollback()
    by_entry: dict[int, list[dict[str, Any]]] = {}
    for posting in postings:
        by_entry.setdefault(posting["entry_id"], []).append(posting)
    entry_table, posting_table = Entry.__table__, Posting.__table__
    with app.app_context():
        connection = db.engine.raw_connection()
        cursor = connection.cursor()
        style = db.engine.dialect.paramstyle
        entry_sql = _insert_sql(entry_table.name, list(entries[0]), style)
        posting_sql = _insert_sql(posting_table.name, list(postings[0]), style)
        entry_rows = [_driver_row(app, entry_table, e) for e in entries]
        posting_rows = {k: [_driver_row(app, posting_table, p) for p in v] for k, v in by_entry.items()}
        begin = "BEGIN IMMEDIATE" if style == "qmark" else None  # SQLite connections are autocommit
        started = time.perf_counter()
        for start in range(0, len(entries), COMMIT_EVERY):
            batch = entries[start : start + COMMIT_EVERY]
            if begin:
                cursor.execute(begin)
            cursor.executemany(entry_sql, entry_rows[start : start + COMMIT_EVERY])
            cursor.executemany(posting_sql, [row for e in batch for row in posting_rows[e["id"]]])
            connection.commit()
        elapsed = time.perf_counter() - started
        connection.close()
    return elapsed


def _insert_sql(table: str, columns: list[str], style: str) -> str:
    marks = ", ".join("?" if style == "qmark" else "%s" for _ in columns)
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608 - our metadata


def _driver_row(app: Flask, table: Any, row: dict[str, Any]) -> tuple[Any, ...]:
    """A row as the driver takes it (the column types' bind processing done beforehand)."""
    dialect = db.engine.dialect
    values = []
    for name, value in row.items():
        processor = table.c[name].type._cached_bind_processor(dialect)
        values.append(processor(value) if processor else value)
    return tuple(values)


def test_ledger_booking(seeded: Seeded) -> None:
    with seeded.app.app_context():
        db.engine.dispose()  # the copies are taken from it
    app_copy = copy_database(seeded.url, "book")
    raw_copy = copy_database(seeded.url, "raw")
    try:
        booking_app, raw_app = make_app(app_copy), make_app(raw_copy)
        elapsed, first = _book_through_engine(booking_app, BOOKINGS)
        reference = _insert_raw(raw_app, booking_app, first)
        with booking_app.app_context():
            db.engine.dispose()
        with raw_app.app_context():
            db.engine.dispose()
    finally:
        drop_copy(app_copy)
        drop_copy(raw_copy)
    record(
        "4 ledger",
        f"booking {BOOKINGS:,} events: engine vs raw executemany, commit every {COMMIT_EVERY} (s)",
        seeded.backend,
        elapsed,
        reference,
        target="≤ 5×",
        met=elapsed <= 5 * reference,
        entries_per_second=BOOKINGS / elapsed,
        reference_entries_per_second=BOOKINGS / reference,
    )


def test_ledger_verify(seeded: Seeded) -> None:
    from ledger.verify import verify

    app = seeded.app
    with app.app_context(), begin_mode(BeginMode.DEFERRED):
        started = time.perf_counter()
        report = verify()
        elapsed = time.perf_counter() - started
        db.session.rollback()
    assert report.problem is None, report.problem
    sum_time = timed(
        lambda: _raw(app, "SELECT count(*), sum(usd_minor), sum(amount_minor) FROM ledger_posting"), 3
    )
    scan_time = timed(
        lambda: (
            _raw(app, "SELECT * FROM ledger_entry ORDER BY seq"),
            _raw(app, "SELECT * FROM ledger_posting ORDER BY entry_id, id"),
        )
    )
    record(
        "4 ledger",
        f"verify {report.postings:,} postings vs raw SQL sum (s)",
        seeded.backend,
        elapsed,
        median(sum_time),
        target="≤ 3×",
        met=elapsed <= 3 * median(sum_time),
    )
    record(
        "4 ledger",
        f"verify {report.postings:,} postings vs raw fetch of every entry and posting (s)",
        seeded.backend,
        elapsed,
        scan_time[0],
    )


# --- 5. withheld reconciliation and fund statement -----------------------------------------------


def test_reconciliation_and_fund_statement(seeded: Seeded) -> None:
    from ledger.reports.withheld import reconciliation
    from vat.reports.fund import fund_statement

    app = seeded.app
    start, end = date(2019, 1, 1), date(2026, 10, 31)

    def run_reconciliation() -> None:
        with app.app_context(), begin_mode(BeginMode.DEFERRED):
            assert reconciliation().ties

    def run_statement() -> None:
        with app.app_context(), begin_mode(BeginMode.DEFERRED):
            fund_statement(start, end)

    backend = seeded.backend
    reports = {
        "withheld reconciliation, full data (s)": (
            run_reconciliation,
            lambda: _raw_each(app, backend, reconciliation_sql(backend), ageing_limits(date.today())),
        ),
        "fund statement 2019–2026 (s)": (
            run_statement,
            lambda: _raw_each(
                app, backend, fund_statement_sql(backend), {"start": start, "end": end, "today": date.today()}
            ),
        ),
    }
    for measure, (run_app, run_reference) in reports.items():
        run_app(), run_reference()  # warm the page cache the same for both
        app_times, reference_times = [], []
        for _ in range(3):  # back to back, so that both see the same load
            app_times += timed(run_app)
            reference_times += timed(run_reference)
        mine, reference = median(app_times), median(reference_times)
        record(
            "5 ledger reports",
            measure,
            backend,
            mine,
            reference,
            target="≤ 1.5×",
            met=mine <= 1.5 * reference,
        )


def _raw_each(app: Flask, backend: str, statements: list[str], params: dict[str, Any]) -> int:
    """The reference's statements one after the other, each given the parameters it names."""
    return sum(_raw(app, sql, bind(backend, sql, params)) for sql in statements)


# --- 6. memory while exporting ---------------------------------------------------------------

EXPORT_SCRIPT = ROOT / "tests" / "bench" / "export_rss.py"


def _peak(url: str, mode: str) -> dict[str, Any]:
    return last_json(run_script(EXPORT_SCRIPT, url, mode, timeout=1800).stdout)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_memory(seeded: Seeded, fmt: str) -> None:
    session_user(seeded.app, Role.SENIOR_ADVOCATE)
    mine = _peak(seeded.url, fmt)
    reference = _peak(seeded.url, "raw-csv")
    assert mine["rows"] == reference["rows"] == VICTIMS  # the export holds every victim, once
    record(
        "6 export memory",
        f"per-victim report as a job, {fmt.upper()}, {VICTIMS:,} rows: RSS growth (MB) vs raw cursor to CSV",
        seeded.backend,
        mine["growth_mb"],
        reference["growth_mb"],
        target="< 100 MB",
        met=mine["growth_mb"] < 100,
        seconds=mine["seconds"],
        reference_seconds=reference["seconds"],
    )
