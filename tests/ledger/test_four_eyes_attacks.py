"""Issue 15, "Broken" item 1, replayed through the test client: one fund manager alone must not
move money. Each attack succeeded before the four-eyes policy (the entries posted) and is held
now: nothing posts until a second fund manager approves."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from ledger.models import DirectSupport, Entry, ExchangeRate, Tranche
from tests.conftest import sign_in
from tests.ledger.test_views import book, seed_cash_and_project
from vat.auth.models import Role
from vat.db import db


@pytest.fixture
def manager(login):
    return login(Role.FUND_MANAGER, "")


def _entries_of(app, kind: str) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Entry.id)).where(Entry.kind == kind)) or 0


def test_us_150000_of_direct_support_does_not_post_on_one_managers_word(app, client, manager):
    seed_cash_and_project(client)
    response = book(
        client,
        "/ledger/direct-support/new",
        case_code="CAR-2017-0042",
        country_code="CAF",
        purpose="relocation",
        amount="150000",
        currency="USD",
        paid_on="2019-01-20",
    )
    assert response.status_code == 302
    assert _entries_of(app, "victim_support") == 0
    with app.app_context():
        support = db.session.scalar(select(DirectSupport))
        assert support is None or support.entry_id is None
    assert "CAR-2017-0042" not in client.get("/ledger/direct-support").get_data(as_text=True)


def test_five_tranches_of_9600_do_not_all_post_under_a_10000_threshold(app, client, manager):
    seed_cash_and_project(client)
    for n in range(5):
        response = book(
            client, "/ledger/projects/1/disburse", amount="9600", paid_on="2019-03-02", reference=f"P-{n}"
        )
        assert response.status_code == 302
    assert _entries_of(app, "disbursement") == 1  # the first; the 2nd onward wait for approval
    with app.app_context():
        statuses = [t.status for t in db.session.scalars(select(Tranche).order_by(Tranche.id))]
    assert statuses == ["posted", "pending", "pending", "pending", "pending"]


def test_a_rate_set_by_one_manager_cannot_carry_a_tranche_under_the_threshold(
    app, client, manager, make_user
):
    seed_cash_and_project(client)
    rate = {"currency": "EUR", "source": "UN", "reason": ""}
    assert (
        client.post("/ledger/rates", data={**rate, "month": "2019-02-01", "rate": "0.92"}).status_code == 302
    )
    checker = app.test_client()
    sign_in(app, checker, make_user(Role.FUND_MANAGER, ""))
    with app.app_context():
        february = db.session.scalar(select(ExchangeRate.id))
    checker.post(f"/ledger/rates/{february}/confirm")  # the second fund manager (four eyes)
    response = book(
        client,
        "/ledger/projects/new",
        title="Shelter",
        partner="NRC",
        country_code="CAF",
        focus="income_generation",
        amount="60000",
        currency="EUR",
        approved_on="2019-02-01",
        planned_start="2019-03-01",
        planned_end="2020-03-01",
        case_codes="",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    # The manager alone records March's EUR at 100,000 per dollar: EUR 50,000 would be US$0.50.
    manipulated = {**rate, "month": "2019-03-01", "rate": "100000", "reason": "market moved"}
    assert client.post("/ledger/rates", data=manipulated).status_code == 302
    response = book(
        client, "/ledger/projects/2/disburse", amount="50000", paid_on="2019-03-05", reference="EUR-1"
    )
    assert response.status_code == 422
    assert "awaits confirmation" in response.get_data(as_text=True)
    assert _entries_of(app, "disbursement") == 0
