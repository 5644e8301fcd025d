"""Money with sanity on a claim's DNA test cost (issue 19, item 10): the same mechanism as the
ledger's forms (vat.plausibility) — above the usual or its ceiling, saved only once confirmed."""

from __future__ import annotations

from vat.auth.models import Role
from vat.claims.legal import DNA_COSTS
from vat.claims.models import Claim
from vat.db import db


def test_a_dna_cost_above_its_ceiling_is_saved_only_once_confirmed(app, client, login, claim_id):
    app.config["VAT_AMOUNT_CEILINGS"] = {"dna_cost": {"USD": "2000"}}
    login(Role.ADVOCATE, "CAF")
    path = f"/vat/claims/{claim_id}/dna-cost"
    assert 'name="amount_confirmed"' not in client.get(path).get_data(as_text=True)
    data = {"amount": "35000", "currency": "USD", "paid_by": "member_state"}
    refused = client.post(path, data=data)
    page = refused.get_data(as_text=True)
    assert (
        refused.status_code == 200 and "above the ceiling set for DNA test costs in USD ($2,000.00)" in page
    )
    assert 'name="amount_confirmed"' in page
    with app.app_context():
        assert db.session.get(Claim, claim_id).dna_cost is None
    assert client.post(path, data={**data, "amount_confirmed": "y"}).status_code == 302
    assert client.post(path, data={**data, "amount": "350"}).status_code == 302  # usual: no question
    with app.app_context():
        assert db.session.get(Claim, claim_id).dna_cost == 350
        assert DNA_COSTS.median_minor("USD") is None  # one claim: too few to say what is usual


def test_the_confirmation_is_refused_to_other_roles(client, login, claim_id):
    login(Role.FUND_MANAGER, "")
    data = {"amount": "35000", "currency": "USD", "paid_by": "member_state", "amount_confirmed": "y"}
    assert client.post(f"/vat/claims/{claim_id}/dna-cost", data=data).status_code == 403
