"""The member-state scorecard (issue 17, item 5) on hand-dated allegations with known answers; its
suppression for roles outside the advocates' scope; the dashboard's count of overdue
accountability steps; the page, its chart and its exports.

On 30 June 2026, Pakistan (military contingents):
  1/26 substantiated, report 03-10, NIO in 5 days; referred to Pakistan 03-20, no result (due 06-18),
       no sanction (due 06-10)            → results not sent and overdue, sanction pending, cycle overdue
  2/26 pending, NIO in 17 days (late), investigation due 07-03
  3/26 pending, referred 2025-10-03, no NIO decision, investigation overdue
  4/26 substantiated, NIO in 2 days, repatriated and banned, Pakistan's outcome received
Nepal (civilians):
  5/26 substantiated, report 04-01, referred for criminal accountability 04-15, no sanction yet
  6/26 substantiated, historical, nothing recorded (not pending: not recorded)
  7/26 no contributing country: on no line
US$800 withheld from Pakistan for 1/26, US$300 of it transferred."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from ledger.engine import from_minor
from ledger.models import Entry, Withholding, WithholdingTransfer
from tests.ledger.conftest import Fund
from vat.allegations import cycle_counts
from vat.allegations.cycle_models import AccountabilityStep
from vat.allegations.models import Allegation
from vat.auth import services as auth
from vat.auth.models import Role, User
from vat.db import db
from vat.reports.member_states import overdue_cycle_steps, scorecard

ON = date(2026, 6, 30)
D = date
REPORTED = {"received_on": D(2026, 1, 1), "assessed_on": D(2026, 1, 5), "referred_on": D(2026, 1, 7)}
ALLEGATION_COLUMNS = "reference perpetrator_country personnel_category outcome historical dates".split()
ALLEGATIONS = [
    ("1/26", "PAK", "military_contingent", "substantiated", False,
     {**REPORTED, "nio_decision_on": D(2026, 1, 12), "investigation_completed_on": D(2026, 3, 1),
      "report_submitted_on": D(2026, 3, 10)}),
    ("2/26", "PAK", "military_contingent", "pending", False,
     {"received_on": D(2026, 1, 1), "assessed_on": D(2026, 1, 2), "referred_on": D(2026, 1, 3),
      "nio_decision_on": D(2026, 1, 20)}),
    ("3/26", "PAK", "military_contingent", "pending", False,
     {"received_on": D(2025, 10, 1), "assessed_on": D(2025, 10, 2), "referred_on": D(2025, 10, 3)}),
    ("4/26", "PAK", "military_contingent", "substantiated", False,
     {"received_on": D(2026, 1, 10), "assessed_on": D(2026, 1, 12), "referred_on": D(2026, 2, 1),
      "nio_decision_on": D(2026, 2, 3), "investigation_completed_on": D(2026, 4, 20),
      "report_submitted_on": D(2026, 5, 1)}),
    ("5/26", "NPL", "civilian", "substantiated", False,
     {**REPORTED, "investigation_completed_on": D(2026, 3, 20), "report_submitted_on": D(2026, 4, 1)}),
    ("6/26", "NPL", "civilian", "substantiated", True, {"received_on": D(2019, 1, 1)}),
    ("7/26", None, "civilian", "pending", False, {"received_on": D(2026, 6, 1)}),
]  # fmt: skip
STEPS = [
    ("1/26", "member_state_referral", "referred", D(2026, 3, 20)),
    ("4/26", "administrative_action", "repatriation_and_ban", D(2026, 5, 10)),
    ("4/26", "member_state_referral", "referred", D(2026, 5, 5)),
    ("4/26", "member_state_outcome", "imprisonment", D(2026, 6, 1)),
    ("5/26", "criminal_referral", "referred", D(2026, 4, 15)),
]
PAKISTAN = {
    "allegations": 4,
    "nio_late": 2,
    "investigations_overdue": 1,
    "results_not_sent": 1,
    "results_overdue": 1,
    "sanctions_pending": 1,
    "cycle_overdue": 1,
    "claims_waiting": 0,
}
NEPAL = {
    "allegations": 2,
    "nio_late": 0,
    "investigations_overdue": 0,
    "results_not_sent": 0,
    "results_overdue": 0,
    "sanctions_pending": 1,
    "cycle_overdue": 0,
    "claims_waiting": 0,
}


@pytest.fixture
def world(app):
    with app.app_context():
        ids = {}
        for row in ALLEGATIONS:
            values = dict(zip(ALLEGATION_COLUMNS, row, strict=True))
            allegation = Allegation(country_code="CAF", mission="MINUSCA", **values.pop("dates"), **values)
            db.session.add(allegation)
            db.session.flush()
            ids[allegation.reference] = allegation.id
        for reference, step, measure, on in STEPS:
            db.session.add(
                AccountabilityStep(allegation_id=ids[reference], step=step, measure=measure, dated_on=on)
            )
        cycle_counts.rebuild()  # rows inserted outside the app's services
        users = [
            auth.create_user(
                actor=None, username=f"fund{n}", password="a long enough password 1", role=Role.FUND_MANAGER
            )
            for n in (1, 2)
        ]
        db.session.commit()
        fund = Fund(*users)
        withholding = fund.withhold("1/26", "PAK", "800", D(2026, 4, 1))
        fund.transfer(withholding, "300", D(2026, 5, 1))
        db.session.commit()


def _card(app, make_user, role, scope="CAF", reads_ledger=False):
    uid = make_user(role, scope).id
    with app.app_context():
        return scorecard(db.session.get(User, uid), reads_ledger=reads_ledger, today=ON)


def test_known_answers_for_an_advocate(app, make_user, world):
    card = _card(app, make_user, Role.ADVOCATE)
    lines = {line.member_state: line for line in card.lines}
    assert set(lines) == {"NPL", "PAK"}
    assert lines["PAK"].counts == PAKISTAN and lines["NPL"].counts == NEPAL
    assert lines["PAK"].nio_average_days == Decimal("8.0")  # (5 + 17 + 2) / 3
    assert lines["NPL"].nio_average_days is None
    assert (
        lines["PAK"].withheld_outstanding is None and not card.shows_withheld
    )  # advocates do not read the ledger
    assert _card(app, make_user, Role.ADVOCATE, scope="COD").lines == []


def test_withheld_outstanding_comes_from_the_ledger(app, make_user, world):
    card = _card(app, make_user, Role.SENIOR_ADVOCATE, reads_ledger=True)
    lines = {line.member_state: line for line in card.lines}
    assert lines["PAK"].withheld_outstanding == {"USD": Decimal("500.00")}
    assert lines["NPL"].withheld_outstanding == {}


def test_small_counts_are_hidden_outside_the_advocates_scope(app, make_user, world):
    card = _card(app, make_user, Role.AUDITOR, scope="", reads_ledger=True)
    assert card.threshold == 5
    for line in card.lines:
        assert all(n is None or n == 0 or n >= 5 for n in line.counts.values())
        assert line.nio_average_days is None  # three decisions: fewer than five
    pakistan = next(line for line in card.lines if line.member_state == "PAK")
    assert pakistan.counts["allegations"] is None and pakistan.counts["claims_waiting"] == 0
    assert pakistan.withheld_outstanding == {
        "USD": Decimal("500.00")
    }  # money, as the fund statement shows it


def test_the_dashboard_counts_the_overdue_steps(app, make_user, world):
    advocate, auditor = make_user(Role.ADVOCATE, "CAF").id, make_user(Role.AUDITOR, "").id
    with app.app_context():
        # 1/26: its sanction (due 06-10) and Pakistan's result (due 06-18)
        assert overdue_cycle_steps(db.session.get(User, advocate), today=ON) == 2
        assert overdue_cycle_steps(db.session.get(User, auditor), today=ON) is None
        assert (
            overdue_cycle_steps(db.session.get(User, advocate), today=D(2026, 6, 11)) == 1
        )  # only the sanction, a day late


def test_page_chart_and_exports(app, client, login, world):
    login(Role.ADVOCATE, "CAF")
    page = client.get("/reports/member-states").get_data(as_text=True)
    assert "Pakistan" in page and 'id="member-states-table"' in page and 'role="img"' in page
    response = client.get("/reports/member-states/export.csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:3] == ["member state", "name", "allegations"]
    assert rows[2][:3] == ["PAK", "Pakistan", "4"]
    book = load_workbook(io.BytesIO(client.get("/reports/member-states/export.xlsx").data))
    assert list(book.active.iter_rows(values_only=True))[1][:3] == ("NPL", "Nepal", 2)
    assert client.get("/reports/member-states/export.pdf").status_code == 404
    french = client.get("/reports/member-states", headers={"Accept-Language": "fr"})
    assert french.status_code == 200


def test_dashboard_and_auditor_page(app, client, login, world):
    login(Role.AUDITOR, "")
    page = client.get("/reports/member-states").get_data(as_text=True)
    assert "suppressed" in page
    # Withheld and not yet transferred, in its currency the reader's way (issue 19, item 3).
    assert '<span class="money">$500.00</span>' in page
    french = client.get("/reports/member-states", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<span class="money">500,00\xa0$US</span>' in french
    dashboard = client.get("/").get_data(as_text=True)
    assert 'id="summary-overdue-cycle"' in dashboard


def _outstanding_from_rows() -> dict[str, dict[str, Decimal]]:
    """Withheld less transferred per country and currency, recomputed from the withholding and
    transfer rows: those whose entry stands (booked and not reversed), without the ledger."""
    reversed_ids = set(db.session.scalars(select(Entry.reverses_id).where(Entry.reverses_id.is_not(None))))
    standing = {
        w.id: w
        for w in db.session.scalars(select(Withholding))
        if w.entry_id is not None and w.entry_id not in reversed_ids
    }
    minor: dict[tuple[str, str], int] = {}
    for w in standing.values():
        minor[(w.country_code, w.currency)] = minor.get((w.country_code, w.currency), 0) + w.amount_minor
    for t in db.session.scalars(select(WithholdingTransfer)):
        w = standing.get(t.withholding_id)
        if w is not None and t.entry_id is not None and t.entry_id not in reversed_ids:
            minor[(w.country_code, w.currency)] -= t.amount_minor
    found: dict[str, dict[str, Decimal]] = {}
    for (country, currency), amount in sorted(minor.items()):
        if amount:
            found.setdefault(country, {})[currency] = from_minor(amount, currency)
    return found


@pytest.fixture
def booked_more(app, world):
    """On top of the world's withholding: one in euros partly transferred (and a transfer
    reversed), a second month's for Pakistan (and a transfer reversed), a withholding reversed,
    and one transferred in full."""
    with app.app_context():
        fund = Fund(*db.session.scalars(select(User).where(User.username.in_(("fund1", "fund2")))))
        for month in (D(2026, 4, 1), D(2026, 5, 1), D(2026, 6, 1)):
            fund.rate("EUR", month, "1.1")
        euros = fund.withhold("4/26", "PAK", "1000", D(2026, 4, 15), currency="EUR")
        fund.transfer(euros, "400", D(2026, 5, 10))
        fund.reverse(db.session.get(Entry, fund.transfer(euros, "100", D(2026, 5, 12)).entry_id), ON, "typo")
        first = db.session.scalar(select(Withholding).where(Withholding.allegation_ref == "1/26"))
        fund.withhold("1/26", "PAK", "50", D(2026, 6, 2))
        fund.reverse(db.session.get(Entry, fund.transfer(first, "70", D(2026, 6, 3)).entry_id), ON, "typo")
        fund.reverse(
            db.session.get(Entry, fund.withhold("5/26", "NPL", "250", D(2026, 5, 1)).entry_id), ON, "x"
        )
        fund.transfer(fund.withhold("6/26", "NPL", "120", D(2026, 5, 2)), "120", D(2026, 6, 1))
        db.session.commit()
        expected = _outstanding_from_rows()
    assert expected == {"PAK": {"EUR": Decimal("600.00"), "USD": Decimal("550.00")}}
    return expected


@pytest.mark.parametrize("role, scope", [(Role.FUND_MANAGER, ""), (Role.AUDITOR, "")])
def test_withheld_outstanding_equals_the_rows(app, client, login, make_user, booked_more, role, scope):
    """Every withheld figure of the scorecard and of its page's export, read from the ledger's
    kept balances, equals the recomputation from the withholding and transfer rows."""
    card = _card(app, make_user, role, scope=scope, reads_ledger=True)
    assert card.shows_withheld
    shown = {line.member_state: line.withheld_outstanding for line in card.lines}
    assert {state: amounts for state, amounts in shown.items() if amounts} == booked_more
    assert all(shown[state] == {} for state in shown if state not in booked_more)
    login(role, scope)
    page = client.get("/reports/member-states").get_data(as_text=True)
    assert '<span class="money">$550.00</span>' in page  # Pakistan's dollars, the reader's way
    rows = list(
        csv.reader(io.StringIO(client.get("/reports/member-states/export.csv").get_data(as_text=True)))
    )
    column = [name.lstrip("\ufeff") for name in rows[0]].index("withheld outstanding")
    exported = {
        row[0]: {
            currency: Decimal(amount) for amount, currency in (p.split() for p in row[column].split("; "))
        }
        for row in rows[1:]
        if row[column]
    }
    assert exported == booked_more
