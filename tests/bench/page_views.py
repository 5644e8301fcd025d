"""First views in a fresh process, and its memory: `python tests/bench/page_views.py DATABASE_URL
VIEWS` on a scratch copy of a seeded database (it books). Prints one JSON line per page (each
view's wall seconds, and under "cpu" the same views' process CPU seconds: on SQLite the
database's work too, the figure that moves least with the machine's load), then one with the
peak RSS. VAT_BENCH_WARM_START=1 starts the app as a gunicorn worker does.

For each page of benchmark 2b, in a process started for this (nothing imported, read or kept
before but what the pages before it left): its first view after the start, then VIEWS views each
right after a booking through the posting engine (so each is the first view after a change),
then VIEWS repeat views with nothing booked between them. Then the victims list and the pages
that page at every page size offered and past their end, and with every filter, for the peak RSS
whatever is asked for."""

from __future__ import annotations

import json
import sys
import time
from datetime import date
from decimal import Decimal
from typing import Any

from ledger import engine
from ledger.engine import CASH, CONTRIBUTIONS, EntryKind, Line
from tests.bench.conftest import peak_rss_mb, session_user, signed_in_client, started_app
from tests.bench.test_scale import ROLES, _every_page
from vat.db import db
from vat.paging import MAX_PAGE, PAGE_SIZES

# Lists as large as they get: every size offered, one not offered, past the end, and filters.
LISTS = ("/vat/victims", "/ledger/entries", "/vat/claims", "/vat/allegations")
FILTERS = ("status=active", "minor=y", "no_assistance=y", "no_update=y", "needs_not_met=y", "case_code=V")


def book(number: int) -> None:
    """One receipt, booked as a form's service books it, and committed."""
    amount = Decimal(100 + number % 900)
    key = f"first-view-{number}"
    assert engine.begin(key, {"n": number}) is None
    engine.post(
        None,
        engine.Event(
            key=key,
            payload={"n": number},
            kind=EntryKind.RECEIPT,
            entry_date=date.today(),
            memo="benchmark: first view after a booking",
            lines=[Line(CASH, "USD", amount), Line(CONTRIBUTIONS, "USD", -amount)],
        ),
    )
    db.session.commit()


def timed_get(client: Any, url: str) -> tuple[float, int]:
    seconds, _cpu, status = timed_cpu_get(client, url)
    return seconds, status


def timed_cpu_get(client: Any, url: str) -> tuple[float, float, int]:
    """The wall and the process CPU seconds of one GET, and its status."""
    started, cpu = time.perf_counter(), time.process_time()
    status = client.get(url).status_code
    return time.perf_counter() - started, time.process_time() - cpu, status


def main(url: str, views_each: int) -> None:
    app = started_app(url)
    clients = {role: signed_in_client(app, session_user(app, role)) for role in ROLES}
    booked = 0
    for page in _every_page(app):
        first, first_cpu, role = 0.0, 0.0, None
        for candidate, client in clients.items():
            first, first_cpu, status = timed_cpu_get(client, page)
            if status == 200:
                role = candidate
                break
        if role is None:
            continue  # a form or download that needs more than a GET
        views: dict[str, list[tuple[float, float]]] = {"after_booking": [], "repeat": []}
        for kind in views:
            for _ in range(views_each):
                if kind == "after_booking":
                    with app.app_context():
                        book(booked)
                    booked += 1
                seconds, cpu, status = timed_cpu_get(clients[role], page)
                assert status == 200, (page, status)
                views[kind].append((seconds, cpu))
        row: dict[str, Any] = {"url": page, "role": role.value, "first": first}
        row |= {kind: [wall for wall, _ in timed] for kind, timed in views.items()}
        row["cpu"] = {"first": first_cpu} | {kind: [cpu for _, cpu in timed] for kind, timed in views.items()}
        print(json.dumps(row | {"rss_mb": peak_rss_mb()}), flush=True)
    asked = [f"{page}?per_page={size}" for page in LISTS for size in (*PAGE_SIZES, 100_000)]
    asked += [f"{page}?per_page=100&page={MAX_PAGE}" for page in LISTS]
    asked += [f"/vat/victims?per_page=100&{query}" for query in FILTERS]
    slowest = 0.0
    for page in asked:
        for client in clients.values():
            seconds, status = timed_get(client, page)
            if status == 200:
                slowest = max(slowest, seconds)
                break
    print(json.dumps({"rss_mb": peak_rss_mb(), "asked": len(asked), "slowest_asked": slowest}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
