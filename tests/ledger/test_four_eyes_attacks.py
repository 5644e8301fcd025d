"""Issue 15, "Broken" item 1, replayed through the test client: one fund manager alone must not
move money. Each attack succeeded before the four-eyes policy (the entries posted) and is held
now: nothing posts until a second fund manager approves."""

from __future__ import annotations

from sqlalchemy import select

from ledger.models import DirectSupport, Entry, ExchangeRate, Tranche
from tests.conftest import row_count
from tests.ledger.pages import approve_project, disburse, pay_victim, record_rate, seed_cash_and_project
from vat.db import db


def _entries_of(app, kind: str) -> int:
    return row_count(app, Entry, Entry.kind == kind)


def test_us_150000_of_direct_support_does_not_post_on_one_managers_word(app, client, manager):
    seed_cash_and_project(client)
    response = pay_victim(client, "150000", "2019-01-20")
    assert response.status_code == 302
    assert _entries_of(app, "victim_support") == 0
    with app.app_context():
        support = db.session.scalar(select(DirectSupport))
        assert support is None or support.entry_id is None
    assert "CAR-2017-0042" not in client.get("/ledger/direct-support").get_data(as_text=True)


def test_five_tranches_of_9600_do_not_all_post_under_a_10000_threshold(app, client, manager):
    seed_cash_and_project(client)
    for n in range(5):
        response = disburse(client, "9600", f"P-{n}")
        assert response.status_code == 302
    assert _entries_of(app, "disbursement") == 1  # the first; the 2nd onward wait for approval
    with app.app_context():
        statuses = [t.status for t in db.session.scalars(select(Tranche).order_by(Tranche.id))]
    assert statuses == ["posted", "pending", "pending", "pending", "pending"]


def test_a_rate_set_by_one_manager_cannot_carry_a_tranche_under_the_threshold(app, client, manager, checker):
    seed_cash_and_project(client)
    assert record_rate(client, "2019-02-01", "0.92", reason="").status_code == 302
    with app.app_context():
        february = db.session.scalar(select(ExchangeRate.id))
    checker.post(f"/ledger/rates/{february}/confirm")  # the second fund manager (four eyes)
    response = approve_project(client, "60000", "EUR", title="Shelter", partner="NRC")
    assert response.status_code == 302, response.get_data(as_text=True)
    # The manager alone records March's EUR at 100,000 per dollar: EUR 50,000 would be US$0.50.
    assert record_rate(client, "2019-03-01", "100000", reason="market moved").status_code == 302
    response = disburse(client, "50000", "EUR-1", paid_on="2019-03-05", project=2)
    assert response.status_code == 422
    assert "awaits confirmation" in response.get_data(as_text=True)
    assert _entries_of(app, "disbursement") == 0
