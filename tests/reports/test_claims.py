"""The claims report in SQL, against the claims service's own dashboard (its own queries, with
amounts due counted in Python) over hand-made claims with letters, orders and payments."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import select

from tests.claims.conftest import EUR_PAID, LUMP_SUM_UNPAID, MONTHLY_USD, build_claim
from tests.statements import counting
from vat.auth.models import Role, User
from vat.claims import listing
from vat.db import db
from vat.reports import claims as claims_module
from vat.reports.claims import claims_report, waiting_on_member_states, waiting_total
from vat.reports.scope import VictimFilters
from vat.victims.models import Victim

TODAY = date(2021, 6, 30)
D = date


def _claim(code, member_state, step, opened, **history):
    victim = db.session.scalar(select(Victim).where(Victim.case_code == code))
    build_claim(victim, member_state, step, opened, **history)


@pytest.fixture
def claims(app, world):
    """NPL: one claim referred, waiting since 15 Jan (166 days); one with a monthly order of
    USD 100 from 31 Jan (6 due by 30 June, clamped to month ends), 250 paid, waiting since a letter
    sent the day a reply came (333 days). BGD: one paying, quarterly EUR 300 replaced by a yearly
    EUR 1,000 (2,200 due, all paid), not waiting; one closed with a lump sum of USD 500 unpaid."""
    with app.app_context():
        _claim("CAR-2020-0001", "NPL", "referred", D(2021, 1, 10), letters=[("sent", D(2021, 1, 15))])
        _claim("CAR-2021-0005", "NPL", "support_ordered", D(2020, 6, 1), **MONTHLY_USD)
        _claim("CAR-2021-0006", "BGD", "paying", D(2019, 1, 1), **EUR_PAID)
        _claim("CAR-2020-0002", "BGD", "closed", D(2018, 1, 1), **LUMP_SUM_UNPAID)
        db.session.commit()
    return TODAY


def _report(app, make_user, role, scope="CAF", on=TODAY):
    uid = make_user(role, scope).id
    with app.app_context():
        return claims_report(db.session.get(User, uid), VictimFilters(), today=on), uid


def test_claims_report_figures(app, make_user, claims):
    report, _ = _report(app, make_user, Role.ADVOCATE)
    table = report.by_state
    assert table.row_labels == ["BGD", "NPL"]
    assert table.row_totals == [2, 2]
    assert dict(report.by_age) == {
        "up to 90 days": 0, "91–180 days": 1, "181–365 days": 0, "1–2 years": 1, "over 2 years": 1,
    }  # fmt: skip
    waiting = {w.member_state: w for w in report.waiting}
    assert (waiting["NPL"].open_claims, waiting["NPL"].waiting, waiting["NPL"].longest_days) == (2, 2, 333)
    assert (waiting["BGD"].open_claims, waiting["BGD"].waiting, waiting["BGD"].longest_days) == (1, 0, None)
    arrears = {a.currency: a for a in report.arrears}
    assert (arrears["EUR"].due, arrears["EUR"].received, arrears["EUR"].arrears) == (
        Decimal("2200.00"), Decimal("2200.00"), Decimal("0.00"),
    )  # fmt: skip
    assert (arrears["USD"].due, arrears["USD"].received, arrears["USD"].arrears) == (
        Decimal("1100.00"), Decimal("250.00"), Decimal("850.00"),
    )  # fmt: skip
    assert arrears["USD"].claims_in_arrears == 2 and arrears["EUR"].claims_in_arrears == 0


@pytest.mark.parametrize("on", [TODAY, D(2024, 2, 29), D(2025, 12, 31)])
def test_the_sql_report_agrees_with_the_claims_dashboard(app, make_user, claims, on):
    report, uid = _report(app, make_user, Role.SENIOR_ADVOCATE, "CAF,COD", on=on)
    with app.app_context():
        board = listing.dashboard(db.session.get(User, uid), on=on)
    assert {s.label: n for s, n in board.by_step} == {
        label: n
        for label, n in zip(report.by_state.column_labels, report.by_state.column_totals, strict=True)
        if n
    }
    assert {state: (n, longest) for state, n, longest in board.by_member_state} == {
        w.member_state: (w.open_claims, w.longest_days or 0) for w in report.waiting
    }
    assert {label: n for label, n in board.by_age} == {label: n for label, n in report.by_age if n}
    assert {b.currency: (b.due, b.received) for b in board.arrears} == {
        a.currency: (a.due, a.received) for a in report.arrears
    }


def test_an_auditor_gets_the_claims_suppressed(app, make_user, claims):
    report, _ = _report(app, make_user, Role.AUDITOR, "")
    assert all(v is None or v == 0 or v >= 5 for row in report.by_state.cells for v in row)
    assert all(a.due is None for a in report.arrears)  # fewer than five claims with orders
    assert all(w.longest_days is None for w in report.waiting)


@pytest.mark.parametrize("role", [Role.FUND_MANAGER, Role.AUDITOR])
def test_every_claim_in_reach_is_counted_without_reading_the_victims(
    app, make_user, claims, role, monkeypatch
):
    """Those who reach every victim, unfiltered or by the year opened, count the claims alone, and
    are shown what the claims found through their victims give; a place filter reads the victims."""
    uid = make_user(role, "").id
    with app.app_context():
        user = db.session.get_one(User, uid)
        for filters in [VictimFilters(), VictimFilters(year=2021)]:
            with counting(app) as sent:
                figures = claims_report(user, filters, today=TODAY), waiting_total(user)
            assert not any("vat_victim" in statement for statement in sent)
            with monkeypatch.context() as patched:
                patched.setattr(claims_module, "_through_victims", lambda *_: True)
                assert figures == (claims_report(user, filters, today=TODAY), waiting_total(user))
        with counting(app) as sent:
            claims_report(user, VictimFilters(country_code="CAF"), today=TODAY)
        assert any("vat_victim" in statement for statement in sent)


def test_claims_page_and_export(client, login, claims):
    login(Role.ADVOCATE, "CAF")
    page = client.get("/reports/claims").get_data(as_text=True)
    assert "Claims by member state and step" in page and 'role="img"' in page
    response = client.get("/reports/claims/export.xlsx")
    workbook = load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == [
        "By member state and step",
        "Open claims by age",
        "Waiting on member states",
        "Child support",
    ]
    money = list(workbook["Child support"].iter_rows(values_only=True))
    assert money[0] == ("currency", "due", "received", "arrears", "claims in arrears")
    usd = next(row for row in money if row[0] == "USD")  # as at today: more instalments have fallen due
    assert usd[2] == 250 and usd[3] == usd[1] - 250 and usd[4] == 2
    assert client.get("/reports/claims/export.csv").status_code == 200


LETTER_DAYS = st.dates(min_value=D(2021, 1, 1), max_value=D(2021, 1, 6))  # few days: ties in date
CLAIM_HISTORY = st.tuples(
    st.sampled_from(["NPL", "BGD", "PAK"]),
    st.sampled_from(["referred", "support_ordered", "closed"]),
    st.lists(st.tuples(st.sampled_from(["sent", "received"]), LETTER_DAYS), max_size=4),
)


def test_the_dashboards_waiting_total_is_the_claims_reports(app, make_user, world):
    """The dashboard reads "waiting" as "the last letter is one sent"; the claims report dates the
    wait from the first letter sent after the last reply: for any letters, in any order and on the
    same days, they count the same claims, with the same suppression."""
    viewers = [make_user(Role.ADVOCATE, "CAF").id, make_user(Role.AUDITOR, "").id]
    compared = []

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(histories=st.lists(CLAIM_HISTORY, min_size=1, max_size=8))
    def agree(histories):
        savepoint = db.session.begin_nested()
        try:
            victims = db.session.scalars(select(Victim).order_by(Victim.id).limit(len(histories))).all()
            for victim, (state, step, letters) in zip(victims, histories, strict=False):
                build_claim(victim, state, step, D(2020, 12, 1), letters=letters)
            for uid in viewers:
                user = db.session.get_one(User, uid)
                lines = waiting_on_member_states(user, VictimFilters(), today=TODAY)
                waiting = [line.waiting for line in lines]
                before = None if any(n is None for n in waiting) else sum(n for n in waiting if n)
                assert waiting_total(user) == before
                compared.append(before or 0)
        finally:
            savepoint.rollback()

    with app.app_context():
        agree()
    assert sum(compared) > 0  # some claims were waiting
