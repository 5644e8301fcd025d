"""The pages of issue 18's paternity work through the client: a pregnancy claim opened and its
child linked, the law and forum, the DNA cost, interim support, a confirmed unusual payment and a
reversal, the member states' frameworks; and their forbidden paths (wrong role, other scope,
missing CSRF token)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.claims.conftest import new_victim
from vat.auth.models import Role, User
from vat.claims.models import Claim, Framework, Payment
from vat.db import db


@pytest.fixture
def childless_victim_id(app, make_user):
    owner = make_user(Role.ADVOCATE, "CAF")
    with app.app_context():
        victim = new_victim(db.session.get(User, owner.id), children=0)
        db.session.commit()
        return victim.id


def the_claim(app, claim_id) -> Claim:  # type: ignore[no-untyped-def]
    with app.app_context():
        claim = db.session.get(Claim, claim_id)
        claim.children, claim.interim_support, claim.payments  # noqa: B018 - loaded before the context ends
        return claim


def test_a_pregnancy_claim_is_opened_then_the_child_linked(app, client, login, childless_victim_id, today):
    login(Role.ADVOCATE, "CAF")
    form = client.get(f"/vat/claims/new?victim={childless_victim_id}&expecting=1").get_data(as_text=True)
    assert "Expected birth date" in form and 'id="pregnancy-hint"' in form
    expected = today + timedelta(days=100)
    response = client.post(
        f"/vat/claims/new?victim={childless_victim_id}",
        data={
            "allegation_id": "",
            "father_nationality": "BGD",
            "father_category": "military_contingent",
            "member_state": "",
            "opened_on": today.isoformat(),
            "expected_birth_on": expected.isoformat(),
        },
    )
    assert response.status_code == 302
    claim_id = int(response.headers["Location"].rsplit("/", 1)[1])
    page = client.get(f"/vat/claims/{claim_id}").get_data(as_text=True)
    assert 'id="expecting"' in page and "not born yet" in page
    linked = client.post(
        f"/vat/claims/{claim_id}/children/link",
        data={"child_id": "", "birth_date": today.isoformat(), "sex": "female"},
    )
    assert linked.status_code == 302
    assert len(the_claim(app, claim_id).children) == 1
    assert 'id="expecting"' not in client.get(f"/vat/claims/{claim_id}").get_data(as_text=True)


def test_law_dna_cost_and_interim_support_pages(app, client, login, claim_id, today):
    login(Role.ADVOCATE, "CAF")
    assert client.get(f"/vat/claims/{claim_id}/legal").status_code == 200
    saved = client.post(
        f"/vat/claims/{claim_id}/legal",
        data={
            "applicable_law": "BGD",
            "forum": "host_state_courts",
            "representation": "counsel",
            "represented_by": "Me Ndoumba",
            "filed_on": today.isoformat(),
        },
    )
    assert saved.status_code == 302 and saved.headers["Location"].endswith("#legal")
    refused = client.post(
        f"/vat/claims/{claim_id}/dna-cost", data={"amount": "12.5", "currency": "XAF", "paid_by": "other"}
    )
    assert refused.status_code == 200 and "XAF amounts" in refused.get_data(as_text=True)
    assert (
        client.post(
            f"/vat/claims/{claim_id}/dna-cost",
            data={"amount": "350.00", "currency": "USD", "paid_by": "member_state"},
        ).status_code
        == 302
    )
    page = client.get(f"/vat/claims/{claim_id}").get_data(as_text=True)
    assert "courts of the host state" in page and "Me Ndoumba" in page and "$350.00" in page
    assert "Me Ndoumba" not in saved.headers["Location"]
    assert client.get(f"/vat/claims/{claim_id}/support/link").status_code == 200
    nothing = client.post(f"/vat/claims/{claim_id}/support/link", data={"assistance_id": "999"})
    assert nothing.status_code == 200  # not one of the choices: the form says so


def test_an_unusual_payment_needs_the_box_and_a_reversal_corrects_it(app, client, login, claim_id, today):
    login(Role.ADVOCATE, "CAF")
    data = {
        "amount": "99999999.00",
        "currency_code": "USD",
        "received_on": today.isoformat(),
        "route": "cash",
    }
    refused = client.post(f"/vat/claims/{claim_id}/payments/new", data=data)
    assert refused.status_code == 200 and "far beyond the order" in refused.get_data(as_text=True)
    assert (
        client.post(f"/vat/claims/{claim_id}/payments/new", data={**data, "confirm_unusual": "y"}).status_code
        == 302
    )
    with app.app_context():
        payment_id = db.session.scalars(select(Payment.id).where(Payment.claim_id == claim_id)).one()
    reverse = f"/vat/claims/{claim_id}/payments/{payment_id}/reverse"
    assert "Why the payment is reversed" in client.get(reverse).get_data(as_text=True)
    no_reason = client.post(
        reverse, data={"payment_id": str(payment_id), "on": today.isoformat(), "reason": ""}
    )
    assert no_reason.status_code == 200
    done = client.post(
        reverse, data={"payment_id": str(payment_id), "on": today.isoformat(), "reason": "typo"}
    )
    assert done.status_code == 302
    page = client.get(f"/vat/claims/{claim_id}").get_data(as_text=True)
    assert "-$99,999,999.00" in page and "reversal: typo" in page and "Credit (paid ahead)" in page
    assert client.get(f"/vat/claims/{claim_id}/payments/999/reverse").status_code == 404


NEW_ROUTES = ["legal", "dna-cost", "children/link", "support/link", "payments/1/reverse"]


@pytest.mark.parametrize("role", [Role.FUND_MANAGER, Role.AUDITOR, Role.ADMIN])
def test_roles_that_do_not_edit_cases_get_403(client, login, claim_id, role):
    login(role, "CAF")
    for route in NEW_ROUTES:
        for method in ("GET", "POST"):
            assert client.open(f"/vat/claims/{claim_id}/{route}", method=method, data={}).status_code == 403


def test_another_scope_answers_404(client, login, claim_id):
    login(Role.ADVOCATE, "COD")
    for route in NEW_ROUTES:
        for method in ("GET", "POST"):
            assert client.open(f"/vat/claims/{claim_id}/{route}", method=method, data={}).status_code == 404


def test_the_new_forms_need_a_csrf_token(app, csrf_client, claim_id, today):
    client = csrf_client(Role.ADVOCATE, "CAF")
    posts = {
        "legal": {"forum": "agreement"},
        "dna-cost": {"amount": "10", "currency": "USD", "paid_by": "other"},
        "children/link": {"birth_date": today.isoformat()},
    }
    for route, data in posts.items():
        assert client.post(f"/vat/claims/{claim_id}/{route}", data=data).status_code == 400, route
    admin = csrf_client(Role.ADMIN, "CAF")
    assert admin.post("/vat/claims/frameworks/edit", data={"member_state": "BGD"}).status_code == 400
    with app.app_context():
        claim = db.session.get(Claim, claim_id)
        assert (claim.forum, claim.dna_cost, len(claim.children)) == (None, None, 1)
        assert db.session.scalars(select(Framework)).all() == []


@pytest.mark.parametrize("role", [Role.SENIOR_ADVOCATE, Role.ADMIN])
def test_senior_advocates_and_admins_keep_the_frameworks_shown_on_claims(app, client, login, claim_id, role):
    login(role, "CAF")
    assert client.get("/vat/claims/frameworks").status_code == 200
    if role is Role.SENIOR_ADVOCATE:  # the claims list leads to them
        assert 'href="/vat/claims/frameworks"' in client.get("/vat/claims/").get_data(as_text=True)
    assert 'selected value="BGD"' in client.get("/vat/claims/frameworks/edit?state=BGD").get_data(
        as_text=True
    )
    saved = client.post(
        "/vat/claims/frameworks/edit",
        data={
            "member_state": "BGD",
            "focal_point": "Col. Rahman",
            "forum": "member_state_courts",
            "dna_days": "60",
        },
    )
    assert saved.status_code == 302
    assert "BGD" in client.get("/vat/claims/frameworks").get_data(as_text=True)
    edit = client.get("/vat/claims/frameworks/edit?state=BGD").get_data(as_text=True)
    assert "Col. Rahman" in edit
    if role is Role.SENIOR_ADVOCATE:  # in scope: the claim (its member state is BGD) shows it
        page = client.get(f"/vat/claims/{claim_id}").get_data(as_text=True)
        assert re.search(r'id="framework".*Col\. Rahman', page, re.S)


@pytest.mark.parametrize("role", [Role.ADVOCATE, Role.FUND_MANAGER, Role.AUDITOR])
def test_other_roles_cannot_edit_frameworks(client, login, role):
    login(role, "CAF")
    claims = client.get("/vat/claims/")
    assert claims.status_code != 200 or 'href="/vat/claims/frameworks"' not in claims.get_data(as_text=True)
    assert client.get("/vat/claims/frameworks").status_code == 403
    assert client.get("/vat/claims/frameworks/edit").status_code == 403
    assert client.post("/vat/claims/frameworks/edit", data={"member_state": "BGD"}).status_code == 403
