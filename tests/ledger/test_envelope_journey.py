"""A mission's rapid-response envelope in a real browser, in English and French: one fund manager
opens it, a second confirms it (the maker is offered no confirmation), the maker pays an urgent
need from it and the list shows what is spent and what remains."""

from __future__ import annotations

from datetime import date

import pytest

from tests.conftest import browser_user
from tests.ledger.conftest import Fund
from vat.auth.models import Role, User
from vat.db import db

pytestmark = pytest.mark.browser


def fill(page, words, fields: dict[str, str], selects: dict[str, str] | None = None) -> None:
    for label, value in fields.items():
        page.get_by_label(words(label), exact=True).fill(value)
    for label, value in (selects or {}).items():
        page.get_by_label(words(label), exact=True).select_option(value)
    page.get_by_role("button", name=words("Record")).click()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_an_envelope_opened_confirmed_and_paid_from(app, live_server, browser, make_user, language):
    maker, checker = make_user(Role.FUND_MANAGER, ""), make_user(Role.FUND_MANAGER, "")
    with app.app_context():
        fund = Fund(db.session.get_one(User, maker.id))
        fund.receive(fund.donor(), "5000", date(2019, 1, 10), bank_reference="BNK-1")
        db.session.commit()

    page = browser.new_context().new_page()
    words = browser_user(app, page, live_server, maker, language)
    page.goto(f"{live_server}/ledger/")
    page.get_by_role("navigation", name=words("Trust fund")).get_by_role(
        "link", name=words("Envelopes")
    ).click()
    page.get_by_role("link", name=words("Open an envelope")).click()
    fill(
        page,
        words,
        {
            "Mission": "MINUSCA",
            "Envelope (US$)": "1000",
            "Cap per victim (US$)": "400",
            "Opens on": "2019-01-15",
            "Closes on": "2019-03-31",
            "Approved basis": "TFC 2019/04",
        },
        {"Country": "CAF"},
    )
    page.get_by_text(words("Envelope opened: another fund manager must confirm it.")).wait_for()
    row = page.locator("tr", has_text="MINUSCA")
    row.get_by_text(words("awaiting confirmation")).wait_for()
    assert row.get_by_role("button", name=words("Confirm")).count() == 0  # not the maker's to confirm

    second = browser.new_context().new_page()
    browser_user(app, second, live_server, checker, language)
    second.goto(f"{live_server}/ledger/envelopes")
    second.locator("tr", has_text="MINUSCA").get_by_role("button", name=words("Confirm")).click()
    second.get_by_text(words("Envelope confirmed: its payments now post at once.")).wait_for()

    page.reload()
    page.locator("tr", has_text="MINUSCA").get_by_role("link", name=words("Pay from it")).click()
    fill(
        page,
        words,
        {
            "Victim's case code": "CAR-2019-0001",
            "Purpose": "medical evacuation",
            "Amount": "350",
            "Date paid": "2019-02-01",
        },
    )
    page.get_by_text(words("Urgent payment recorded.")).wait_for()
    row = page.locator("tr", has_text="MINUSCA")
    assert ("350.00" in row.inner_text() or "350,00" in row.inner_text()) and words(
        "confirmed"
    ) in row.inner_text()
    page.locator("tr", has_text="MINUSCA").get_by_role("link", name=words("Pay from it")).click()
    fill(
        page,
        words,
        {"Victim's case code": "CAR-2019-0001", "Purpose": "rent", "Amount": "60", "Date paid": "2019-02-02"},
    )
    page.get_by_text(
        words(
            "This would pay the victim more than the envelope's cap of US$%(cap)s.",
            cap="400,00" if language == "fr" else "400.00",  # the reader's decimal mark
        )
    ).wait_for()
