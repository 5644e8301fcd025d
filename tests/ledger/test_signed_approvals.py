"""Signed requests and decisions (issue 15, ASVS 4.1.5): every request to move money and its
decision carry an HMAC under VAT_MAC_KEY; a request changed in the database after it was made is
refused at approval, and `flask ledger verify` names a changed request or decision."""

from __future__ import annotations

from sqlalchemy import select, text, update

from ledger.outflows import Outflow
from ledger.services import four_eyes
from ledger.verify import verify
from tests.ledger.pages import pay_victim, seed_cash_and_project
from tests.ledger.test_four_eyes_views import support_entries
from vat.db import db


def held_support(app, client) -> int:
    """US$100 of direct support (posted at once, within the limits), then US$150,000 (held for a
    second fund manager): the held one's id."""
    seed_cash_and_project(client)
    for amount, day in (("100", "2019-01-15"), ("150000", "2019-01-20")):
        assert pay_victim(client, amount, day).status_code == 302
    with app.app_context():
        return db.session.scalars(select(Outflow.id).where(Outflow.status == "pending")).one()


def _raw(app, statement: str, **values) -> None:
    """An UPDATE as someone with the database's password would run it, past the app."""
    with app.app_context():
        db.session.execute(text(statement), values)
        db.session.commit()


def _verified(app) -> str | None:
    with app.app_context():
        return verify(anchored=False).problem


def test_a_request_is_signed_when_made_and_its_decision_when_decided(app, client, manager, checker):
    outflow_id = held_support(app, client)
    with app.app_context():
        outflow = db.session.get_one(Outflow, outflow_id)
        assert outflow.request_mac == four_eyes.request_signature(outflow) and outflow.decision_mac is None
    assert checker.post(f"/ledger/approvals/{outflow_id}/approve").status_code == 302
    with app.app_context():
        outflow = db.session.get_one(Outflow, outflow_id)
        assert outflow.status == "posted" and outflow.checker_id is not None
        assert outflow.decision_mac == four_eyes.decision_signature(outflow)
        posted_at_once = db.session.scalars(select(Outflow).where(Outflow.id != outflow_id)).all()
        assert len(posted_at_once) == 1 and posted_at_once[0].checker_id is None
        assert all(o.decision_mac == four_eyes.decision_signature(o) for o in posted_at_once)
    assert _verified(app) is None


def test_a_request_changed_after_it_was_made_is_not_approved(app, client, manager, checker):
    outflow_id = held_support(app, client)
    # Someone with the database's password lowers the recorded dollar amount and the payee, so
    # the request looks small and paid elsewhere.
    _raw(
        app,
        "UPDATE ledger_outflow SET usd_minor = 100, payee = 'case:CAR-2017-0001' WHERE id = :id",
        id=outflow_id,
    )
    assert _verified(app) == f"outflow {outflow_id}: the request differs from what was signed"
    answer = checker.post(f"/ledger/approvals/{outflow_id}/approve", follow_redirects=True)
    assert "changed after it was made" in answer.get_data(as_text=True)
    assert support_entries(app) == 1, "only the US$100 posted at once"
    with app.app_context():
        assert db.session.get_one(Outflow, outflow_id).status == "pending"
    assert (
        checker.post(f"/ledger/approvals/{outflow_id}/reject", data={"reason": "altered"}).status_code == 302
    )
    with app.app_context():
        assert db.session.get_one(Outflow, outflow_id).status == "rejected"


def test_verify_names_a_changed_decision_and_a_removed_signature(app, client, manager, checker):
    outflow_id = held_support(app, client)
    assert checker.post(f"/ledger/approvals/{outflow_id}/approve").status_code == 302
    assert _verified(app) is None
    _raw(app, "UPDATE ledger_outflow SET checker_id = maker_id WHERE id = :id", id=outflow_id)
    assert _verified(app) == f"outflow {outflow_id}: the decision differs from what was signed"
    _raw(
        app, "UPDATE ledger_outflow SET request_mac = NULL, decision_mac = NULL WHERE id = :id", id=outflow_id
    )
    assert _verified(app) == f"outflow {outflow_id}: not signed", "a signed outflow is older"


def test_outflows_older_than_every_signed_one_may_be_unsigned(app, client, manager):
    held_support(app, client)
    with app.app_context():
        first = db.session.scalar(select(Outflow.id).order_by(Outflow.id).limit(1))
        db.session.execute(
            update(Outflow).where(Outflow.id == first).values(request_mac=None, decision_mac=None)
        )
        db.session.commit()
    assert _verified(app) is None, "recorded before signatures (migration 1093)"
