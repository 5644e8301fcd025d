"""The earlier years' four tables (vat.reports.un_followup) read the allegations once: one
statement, each allegation flagged with the tables it counts in, and the same figures as the
Secretary-General's 2017 report gives (tests/reports/test_un_followup.py's rebuilt records)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from tests.bench.conftest import logged_queries
from tests.reports.conftest import cells_of
from tests.reports.test_un_followup import YEAR, rebuilt  # noqa: F401 - the fixture
from vat.allegations.models import Allegation
from vat.auth.models import User
from vat.db import db
from vat.reports.scope import Period, VictimFilters, place_conditions
from vat.reports.un_followup import follow_up


def test_one_statement_for_the_four_tables(app: Flask, rebuilt: Any) -> None:  # noqa: F811
    with app.test_request_context():
        user = db.session.get_one(User, rebuilt.id)
        place = place_conditions(
            user, VictimFilters(), record=Allegation, record_type="allegation", dated=Allegation.received_on
        )
        with logged_queries(app) as log:
            earlier = follow_up(place, Period.of_year(YEAR), 1)
    assert len(log.statements) == 1
    by_year = dict(
        zip(earlier.results_missing.column_labels, earlier.results_missing.column_totals, strict=True)
    )
    assert by_year == {"2013": 3, "2014": 1, "2015": 15, "2016": 40}  # and one result sent after the year
    assert cells_of(earlier.results_received) == {
        ("2015", "substantiated"): 4,
        ("2015", "unsubstantiated"): 3,
        ("2016", "substantiated"): 14,
        ("2016", "unsubstantiated"): 19,
    }
