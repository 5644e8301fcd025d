"""The four-eyes pages through the test client: the approvals list, approving and rejecting,
confirming and loading rates — the wrong role, the maker's own request, a missing CSRF token and
a stale sign-in are all refused, and nothing posts."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import func, select

from ledger.models import DirectSupport, Entry, ExchangeRate
from ledger.outflows import Outflow
from ledger.services import months
from tests.conftest import row_count, signed_in_client
from tests.ledger.pages import pay_victim, record_rate, seed_cash_and_project
from vat.auth.models import Role, User
from vat.db import db, utcnow


def held_support(app, client) -> int:
    seed_cash_and_project(client)
    response = pay_victim(client, "150000", "2019-01-20")
    assert response.status_code == 302
    with app.app_context():
        return db.session.scalars(select(Outflow.id)).one()


def support_entries(app) -> int:
    return row_count(app, Entry, Entry.kind == "victim_support")


def test_the_maker_cannot_approve_the_checker_can(app, client, manager, checker):
    outflow_id = held_support(app, client)
    page = client.get("/ledger/approvals").get_data(as_text=True)
    assert "your request" in page and "CAR-2017-0042" in page and "per-victim cap" not in page
    refused = client.post(f"/ledger/approvals/{outflow_id}/approve")
    assert refused.status_code == 403 and support_entries(app) == 0
    assert checker.post(f"/ledger/approvals/{outflow_id}/approve").status_code == 302
    assert support_entries(app) == 1
    assert "CAR-2017-0042" in client.get("/ledger/direct-support").get_data(as_text=True)


def test_a_rejected_payment_posts_nothing(app, client, manager, checker):
    outflow_id = held_support(app, client)
    assert checker.post(f"/ledger/approvals/{outflow_id}/reject", data={"reason": "no"}).status_code == 302
    assert support_entries(app) == 0
    with app.app_context():
        assert db.session.get_one(Outflow, outflow_id).status == "rejected"


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.SENIOR_ADVOCATE, Role.ADVOCATE, Role.ADMIN])
def test_other_roles_cannot_approve_or_confirm(app, client, manager, make_user, role):
    outflow_id = held_support(app, client)
    assert record_rate(client).status_code == 302
    other = signed_in_client(app, make_user(role, "CAF"))
    assert other.post(f"/ledger/approvals/{outflow_id}/approve").status_code == 403
    assert other.post(f"/ledger/approvals/{outflow_id}/reject", data={"reason": "x"}).status_code == 403
    assert other.post("/ledger/rates/1/confirm").status_code == 403
    assert other.post("/ledger/rates/confirm").status_code == 403
    assert support_entries(app) == 0
    with app.app_context():
        assert not db.session.get_one(ExchangeRate, 1).confirmed


def test_approving_or_confirming_without_a_csrf_token_is_refused(app, make_user, csrf_client):
    maker, checker = make_user(Role.FUND_MANAGER, ""), make_user(Role.FUND_MANAGER, "")
    with app.app_context():
        months.set_rate(
            actor=db.session.get_one(User, maker.id),
            currency="EUR",
            month=date(2019, 1, 1),
            rate=Decimal("0.9"),
            source="UN",
        )
        db.session.commit()
    client = csrf_client(checker)
    assert client.post("/ledger/rates/1/confirm").status_code == 400
    assert client.post("/ledger/rates/confirm").status_code == 400
    assert client.post("/ledger/approvals/1/approve").status_code == 400
    with app.app_context():
        assert not db.session.get_one(ExchangeRate, 1).confirmed


def test_a_stale_sign_in_moves_no_money_and_confirms_no_rate(app, client, manager, checker):
    outflow_id = held_support(app, client)
    assert record_rate(client).status_code == 302
    key_page = client.get("/ledger/direct-support/new").get_data(as_text=True)
    later = utcnow() + timedelta(minutes=app.config["VAT_FRESH_MINUTES"] + 1)
    with time_machine.travel(later - timedelta(minutes=5)):
        client.get("/")  # both sessions stay alive, their sign-in grows old
        checker.get("/")
    with time_machine.travel(later):
        for response in (
            checker.post(f"/ledger/approvals/{outflow_id}/approve"),
            checker.post("/ledger/rates/1/confirm"),
            checker.post("/ledger/rates/confirm"),
            checker.post(f"/ledger/approvals/{outflow_id}/reject", data={"reason": "no"}),
            client.post("/ledger/entries/1", data={"on": "2019-01-20", "reason": "wrong"}),
            client.post("/ledger/rates/import", data={}),
            client.post(
                "/ledger/rates",
                data={"currency": "GBP", "month": "2019-01-01", "rate": "0.8", "source": "UN"},
            ),
            client.post(
                "/ledger/direct-support/new",
                data={
                    "key": key_page.split('name="key" type="hidden" value="')[1][:32],
                    "case_code": "CAR-2017-0043",
                    "purpose": "rent",
                    "amount": "10",
                    "currency": "USD",
                    "paid_on": "2019-01-21",
                    "route": "mission",
                    "basis": "TFC decision 2019/01",
                },
            ),
            client.post(
                "/ledger/projects/1/disburse",
                data={"amount": "10", "paid_on": "2019-03-02", "reference": "P"},
            ),
        ):
            assert response.status_code == 302 and "/auth/reauthenticate" in response.headers["Location"]
    assert support_entries(app) == 0
    with app.app_context():
        assert db.session.scalar(select(func.count(DirectSupport.id))) == 1
        assert db.session.scalar(select(func.count(ExchangeRate.id))) == 1
        assert not db.session.get_one(ExchangeRate, 1).confirmed


def test_the_rates_file_is_loaded_by_one_manager_and_confirmed_by_another(app, client, manager, checker):
    data = b"currency_code,rate_per_usd,effective_date\nEUR,0.92,2019-01-01\nGBP,0.78,2019-01-01\n"
    response = client.post(
        "/ledger/rates/import",
        data={"file": (io.BytesIO(data), "rates.csv"), "source": "UN operational rates 2019-01"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    page = client.get("/ledger/rates").get_data(as_text=True)
    assert page.count("awaiting confirmation") == 2
    assert "/ledger/rates/1/confirm" not in page  # not one's own
    assert client.post("/ledger/rates/confirm").status_code == 302
    with app.app_context():
        assert not any(db.session.scalars(select(ExchangeRate.confirmed)))
    assert "/ledger/rates/1/confirm" in checker.get("/ledger/rates").get_data(as_text=True)
    assert checker.post("/ledger/rates/confirm").status_code == 302
    with app.app_context():
        assert all(db.session.scalars(select(ExchangeRate.confirmed)))


def test_a_bad_rates_file_says_which_line(app, client, manager):
    data = b"currency_code,rate_per_usd,effective_date\nEUR,0.92,2019-01-01\nEUR,x,2019-02-01\n"
    response = client.post(
        "/ledger/rates/import",
        data={"file": (io.BytesIO(data), "rates.csv"), "source": "UN"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422 and "Line 3" in response.get_data(as_text=True)
    assert row_count(app, ExchangeRate) == 0
