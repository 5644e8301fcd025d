"""Benchmark (not a timed test): the per-victim report over 100,000 victims against the
hand-written SQL that answers the same question. Run with VAT_BENCH=1; it prints both timings
and checks only that both give the same figures.

    VAT_BENCH=1 .venv/bin/pytest tests/reports/test_benchmark.py -s
"""

from __future__ import annotations

import os
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import insert, text

from vat.auth.models import Role, User
from vat.db import db
from vat.reports.assistance import assistance_report
from vat.reports.scope import VictimFilters
from vat.reports.support import support_rows
from vat.victims.models import Assistance, Communication, Victim

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.environ.get("VAT_BENCH"), reason="a benchmark: set VAT_BENCH=1 to run it"),
]

VICTIMS = int(os.environ.get("VAT_BENCH_VICTIMS", "100000"))
SERVICE_TYPES = ["medical", "psychosocial", "legal", "material", "shelter", "education"]
STATUSES = ["referred", "in_progress", "completed", "declined", "not_available"]

HAND_WRITTEN = """
SELECT count(*), sum(CASE WHEN delivered > 0 THEN 1 ELSE 0 END)
FROM (
  SELECT v.id, (SELECT count(*) FROM vat_assistance a
                WHERE a.victim_id = v.id AND a.status IN ('in_progress', 'completed')) AS delivered
  FROM vat_victim v WHERE v.country_code = 'CAF'
) AS per_victim
"""


def _fill(count: int) -> None:
    start = date(2015, 1, 1)
    batch = 10_000
    for offset in range(0, count, batch):
        db.session.execute(
            insert(Victim),
            [
                {
                    "case_code": f"CAR-B-{n:07d}",
                    "country_code": "CAF",
                    "mission": "MINUSCA",
                    "sex": "female" if n % 5 else "male",
                    "age_group": "minor" if n % 3 == 0 else "adult",
                    "status": "active",
                    "registered_on": start + timedelta(days=n % 2000),
                }
                for n in range(offset, min(offset + batch, count))
            ],
        )
    first = db.session.scalar(text("SELECT min(id) FROM vat_victim"))
    # 37% get nothing at all (DOMAIN.md); the others one to three services.
    for offset in range(0, count, batch):
        services, contacts = [], []
        for n in range(offset, min(offset + batch, count)):
            if n % 100 < 37:
                continue
            for k in range(1 + n % 3):
                referral = start + timedelta(days=n % 2000)
                services.append(
                    {
                        "victim_id": first + n,
                        "service_type": SERVICE_TYPES[(n + k) % len(SERVICE_TYPES)],
                        "status": "completed" if k == 0 else STATUSES[(n + k) % len(STATUSES)],
                        "referral_date": referral,
                        "start_date": referral + timedelta(days=n % 40) if k == 0 else None,
                        "end_date": referral + timedelta(days=n % 40 + 10) if k == 0 else None,
                        "funding_source": "agency",
                    }
                )
            contacts.append(
                {
                    "victim_id": first + n,
                    "occurred_on": date.today() - timedelta(days=n % 200),
                    "channel": "phone",
                    "by_whom": "advocate",
                    "case_update_given": True,
                }
            )
        db.session.execute(insert(Assistance), services)
        db.session.execute(insert(Communication), contacts)
    db.session.commit()
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("ANALYZE"))
    else:
        db.session.execute(text("ANALYZE"))
    db.session.commit()


def _timed(call):
    began = time.perf_counter()
    result = call()
    return result, time.perf_counter() - began


def test_per_victim_report_over_many_victims(app, make_user):
    uid = make_user(Role.ADVOCATE, "CAF").id
    with app.app_context():
        _, filled = _timed(lambda: _fill(VICTIMS))
        user = db.session.get(User, uid)
        expected, hand = _timed(lambda: db.session.execute(text(HAND_WRITTEN)).one())
        figures, headline = _timed(lambda: headline(user, VictimFilters()))
        page, first_page = _timed(
            lambda: db.session.execute(support_rows(user, VictimFilters(), page=(100, 50_000))).all()
        )
        assistance, by_type = _timed(lambda: assistance_report(user, VictimFilters(), by="type"))
        print(
            f"\n{db.session.get_bind().dialect.name}, {VICTIMS:,} victims (filled in {filled:.1f}s):"
            f"\n  hand-written SQL (supported or not)      {hand * 1000:8.0f} ms"
            f"\n  report headline (all its figures)        {headline * 1000:8.0f} ms"
            f"\n  first page of 100 rows                   {first_page * 1000:8.0f} ms"
            f"\n  assistance by type with medians          {by_type * 1000:8.0f} ms"
        )
        assert (figures.victims, figures.supported) == (int(expected[0]), int(expected[1]))
        assert figures.not_supported_share == pytest.approx(37, abs=0.5)
        assert len(page) == 100
        assert assistance.table.grand_total is not None
