"""The fund manager's journey in a real browser: a pledge and its receipt, a withholding and its
transfer, a project approved and a tranche disbursed; the fund balance and the reconciliation
page follow."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import browser_sign_in
from vat.auth.models import Role

pytestmark = pytest.mark.browser


def record(page, fields: dict[str, str], selects: dict[str, str] | None = None) -> None:
    for label, value in fields.items():
        page.get_by_label(label, exact=True).fill(value)
    for label, value in (selects or {}).items():
        page.get_by_label(label, exact=True).select_option(value)
    page.get_by_role("button", name="Record").click()


def test_fund_manager_journey(live_server, page, make_user):
    user = make_user(Role.FUND_MANAGER, "")
    refused = []
    page.on(
        "console",
        lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None,
    )

    browser_sign_in(page, live_server, user.username)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Trust fund").click()
    page.get_by_role("heading", name="Trust fund ledger").wait_for()

    fund = page.get_by_role("navigation", name="Trust fund")
    fund.get_by_role("link", name="Donors").click()
    page.get_by_role("link", name="Add a donor").click()
    record(page, {}, {"Member state": "NOR"})
    page.get_by_role("heading", name="Norway").wait_for()
    page.get_by_role("link", name="Record a pledge").click()
    record(page, {"Amount": "100000", "Date of the pledge": "2019-01-05"})
    page.get_by_text("Pledge recorded.").wait_for()
    page.get_by_role("link", name="Record a receipt").click()
    record(page, {"Amount": "100000", "Date received": "2019-02-11", "Bank reference": "BNK-0211"})
    page.get_by_text("Receipt recorded.").wait_for()

    fund.get_by_role("link", name="Withheld payments").click()
    page.get_by_role("link", name="Record a withholding").click()
    record(
        page,
        {"Allegation reference": "0399/15", "Amount withheld": "20000", "Date of the decision": "2019-02-01"},
        {"Contributing country": "ZAF"},
    )
    page.get_by_role("link", name="Record a transfer into the fund").click()
    record(
        page,
        {
            "Amount transferred": "15000",
            "Date received by the fund": "2019-04-01",
            "Transfer reference": "T-1",
        },
    )
    page.get_by_text("Transfer recorded.").wait_for()

    fund.get_by_role("link", name="Projects").click()
    page.get_by_role("link", name="Approve a project").click()
    record(
        page,
        {
            "Title": "Livelihoods, Bangui",
            "Implementing partner": "IRC",
            "Approved amount": "50000",
            "Approved by the review committee on": "2019-03-01",
            "Planned start": "2019-04-01",
            "Planned end": "2020-03-31",
        },
        {"Country": "CAF", "Focus": "income_generation"},
    )
    page.get_by_role("heading", name="Livelihoods, Bangui").wait_for()
    page.get_by_role("link", name="Disburse a tranche").click()
    record(page, {"Tranche amount": "5000", "Payment date": "2019-04-15", "Payment reference": "PAY-1"})
    page.get_by_text("Disbursement recorded.").wait_for()
    assert page.locator("#disbursed").inner_text() == "USD 5,000.00"
    assert page.locator("#remaining").inner_text() == "USD 45,000.00"

    fund.get_by_role("link", name="Overview").click()
    # cash: 100,000 received + 15,000 transferred − 5,000 disbursed − 650 programme support cost
    assert page.locator("#cash").inner_text() == "US$109,350.00"
    # fund balance: 100,000 pledged + 20,000 withheld − a grant of 50,000 − 650
    assert page.locator("#fund-balance").inner_text() == "US$69,350.00"
    assert page.locator("#available").inner_text() == "US$58,500.00"

    fund.get_by_role("link", name="Withheld payments").click()
    ties = page.locator("#ties")
    assert re.search(r"Difference\s+0\.00\s+0\.00\s+0\.00", ties.inner_text())
    expect(page.get_by_text("Records and ledger agree.")).to_be_visible()
    row = page.locator("#by-allegation tbody tr", has_text="0399/15")
    assert "USD 5,000.00" in row.inner_text()
    assert refused == []
