"""The rapid-response envelope pages (issue 18, item 6) through the test client: opened by one
fund manager, confirmed by another (never the maker), paid from within what is left and the cap;
the roles without the ledger's permissions and a post without its CSRF token are refused."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ledger.models import DirectSupport, MissionEnvelope
from tests.conftest import csrf_token_in, row_count, signed_in_client
from tests.ledger.pages import book, entry_count, minted_key, receive
from vat.auth.models import Role
from vat.db import db

TERMS = {
    "mission": "minusca",
    "country_code": "CAF",
    "usd": "1000",
    "victim_cap": "400",
    "opens_on": "2019-01-15",
    "closes_on": "2019-03-31",
    "basis": "TFC decision 2019/04",
}


def open_envelope(client, **terms: str):
    return book(client, "/ledger/envelopes/new", **{**TERMS, **terms})


def pay(client, amount: str, case_code: str = "CAR-2019-0001", envelope: int = 1):
    fields = {"case_code": case_code, "purpose": "medical evacuation", "currency": "USD"}
    return book(client, f"/ledger/envelopes/{envelope}/pay", amount=amount, paid_on="2019-02-01", **fields)


def envelope(app) -> MissionEnvelope:
    with app.app_context():
        return db.session.scalars(select(MissionEnvelope)).one()


def test_one_opens_another_confirms_and_payments_post_within_it(app, client, manager, checker):
    client.post("/ledger/donors/new", data={"kind": "member_state", "country_code": "NOR"})
    assert receive(client, "5000", "2019-01-10").status_code == 302
    refused = open_envelope(client, victim_cap="1001")
    assert refused.status_code == 422 and "more than the whole envelope" in refused.get_data(as_text=True)
    assert open_envelope(client).status_code == 302
    listed = client.get("/ledger/envelopes").get_data(as_text=True)
    assert "MINUSCA" in listed and "awaiting confirmation" in listed and "1,000.00" in listed
    assert "/ledger/envelopes/1/confirm" not in listed  # not the maker's to confirm

    unconfirmed = pay(client, "50")
    assert unconfirmed.status_code == 422 and "not confirmed" in unconfirmed.get_data(as_text=True)
    own = client.post("/ledger/envelopes/1/confirm", follow_redirects=True)
    assert "another fund manager must confirm" in own.get_data(as_text=True)
    assert envelope(app).confirmed_at is None

    assert "/ledger/envelopes/1/confirm" in checker.get("/ledger/envelopes").get_data(as_text=True)
    assert checker.post("/ledger/envelopes/1/confirm").status_code == 302
    assert envelope(app).checker_id is not None
    again = checker.post("/ledger/envelopes/1/confirm", follow_redirects=True)
    assert "already confirmed" in again.get_data(as_text=True)

    entries = entry_count(app)
    assert pay(client, "350").status_code == 302
    assert entry_count(app) == entries + 1  # posted at once, not held for approval
    over_cap = pay(client, "50.01")
    assert over_cap.status_code == 422 and "cap of US$400.00" in over_cap.get_data(as_text=True)
    assert pay(client, "400", case_code="CAR-2019-0002").status_code == 302
    listed = client.get("/ledger/envelopes").get_data(as_text=True)
    assert "750.00" in listed and "250.00" in listed  # spent, remaining
    with app.app_context():
        paid = db.session.scalars(select(DirectSupport).order_by(DirectSupport.id)).all()
        assert [p.route for p in paid] == ["mission", "mission"] and {p.envelope_id for p in paid} == {1}


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.SENIOR_ADVOCATE])
def test_readers_see_the_envelopes_but_cannot_open_confirm_or_pay(app, client, login, make_user, role):
    manager = signed_in_client(app, make_user(Role.FUND_MANAGER, ""))
    assert open_envelope(manager).status_code == 302
    login(role, "CAF")
    listed = client.get("/ledger/envelopes")
    assert listed.status_code == 200 and "MINUSCA" in listed.get_data(as_text=True)
    assert client.get("/ledger/envelopes/new").status_code == 403
    assert client.post("/ledger/envelopes/new", data=TERMS).status_code == 403
    assert client.post("/ledger/envelopes/1/confirm").status_code == 403
    assert client.get("/ledger/envelopes/1/pay").status_code == 403
    assert envelope(app).confirmed_at is None


def test_an_advocate_cannot_read_the_envelopes(client, login):
    login(Role.ADVOCATE, "CAF")
    assert client.get("/ledger/envelopes").status_code == 403


def test_an_unknown_envelope_is_404(client, manager):
    assert client.get("/ledger/envelopes/9/pay").status_code == 404
    assert client.post("/ledger/envelopes/9/confirm").status_code == 404


def test_posts_without_csrf_token_are_refused(app, csrf_client):
    maker, second = csrf_client(Role.FUND_MANAGER, ""), csrf_client(Role.FUND_MANAGER, "")
    assert maker.post("/ledger/envelopes/new", data=TERMS).status_code == 400
    assert row_count(app, MissionEnvelope) == 0
    token = csrf_token_in(maker.get("/ledger/envelopes/new").get_data(as_text=True))
    assert book(maker, "/ledger/envelopes/new", csrf_token=token, **TERMS).status_code == 302
    assert second.post("/ledger/envelopes/1/confirm").status_code == 400
    with app.app_context():
        assert db.session.get_one(MissionEnvelope, 1).confirmed_at is None


def posted_twice(client, path: str, **data: str) -> None:
    """The form's page rendered once, its key minted, and the same submission sent twice."""
    data["key"] = minted_key(client.get(path).get_data(as_text=True))
    assert [client.post(path, data=data).status_code for _ in range(2)] == [302, 302]


def test_each_form_submitted_twice_records_once(app, client, manager, checker):
    client.post("/ledger/donors/new", data={"kind": "member_state", "country_code": "NOR"})
    receive(client, "5000", "2019-01-10")
    posted_twice(client, "/ledger/envelopes/new", **TERMS)
    checker.post("/ledger/envelopes/1/confirm")
    urgent = {"case_code": "CAR-2019-0001", "purpose": "rent", "currency": "USD", "paid_on": "2019-02-01"}
    posted_twice(client, "/ledger/envelopes/1/pay", amount="100", **urgent)
    assert row_count(app, MissionEnvelope) == 1
    assert row_count(app, DirectSupport) == 1
