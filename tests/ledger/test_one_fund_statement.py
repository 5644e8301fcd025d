"""One owner of the fund statement (ledger.reports.statements): the ledger's overview and
statement, the fund report and the dashboard show the same fund balance, income and expenses."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal as D

from sqlalchemy import select

from ledger.models import Donor
from ledger.reports import donor_figures, statements
from tests.ledger.conftest import Fund
from tests.ledger.test_balances import book_a_bit_of_everything
from vat.auth.models import Role
from vat.db import db
from vat.reports.fund import fund_statement as fund_report


def money(page: str, element: str) -> D:
    found = re.search(rf'id="{element}">(?:<strong>)?<span class="money">US\$(-?[\d,]+\.\d\d)', page)
    assert found, element
    return D(found.group(1).replace(",", ""))


def test_the_statement_overview_report_and_dashboard_agree(app, client, login, fund: Fund):
    book_a_bit_of_everything(fund)
    fund.withhold("A-2", "ZAF", "800", date(2019, 4, 2))
    db.session.commit()
    today = date.today()
    ledger = statements.fund_statement()
    year = fund_report(date(2019, 1, 1), today)
    balance = statements.fund_balance(today)
    assert balance == ledger.closing_balance == year.closing_balance
    assert (ledger.total_income, ledger.total_expenses) == (year.total_income, year.total_expenses)
    assert ledger.closing_balance == ledger.opening_balance + ledger.total_income - ledger.total_expenses
    assert (ledger.income, ledger.expenses, ledger.pledges, ledger.withheld) == (
        year.income,
        year.expenses,
        year.pledges,
        year.withheld,
    )
    by_donor = donor_figures.donor_figures()
    names = {donor.id: donor.name for donor in db.session.scalars(select(Donor))}
    assert ledger.pledges == [
        (names[d], f.pledged, f.received, f.outstanding)
        for d, f in sorted(by_donor.items(), key=lambda i: names[i[0]])
    ]
    mid_month = statements.fund_statement(date(2019, 1, 16), today)
    assert mid_month.opening_balance == statements.fund_balance(date(2019, 1, 15))
    assert mid_month.closing_balance == mid_month.opening_balance + mid_month.surplus == balance
    # What the dashboard reads: the statement's flows alone, the same figures.
    flows = statements.fund_flows(date(2019, 1, 16), today)
    assert vars(flows) == {name: value for name, value in vars(mid_month).items() if name in vars(flows)}
    assert flows.months and flows.expenses and flows.voluntary and flows.closing_balance == balance
    # 100,000 received; a pledge of 9,000 euros at 0.90 (10,000) and 555.56 gained receiving 4,000
    # of it at 0.80; 2,500 and 800 withheld; a grant of 20,000 and 650 programme support cost on
    # its tranche; direct support paid and reversed
    assert balance == D("100000") + D("10000") + D("555.56") + D("3300") - D("20650")
    db.session.rollback()

    login(Role.FUND_MANAGER, "")
    overview = client.get("/ledger/").get_data(as_text=True)
    statement_page = client.get("/ledger/statement").get_data(as_text=True)
    report = client.get(f"/reports/fund?start=2019-01-01&end={today.isoformat()}").get_data(as_text=True)
    dashboard = client.get("/reports/").get_data(as_text=True)
    assert money(overview, "fund-balance") == balance
    assert money(overview, "cash") == ledger.closing_cash == ledger.position["cash"]
    assert money(statement_page, "statement-fund-balance") == balance
    assert money(report, "closing-balance") == balance
    assert money(dashboard, "summary-fund-balance") == balance
