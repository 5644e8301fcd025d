"""CPU and SQL per page view, in a fresh process: `python -m tests.bench.page_cpu DATABASE_URL
ROLE:PAGE ...` (ROLE: sa senior advocate, fm fund manager, au auditor) on a seeded database. For each page,
its first view and one repeat: wall clock, the process's CPU time (SQLite's work included, since
it runs in the process: the figure that moves least with the machine's load), the SQL statements'
time and number, and after the repeat its six slowest statements. Used for docs/benchmarks.md
when a whole `make bench` is too long for the machine. VAT_BENCH_WARM_START=1 starts the app as
a gunicorn worker does (`tests.bench.conftest.started_app`)."""

from __future__ import annotations

import sys
import time
from typing import Any

from sqlalchemy import event

from tests.bench.conftest import peak_rss_mb, session_user, signed_in_client, started_app
from vat.auth.models import Role
from vat.db import db

ROLES = {"sa": Role.SENIOR_ADVOCATE, "fm": Role.FUND_MANAGER, "au": Role.AUDITOR}


def main(url: str, pages: list[str]) -> None:
    app = started_app(url)
    sent: list[tuple[float, str]] = []

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        context.started_at = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        sent.append((time.perf_counter() - context.started_at, statement))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    clients: dict[str, Any] = {}
    for spec in pages:
        role, page = spec.split(":", 1)
        if role not in clients:
            clients[role] = signed_in_client(app, session_user(app, ROLES[role]))
        for view in ("first", "repeat"):
            sent.clear()
            wall, cpu = time.perf_counter(), time.process_time()
            status = clients[role].get(page).status_code
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            sql = sum(seconds for seconds, _ in sent)
            peak = round(peak_rss_mb())
            print(
                f"{spec} {view}: {status} wall {wall * 1000:.0f} ms cpu {cpu * 1000:.0f} ms"
                f" sql {sql * 1000:.0f} ms in {len(sent)} statements, peak rss {peak} MB"
            )
        for seconds, statement in sorted(sent, reverse=True)[:6]:
            print(f"   {seconds * 1000:7.1f} ms  {' '.join(statement.split())[:200]}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
