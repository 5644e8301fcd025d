"""The allegation clock report, in SQL, against hand-dated allegations — and against the
allegations service's own clock, one allegation at a time."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from vat.allegations import clock
from vat.allegations.models import Allegation
from vat.auth.models import Role, User
from vat.db import db
from vat.reports.clock import CLOCK_STATES, clock_report
from vat.reports.scope import VictimFilters
from vat.reports.suppression import suppress_line

TODAY = date(2021, 6, 30)
D = date
ALLEGATIONS = [
    # A1 military, normal: assessed on time (4), referred late (5 > 3), NIO on time (5 ≤ 10),
    #    investigation open within 6 months, report waiting
    dict(
        reference="0001/21", personnel_category="military_contingent", urgency="normal",
        received_on=D(2021, 1, 1), assessed_on=D(2021, 1, 5), referred_on=D(2021, 1, 10),
        nio_decision_on=D(2021, 1, 15),
    ),
    # A2 civilian, high priority: assessed late (19), referred on time (2), NIO not applicable,
    #    investigation overdue (3 months from 01-22), report waiting
    dict(
        reference="0002/21", personnel_category="civilian", urgency="high_priority",
        received_on=D(2021, 1, 1), assessed_on=D(2021, 1, 20), referred_on=D(2021, 1, 22),
    ),
    # A3 military, urgent: on time, on time, NIO late (8 > 5), investigation on time (89 days,
    #    3 months), report late (20 > 15)
    dict(
        reference="0003/20", personnel_category="military_contingent", urgency="urgent",
        received_on=D(2020, 8, 31), assessed_on=D(2020, 9, 1), referred_on=D(2020, 9, 2),
        nio_decision_on=D(2020, 9, 10), investigation_completed_on=D(2020, 11, 30),
        report_submitted_on=D(2020, 12, 20),
    ),
    # A4 civilian, normal: 6 months from 31 Aug is 28 Feb (clamped), so 1 March is one day late;
    #    report overdue since 16 March
    dict(
        reference="0004/20", personnel_category="civilian", urgency="normal",
        received_on=D(2020, 8, 31), assessed_on=D(2020, 8, 31), referred_on=D(2020, 8, 31),
        investigation_completed_on=D(2021, 3, 1),
    ),
]  # fmt: skip


@pytest.fixture
def dated(app):
    with app.app_context():
        for values in ALLEGATIONS:
            db.session.add(Allegation(country_code="CAF", mission="MINUSCA", **values))
        db.session.commit()


def _report(app, make_user, role, scope="CAF", filters=None):
    uid = make_user(role, scope).id
    with app.app_context():
        return clock_report(db.session.get(User, uid), filters or VictimFilters(), today=TODAY)


def _counts(row):
    return dict(zip([k for k, _ in CLOCK_STATES], row.counts, strict=True))


def test_steps_on_time_late_open_and_averages(app, make_user, dated):
    report = _report(app, make_user, Role.ADVOCATE)
    assert report.allegations == 4
    rows = {r.step: r for r in report.rows}
    assert list(rows) == [
        "assessed",
        "referred",
        "nio_decision",
        "investigation_completed",
        "report_submitted",
    ]
    zero = dict.fromkeys((k for k, _ in CLOCK_STATES), 0)
    assert _counts(rows["assessed"]) == zero | {"on_time": 3, "late": 1}
    assert rows["assessed"].average_days == Decimal("6.0")
    assert _counts(rows["referred"]) == zero | {"on_time": 3, "late": 1}
    assert rows["referred"].average_days == Decimal("2.0")
    assert _counts(rows["nio_decision"]) == zero | {"on_time": 1, "late": 1, "not_applicable": 2}
    assert rows["nio_decision"].average_days == Decimal("6.5")
    assert _counts(rows["investigation_completed"]) == zero | {
        "on_time": 1,
        "late": 1,
        "due": 1,
        "overdue": 1,
    }
    assert rows["investigation_completed"].average_days == Decimal("135.5")
    assert _counts(rows["report_submitted"]) == zero | {"late": 1, "overdue": 1, "waiting": 2}
    assert rows["nio_decision"].limit == "10 days (5 days if urgent or more urgent)"


def test_the_sql_clock_agrees_with_the_allegations_service(app, make_user, dated):
    report = _report(app, make_user, Role.SENIOR_ADVOCATE)
    with app.app_context():
        rule_list = clock.rules()
        expected: dict[str, dict[str, int]] = {}
        for allegation in db.session.scalars(select(Allegation)):
            for state in clock.clock(allegation, rule_list=rule_list, on=TODAY)[1:]:
                counts = expected.setdefault(state.step.value, dict.fromkeys((k for k, _ in CLOCK_STATES), 0))
                counts[state.state] += 1
    assert {r.step: _counts(r) for r in report.rows} == expected


def test_the_sql_clock_agrees_on_bounded_and_historical_steps(app, make_user, dated):
    """Issue 17, item 3: a step without a date but a later one is done by then; a historical
    record's steps without dates are not recorded; neither is overdue, in both clocks."""
    with app.app_context():
        db.session.add_all(
            [
                Allegation(
                    reference="0005/21", country_code="CAF", mission="MINUSCA", personnel_category="civilian",
                    received_on=D(2021, 1, 4), referred_on=D(2021, 1, 20),
                ),
                Allegation(
                    reference="0006/15", country_code="CAF", mission="MINUSCA", personnel_category="civilian",
                    received_on=D(2015, 3, 2), historical=True,
                ),
            ]
        )  # fmt: skip
        db.session.commit()
    test_the_sql_clock_agrees_with_the_allegations_service(app, make_user, dated)
    rows = {r.step: _counts(r) for r in _report(app, make_user, Role.SENIOR_ADVOCATE).rows}
    assert rows["assessed"]["done_by"] == 1 and rows["referred"]["not_recorded"] == 1
    assert rows["referred"]["done"] == 1 and rows["assessed"]["not_recorded"] == 1  # 0005/21, 0006/15


def test_filters_and_scope(app, make_user, dated):
    assert _report(app, make_user, Role.ADVOCATE, filters=VictimFilters(year=2020)).allegations == 2
    assert _report(app, make_user, Role.ADVOCATE, scope="COD").allegations == 0


def test_auditor_lines_are_suppressed_with_a_complement(app, make_user, dated):
    report = _report(app, make_user, Role.AUDITOR, scope="")
    assessed = report.rows[0]
    assert assessed.counts == [None, None, 0, 0, 0, 0, 0, 0, 0]
    assert assessed.average_days is None
    for row in report.rows:
        assert sum(n is None for n in row.counts) != 1


def test_suppress_line():
    assert suppress_line([3, 10, 0], threshold=5) == [None, None, 0]
    assert suppress_line([3, 0, 0], threshold=5) == [None, None, 0]
    assert suppress_line([3, 4, 9], threshold=5) == [None, None, 9]
    assert suppress_line([3, 4], threshold=1) == [3, 4]


def test_clock_page_and_export(app, client, login, dated):
    login(Role.ADVOCATE, "CAF")
    page = client.get("/reports/clock").get_data(as_text=True)
    assert "Assessed and reported" in page and 'role="img"' in page
    response = client.get("/reports/clock/export.xlsx?year=2021")
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("step", "limit", "on time")
    assert rows[1][0] == "Assessed and reported" and rows[1][-2] == 2
