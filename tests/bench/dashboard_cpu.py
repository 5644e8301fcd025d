"""CPU per view of the dashboard (issue 14): `python -m tests.bench.dashboard_cpu DATABASE_URL ROLE
[--profile]` on a scratch copy of a seeded database (it records allegation steps). Prints one JSON
line; with --profile, the first view's costliest calls (cProfile, cumulative) before it.

In a process started for this one role: its first view, then VIEWS views each right after an
allegation's step recorded through the allegations service (so each is the first view after a
change), then VIEWS repeats; each as CPU time of the process (`time.process_time()`, SQLite's work
included) and wall clock. Run it with the code of two commits on copies of one database (the
"before" copy at its own migration) to compare. VAT_BENCH_WARM_START=1 starts the app as gunicorn
does (VAT_WARM_START: templates compiled, languages loaded)."""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import sys
from datetime import date
from functools import partial

from sqlalchemy import select

from tests.bench.conftest import (
    WARM_START,
    session_user,
    signed_in_client,
    started_app,
    timed_get,
    views_after_changes,
)
from vat.allegations import services as allegations
from vat.allegations.models import Allegation, Step
from vat.auth.models import Role, User
from vat.db import db

VIEWS = int(os.environ.get("VAT_BENCH_DASHBOARD_VIEWS", "3"))
FIELDS = (
    "country_code mission entity_category personnel_category perpetrator_country perpetrators type"
    " sub_type urgency investigating_entity investigation_status outcome"
).split()


def record_step(user_id: int, n: int) -> None:
    """The n-th allegation still waiting for its assessment (by id) is assessed on its receipt."""
    allegation = db.session.scalar(
        select(Allegation)
        .where(Allegation.assessed_on.is_(None), Allegation.received_on.is_not(None))
        .where(Allegation.referred_on.is_(None), Allegation.historical.is_(False))
        .order_by(Allegation.id)
        .offset(n)
        .limit(1)
    )
    assert allegation is not None
    values = {name: getattr(allegation, name) for name in FIELDS}
    values |= {f"{step.value}_on": allegation.step_date(step) for step in Step}
    values["assessed_on"] = allegation.received_on or date(2026, 1, 1)
    allegations.update_allegation(actor=db.session.get_one(User, user_id), allegation=allegation, **values)
    db.session.commit()


def main(url: str, role: Role, profile: bool) -> None:
    app = started_app(url)
    client = signed_in_client(app, session_user(app, role))
    writer = session_user(app, Role.SENIOR_ADVOCATE)
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
    first = timed_get(client, "/")
    if profile:
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
        stats.print_stats(r"/(vat|ledger)/", 40)
        print(out.getvalue(), file=sys.stderr)
    figures = views_after_changes(app, client, "/", first, partial(record_step, writer), VIEWS)
    row = {"page": "/", "role": role.value, "warm_start": WARM_START, "load": os.getloadavg()[0]}
    print(json.dumps(row | figures), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], Role(sys.argv[2]), "--profile" in sys.argv[3:])
