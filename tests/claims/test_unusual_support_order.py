"""Money with sanity on a court's support order (issue 19, item 10): the amount per period goes
through the same check as every money form (vat.plausibility) — above the usual or its ceiling,
the step is recorded only once the amount is confirmed."""

from __future__ import annotations

from datetime import date

import pytest

from tests.claims.conftest import S, claim_at
from vat.auth.models import Role, User
from vat.claims.models import Claim, ClaimStep
from vat.db import db

ORDER = {"amount": "90000", "currency": "USD", "frequency": "monthly"}


@pytest.fixture
def established_claim(app, login):
    """A claim whose paternity is established, its advocate signed in; orders above 5,000 USD
    a period are beyond the ceiling."""
    app.config["VAT_AMOUNT_CEILINGS"] = {"support_order": {"USD": "5000"}}
    advocate = login(Role.ADVOCATE, "CAF")
    with app.app_context():
        claim = claim_at(db.session.get(User, advocate.id), S.PATERNITY_ESTABLISHED)
        db.session.commit()
        return claim.id


def test_an_order_above_its_ceiling_is_recorded_only_once_confirmed(app, client, established_claim):
    path = f"/vat/claims/{established_claim}/step/support_ordered"
    assert 'name="amount_confirmed"' not in client.get(path).get_data(as_text=True)
    today = date.today().isoformat()
    data = {**ORDER, "on": today, "starts_on": today}
    refused = client.post(path, data=data)
    page = refused.get_data(as_text=True)
    assert "above the ceiling set for support orders in USD ($5,000.00)" in page
    assert 'name="amount_confirmed"' in page
    with app.app_context():
        assert db.session.get_one(Claim, established_claim).current_step is ClaimStep.PATERNITY_ESTABLISHED
    assert client.post(path, data={**data, "amount_confirmed": "y"}).status_code == 302
    with app.app_context():
        claim = db.session.get_one(Claim, established_claim)
        assert claim.current_step is ClaimStep.SUPPORT_ORDERED and claim.orders[-1].amount == 90000


def test_an_order_within_the_usual_asks_nothing(client, established_claim):
    today = date.today().isoformat()
    data = {**ORDER, "amount": "120", "on": today, "starts_on": today}
    assert client.post(f"/vat/claims/{established_claim}/step/support_ordered", data=data).status_code == 302
