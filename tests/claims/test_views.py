"""The claims pages through the client: every route refuses roles without the permission (403)
and claims outside the advocate's scope (404); the journey works; names stay out of URLs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import BACKEND, csrf_token_in
from tests.statements import locked_for_its_audit_row
from vat.allegations import services as allegations
from vat.audit import AuditEvent
from vat.auth.models import Role, User
from vat.claims.models import Claim, Payment
from vat.db import db
from vat.victims import outcomes


def routes(claim_id):
    """Every claims route as (method, path): GETs and the POSTs behind each form."""
    base = f"/vat/claims/{claim_id}"
    pages = [
        "/vat/claims/new",
        base,
        f"{base}/father",
        f"{base}/step/closed",
        f"{base}/reopen",
        f"{base}/letters/new",
        f"{base}/payments/new",
        f"{base}/inform",
        f"{base}/legal",
        f"{base}/dna-cost",
        f"{base}/children/link",
        f"{base}/support/link",
        f"{base}/payments/1/reverse",
        f"{base}/step-letter",
    ]
    return [("GET", "/vat/claims/")] + [("GET", p) for p in pages] + [("POST", p) for p in pages if p != base]


ALL_ROUTES_COUNT = 28


def test_route_list_covers_the_blueprint(app, claim_id):
    rules = {r.rule for r in app.url_map.iter_rules() if r.endpoint.startswith("claims.")}
    assert len(rules) == 17  # with the member states' frameworks (tests/claims/test_case_views.py)
    assert len(routes(claim_id)) == ALL_ROUTES_COUNT


@pytest.mark.parametrize("role", [Role.FUND_MANAGER, Role.AUDITOR, Role.ADMIN])
def test_roles_without_permission_get_403(client, login, claim_id, role):
    login(role, "CAF")
    for method, path in routes(claim_id):
        response = client.open(path, method=method, data={})
        if path == "/vat/claims/" and role is not Role.ADMIN:
            assert response.status_code == 200, path  # case codes and aggregates only
            assert f"/vat/claims/{claim_id}" not in response.get_data(as_text=True)
        else:
            assert response.status_code == 403, (method, path)


@pytest.mark.parametrize("role", [Role.ADVOCATE, Role.SENIOR_ADVOCATE])
def test_claims_outside_scope_answer_404(client, login, claim_id, role):
    login(role, "COD")
    for method, path in routes(claim_id):
        if path in ("/vat/claims/", "/vat/claims/new"):
            continue
        assert client.open(path, method=method, data={}).status_code == 404, (method, path)
    assert client.get("/vat/claims/new?victim=1").status_code == 404
    page = client.get("/vat/claims/").get_data(as_text=True)
    assert "PC-" not in page


def test_signed_out_is_sent_to_login(client, claim_id):
    for method, path in routes(claim_id):
        response = client.open(path, method=method, data={})
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_the_claim_page_shows_identity_and_audits_it(app, client, login, claim_id):
    login(Role.ADVOCATE, "CAF")
    page = client.get(f"/vat/claims/{claim_id}").get_data(as_text=True)
    assert "<bdi>Sgt Example</bdi>" in page
    assert "Record a payment" in page
    assert 'id="arrears"' in page
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "claim")).all()
        assert actions[-1] == "claim.view_identity"


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's one write lock")
def test_the_claim_page_and_father_form_take_the_write_lock_for_the_audit_row_alone(
    app, client, login, claim_id
):
    login(Role.ADVOCATE, "CAF")
    locked_for_its_audit_row(app, client, f"/vat/claims/{claim_id}", reading="vat_claim")
    locked_for_its_audit_row(app, client, f"/vat/claims/{claim_id}/father", reading="vat_claim")


def test_the_father_form_shows_identity_audited(app, client, login, claim_id):
    login(Role.ADVOCATE, "CAF")
    page = client.get(f"/vat/claims/{claim_id}/father").get_data(as_text=True)
    assert 'value="Sgt Example"' in page
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "claim")).all()
        assert actions[-1] == "claim.view_identity"


def test_open_a_claim_move_it_and_tell_the_victim(app, client, login, make_user, today):
    user = login(Role.ADVOCATE, "CAF")
    with app.app_context():
        from tests.claims.conftest import new_victim

        victim = new_victim(db.session.get(User, user.id))
        db.session.commit()
        victim_id, child_id, case_code = victim.id, victim.children[0].id, victim.case_code
    response = client.get(f"/vat/claims/new?case_code={case_code}")
    assert response.headers["Location"].endswith(f"/vat/claims/new?victim={victim_id}")
    form = client.get(f"/vat/claims/new?victim={victim_id}").get_data(as_text=True)
    assert 'name="child_ids"' in form
    response = client.post(
        f"/vat/claims/new?victim={victim_id}",
        data={
            "child_ids": [str(child_id)],
            "allegation_id": "",
            "father_name": "Lt ئەحمەد",
            "father_service_number": "X-77",
            "father_unit": "",
            "father_nationality": "PAK",
            "father_category": "military_contingent",
            "member_state": "",
            "opened_on": (today - timedelta(days=10)).isoformat(),
            "with_consent": "y",
        },
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    claim_id = int(re.search(r"/vat/claims/(\d+)", location).group(1))
    assert "Lt" not in location
    page = client.get(location).get_data(as_text=True)
    assert "Consent obtained" in page and "victim-update-prompt" in page
    assert "<bdi>Lt ئەحمەد</bdi>" in page

    # an illegal move is refused with the reason, and nothing changes
    response = client.post(
        f"/vat/claims/{claim_id}/step/closed", data={"on": today.isoformat(), "reason": "resolved"}
    )
    assert response.status_code == 200
    assert "resolved only once paternity" in response.get_data(as_text=True)

    response = client.post(
        f"/vat/claims/{claim_id}/step/referred",
        data={"on": today.isoformat(), "channel": "permanent_mission", "reference": "NV-1"},
    )
    assert response.headers["Location"].endswith(f"/vat/claims/{claim_id}/inform")
    inform = client.get(f"/vat/claims/{claim_id}/inform").get_data(as_text=True)
    assert "referred to Pakistan" in inform
    response = client.post(
        f"/vat/claims/{claim_id}/inform",
        data={"occurred_on": today.isoformat(), "channel": "in_person", "summary": "Referred."},
    )
    assert response.status_code == 302
    page = client.get(f"/vat/claims/{claim_id}").get_data(as_text=True)
    assert "victim-update-prompt" not in page
    assert "waiting on PAK for 0 days" in page.replace("Waiting", "waiting")

    client.post(
        f"/vat/claims/{claim_id}/letters/new",
        data={"direction": "received", "dated_on": today.isoformat(), "channel": "email", "reference": "R-1"},
    )
    assert "waiting on PAK" not in client.get(f"/vat/claims/{claim_id}").get_data(as_text=True).lower()
    with app.app_context():
        claim = db.session.get(Claim, claim_id)
        assert [letter.direction for letter in claim.letters] == ["sent", "received"]


def test_form_errors_and_unknown_steps(client, login, claim_id):
    login(Role.ADVOCATE, "CAF")
    assert client.get(f"/vat/claims/{claim_id}/step/paying").status_code == 404
    assert client.get(f"/vat/claims/{claim_id}/step/nonsense").status_code == 404
    response = client.post(f"/vat/claims/{claim_id}/payments/new", data={"amount": "abc"})
    assert response.status_code == 200 and "has-error" in response.get_data(as_text=True)
    page = client.get(f"/vat/claims/{claim_id}/step/dna_requested").get_data(as_text=True)
    assert "cannot move to" in page


def test_a_payment_submitted_twice_books_once(app, client, login, claim_id, today):
    login(Role.ADVOCATE, "CAF")
    form = client.get(f"/vat/claims/{claim_id}/payments/new").get_data(as_text=True)
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', form).group(1)
    data = {
        "token": token,
        "amount": "25.00",
        "currency_code": "USD",
        "received_on": today.isoformat(),
        "route": "mobile_money",
    }
    first = client.post(f"/vat/claims/{claim_id}/payments/new", data=data)
    second = client.post(f"/vat/claims/{claim_id}/payments/new", data=data)
    assert first.status_code == second.status_code == 302
    with app.app_context():
        payments = db.session.scalars(select(Payment).where(Payment.claim_id == claim_id)).all()
        assert len(payments) == 1
        assert db.session.get(Claim, claim_id).step == "paying"
    page = client.get(f"/vat/claims/{claim_id}").get_data(as_text=True)
    assert "$25.00" in page


def test_list_filters(app, client, login, claim_id):
    login(Role.ADVOCATE, "CAF")
    assert f"PC-{claim_id:05d}" in client.get("/vat/claims/?step=support_ordered").get_data(as_text=True)
    assert f"PC-{claim_id:05d}" not in client.get("/vat/claims/?step=referred").get_data(as_text=True)
    assert f"PC-{claim_id:05d}" in client.get("/vat/claims/?member_state=bgd&country_code=CAF").get_data(
        as_text=True
    )
    assert f"PC-{claim_id:05d}" not in client.get("/vat/claims/?country_code=HTI").get_data(as_text=True)
    assert client.get("/vat/claims/?step=bogus").status_code == 200
    with app.app_context():
        victim_id = db.session.get(Claim, claim_id).victim_id
    assert f"PC-{claim_id:05d}" in client.get(f"/vat/claims/?victim={victim_id}").get_data(as_text=True)
    assert f"PC-{claim_id:05d}" not in client.get(f"/vat/claims/?victim={victim_id + 1}").get_data(
        as_text=True
    )


def test_forms_need_a_csrf_token(app, csrf_client, claim_id, today):
    response = csrf_client(Role.ADVOCATE, "CAF").post(
        f"/vat/claims/{claim_id}/step/closed", data={"on": today.isoformat(), "reason": "withdrawn"}
    )
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(Claim, claim_id).step == "support_ordered"


def test_a_senior_advocate_who_breaks_the_glass_sees_the_claim(app, client, login, claim_id):
    senior = login(Role.SENIOR_ADVOCATE, "HTI")
    assert client.get(f"/vat/claims/{claim_id}").status_code == 404
    from vat.victims import identity

    with app.test_request_context():
        claim = db.session.get(Claim, claim_id)
        identity.break_glass_victim(
            actor=db.session.get(User, senior.id),
            case_code=claim.victim.case_code,
            reason="The advocate in charge is away; the victim is at the office now.",
        )
        db.session.commit()
    assert client.get(f"/vat/claims/{claim_id}").status_code == 200


# --- choosing the victim: by case code, never a list of every victim in scope ------------------


@dataclass(frozen=True)
class Chosen:
    victim_id: int
    case_code: str
    child_ids: list[int]
    allegation_id: int  # the victim's own allegation
    other_allegation_id: int  # another victim's, in the same scope
    outside_case_code: str  # a victim in another country


@pytest.fixture
def chosen(app, make_user, today):
    owner = make_user(Role.ADVOCATE, "CAF")
    outsider = make_user(Role.ADVOCATE, "COD")
    with app.app_context():
        from tests.claims.conftest import new_victim

        actor = db.session.get(User, owner.id)
        victim, other = new_victim(actor), new_victim(actor)
        own, others = (
            allegations.create_allegation(
                actor=actor, reference=reference, country_code="CAF", received_on=today
            )
            for reference in ("ALG-OWN", "ALG-OTHER")
        )
        outcomes.link_victim(actor=actor, victim=victim, allegation=own)
        outcomes.link_victim(actor=actor, victim=other, allegation=others)
        outside = new_victim(db.session.get(User, outsider.id), country="COD")
        db.session.commit()
        children = [c.id for c in victim.children]
        return Chosen(victim.id, victim.case_code, children, own.id, others.id, outside.case_code)


def claim_values(chosen, allegation_id):
    return {
        "child_ids": [str(c) for c in chosen.child_ids],
        "allegation_id": str(allegation_id),
        "father_nationality": "PAK",
        "father_category": "military_contingent",
        "member_state": "",
        "opened_on": date.today().isoformat(),  # read when the form is posted
    }


def claims_of(app, victim_id):
    with app.app_context():
        return db.session.scalars(select(Claim).where(Claim.victim_id == victim_id)).all()


def test_the_chooser_asks_for_a_case_code_and_lists_no_victim(client, login, chosen):
    login(Role.ADVOCATE, "CAF")
    response = client.get("/vat/claims/new")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'name="case_code"' in page
    assert "<option" not in page and chosen.case_code not in page
    assert "has-error" not in page  # no complaint before anything is typed


def test_a_case_code_in_scope_leads_to_the_form_with_only_that_victims_allegations(
    app, client, login, chosen
):
    login(Role.ADVOCATE, "CAF")
    typed = f"  {chosen.case_code.lower()} "
    response = client.get("/vat/claims/new", query_string={"case_code": typed})
    assert response.status_code == 302
    form_path = f"/vat/claims/new?victim={chosen.victim_id}"
    assert response.headers["Location"].endswith(form_path)

    form = client.get(form_path).get_data(as_text=True)
    assert "ALG-OWN" in form and "ALG-OTHER" not in form
    refused = client.post(form_path, data=claim_values(chosen, chosen.other_allegation_id))
    assert refused.status_code == 200 and "has-error" in refused.get_data(as_text=True)
    assert claims_of(app, chosen.victim_id) == []

    response = client.post(form_path, data=claim_values(chosen, chosen.allegation_id))
    assert response.status_code == 302
    [claim] = claims_of(app, chosen.victim_id)
    assert claim.allegation_id == chosen.allegation_id


def test_a_case_code_outside_the_scope_answers_like_one_that_does_not_exist(client, login, chosen):
    login(Role.ADVOCATE, "CAF")
    answers = {}
    for code in (chosen.outside_case_code, "ZZZ-1999-9999"):
        response = client.get("/vat/claims/new", query_string={"case_code": code})
        answers[code] = (response.status_code, response.get_data(as_text=True).replace(code, "CODE"))
    assert answers[chosen.outside_case_code] == answers["ZZZ-1999-9999"]
    status, page = answers["ZZZ-1999-9999"]
    assert status == 404
    assert "No victim in your scope has that case code." in page
    assert "/vat/claims/new?victim=" not in page
    empty = client.get("/vat/claims/new?case_code=")
    assert empty.status_code == 200 and "has-error" in empty.get_data(as_text=True)


def test_the_victim_in_another_scope_cannot_be_opened_by_id_either(app, client, login, chosen):
    login(Role.ADVOCATE, "COD")
    assert client.get(f"/vat/claims/new?victim={chosen.victim_id}").status_code == 404
    response = client.post(
        f"/vat/claims/new?victim={chosen.victim_id}", data=claim_values(chosen, chosen.allegation_id)
    )
    assert response.status_code == 404
    assert claims_of(app, chosen.victim_id) == []


@pytest.mark.parametrize("role", [Role.FUND_MANAGER, Role.AUDITOR, Role.ADMIN])
def test_roles_that_do_not_edit_cases_cannot_look_up_a_case_code(client, login, chosen, role):
    login(role, "CAF")
    response = client.get("/vat/claims/new", query_string={"case_code": chosen.case_code})
    assert response.status_code == 403
    assert chosen.case_code not in response.get_data(as_text=True)


def test_opening_a_claim_needs_a_csrf_token(app, csrf_client, chosen):
    client = csrf_client(Role.ADVOCATE, "CAF")
    form_path = f"/vat/claims/new?victim={chosen.victim_id}"
    values = claim_values(chosen, chosen.allegation_id)
    assert client.post(form_path, data=values).status_code == 400
    assert claims_of(app, chosen.victim_id) == []
    token = csrf_token_in(client.get(form_path).get_data(as_text=True))
    assert client.post(form_path, data={**values, "csrf_token": token}).status_code == 302
    assert len(claims_of(app, chosen.victim_id)) == 1


def test_the_victim_page_offers_a_claim_for_that_victim_once_a_child_is_recorded(app, client, login, chosen):
    user = login(Role.ADVOCATE, "CAF")
    link = f'href="/vat/claims/new?victim={chosen.victim_id}"'
    assert link in client.get(f"/vat/victims/{chosen.victim_id}").get_data(as_text=True)
    with app.app_context():
        from tests.claims.conftest import new_victim

        childless = new_victim(db.session.get(User, user.id), children=0)
        db.session.commit()
        childless_id = childless.id
    childless_page = client.get(f"/vat/victims/{childless_id}").get_data(as_text=True)
    assert f'href="/vat/claims/new?victim={childless_id}"' not in childless_page
    # during pregnancy a claim opens with the expected birth date, the child linked once born
    assert f"/vat/claims/new?victim={childless_id}&amp;expecting=1" in childless_page
