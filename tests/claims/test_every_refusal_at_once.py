"""A claim's forms show every refusal in one answer, each on its own field (issue 19, item 6)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.claims.conftest import S, claim_at
from tests.vat.test_forms_on_the_users_side import errors_by_field
from vat.auth.models import Role, User
from vat.claims import support
from vat.claims.models import Claim
from vat.db import db
from vat.inputs import InvalidFields


def test_the_case_at_law_shows_every_refusal_on_its_field(
    app: Flask, client: FlaskClient, login: Callable[..., Any], claim_id: int, today: date
) -> None:
    login(Role.ADVOCATE, "CAF")
    later = (today + timedelta(days=30)).isoformat()
    data = {
        "applicable_law": "BGD",
        "forum": "",
        "representation": "",
        "filed_on": later,
        "judgment_on": later,
        "hearing_on": (today + timedelta(days=365 * 30)).isoformat(),
    }
    page = client.post(f"/vat/claims/{claim_id}/legal", data=data).get_data(as_text=True)
    shown = errors_by_field(page)
    assert set(shown) == {"filed_on", "judgment_on", "hearing_on"}
    assert "future" in shown["filed_on"] and "hearing" in shown["hearing_on"]
    # The rules between fields, all at once too, once each field is right.
    data = {
        "applicable_law": "BGD",
        "forum": "",
        "representation": "legal_aid",
        "filed_on": today.isoformat(),
    }
    earlier = (today - timedelta(days=3)).isoformat()
    shown = errors_by_field(
        client.post(f"/vat/claims/{claim_id}/legal", data={**data, "judgment_on": earlier}).get_data(
            as_text=True
        )
    )
    assert set(shown) == {"represented_by", "judgment_on"}
    with app.app_context():
        assert db.session.get_one(Claim, claim_id).filed_on is None


def test_a_payment_shows_every_refusal_on_its_field(
    app: Flask, client: FlaskClient, login: Callable[..., Any], claim_id: int, today: date
) -> None:
    login(Role.ADVOCATE, "CAF")
    data = {
        "amount": "100.00",
        "currency_code": "EUR",  # the order is in US dollars
        "received_on": (today + timedelta(days=30)).isoformat(),
        "route": "cash",
    }
    shown = errors_by_field(
        client.post(f"/vat/claims/{claim_id}/payments/new", data=data).get_data(as_text=True)
    )
    assert set(shown) == {"currency_code", "received_on"}
    assert "currency (USD)" in shown["currency_code"] and "future" in shown["received_on"]
    with app.app_context():
        assert db.session.get_one(Claim, claim_id).payments == []


def test_a_dna_cost_shows_every_refusal_on_its_field(
    app: Flask, client: FlaskClient, login: Callable[..., Any], claim_id: int
) -> None:
    login(Role.ADVOCATE, "CAF")
    data = {"amount": "-5", "currency": "ZZZ", "paid_by": "other"}
    shown = errors_by_field(client.post(f"/vat/claims/{claim_id}/dna-cost", data=data).get_data(as_text=True))
    assert set(shown) == {"amount", "currency"}
    assert "more than zero" in shown["amount"] and "ISO 4217" in shown["currency"]
    with app.app_context():
        assert db.session.get_one(Claim, claim_id).dna_cost is None


def test_a_support_order_shows_every_refusal_on_its_field(
    app: Flask, client: FlaskClient, login: Callable[..., Any], today: date
) -> None:
    advocate = login(Role.ADVOCATE, "CAF")
    with app.app_context():
        claim = claim_at(db.session.get(User, advocate.id), S.PATERNITY_ESTABLISHED)
        db.session.commit()
        claim_id = claim.id
    data = {
        "on": today.isoformat(),
        "amount": "10.001",
        "currency": "ZZZ",
        "frequency": "monthly",
        "starts_on": today.isoformat(),
        "ends_on": (today - timedelta(days=1)).isoformat(),
    }
    page = client.post(f"/vat/claims/{claim_id}/step/support_ordered", data=data).get_data(as_text=True)
    assert set(errors_by_field(page)) == {"currency", "ends_on"}
    with app.app_context():
        assert db.session.get_one(Claim, claim_id).orders == []


def test_a_payment_reversal_refuses_every_field_at_once(
    app: Flask, client: FlaskClient, login: Callable[..., Any], claim_id: int, today: date
) -> None:
    """The form itself asks for a reason (the service alone refuses a date ahead): the service,
    called directly, refuses both at once."""
    advocate = login(Role.ADVOCATE, "CAF")
    paid = {"amount": "50.00", "currency_code": "USD", "received_on": today.isoformat(), "route": "cash"}
    assert client.post(f"/vat/claims/{claim_id}/payments/new", data=paid).status_code == 302
    with app.test_request_context():
        claim = db.session.get_one(Claim, claim_id)
        with pytest.raises(InvalidFields) as refused:
            support.reverse_payment(
                actor=db.session.get_one(User, advocate.id),
                claim=claim,
                payment_id=claim.payments[0].id,
                reason=" ",
                on=today + timedelta(days=3),
            )
        assert {e.field for e in refused.value.errors} == {"reason", "on"}
        db.session.rollback()


def test_zero_and_negative_amounts_say_what_is_wrong(
    app: Flask, client: FlaskClient, login: Callable[..., Any], claim_id: int, today: date
) -> None:
    """Never "This field is required." for an amount typed: the claim's money forms and a
    victim's service cost say what is wrong with it."""
    login(Role.ADVOCATE, "CAF")
    posts = {
        f"/vat/claims/{claim_id}/dna-cost": {"currency": "USD", "paid_by": "other"},
        f"/vat/claims/{claim_id}/payments/new": {
            "currency_code": "USD",
            "received_on": today.isoformat(),
            "route": "cash",
        },
    }
    for path, data in posts.items():
        for amount in ("0", "-5"):
            page = client.post(path, data={**data, "amount": amount}).get_data(as_text=True)
            said = errors_by_field(page)["amount"]
            assert said == "The amount must be more than zero.", (path, amount, said)
    with app.app_context():
        victim_id = db.session.get_one(Claim, claim_id).victim_id
    page = client.post(
        f"/vat/victims/{victim_id}/assistance/new",
        data={"service_type": "medical", "status": "referred", "cost": "-5", "currency": "USD"},
    ).get_data(as_text=True)
    assert errors_by_field(page)["cost"] == "The cost cannot be negative."
