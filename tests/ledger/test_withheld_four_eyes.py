"""Withheld money leaves the fund only on two fund managers' word (issue 15, item 1): taking a
withheld transfer back out of the fund's custody, or undoing a withholding, is an outflow to the
contributing country under the four-eyes policy, like tranches and direct support. Two approvals
sent at once post it once (real threads; run with VAT_TEST_BACKEND=postgres for PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from ledger import engine
from ledger.models import Entry, Withholding
from ledger.outflows import Outflow, OutflowStatus
from ledger.services import four_eyes
from ledger.verify import verify
from tests.ledger.conftest import PASSWORD, key, run_together
from tests.ledger.pages import book, minted_key, withhold
from vat.auth import services as auth
from vat.auth.models import Role
from vat.db import db
from vat.errors import NotAllowed

ON = date(2019, 3, 1)


def reversals() -> int:
    return db.session.scalar(select(func.count(Entry.id)).where(Entry.kind == "reversal")) or 0


def transferred(fund, amount: str) -> Entry:
    """US$`amount` withheld from South Africa and transferred to the fund."""
    withholding = fund.withhold("0001/18", "ZAF", amount, date(2019, 2, 1))
    return db.session.get_one(Entry, fund.transfer(withholding, amount, date(2019, 2, 10)).entry_id)


def test_taking_a_withheld_transfer_back_out_waits_for_a_second_manager(fund):
    transfer = transferred(fund, "60000")
    cash_before = engine.usd_balance(engine.CASH)
    pending = fund.reverse(transfer, on=ON, reason="sent back to the country")
    assert isinstance(pending, Outflow) and pending.status == OutflowStatus.PENDING
    assert pending.payee == "country:ZAF" and pending.held_because == "payee"
    assert reversals() == 0 and engine.usd_balance(engine.CASH) == cash_before
    with pytest.raises(NotAllowed):
        four_eyes.approve(actor=fund.maker, outflow=pending)
    four_eyes.approve(actor=fund.second(), outflow=pending)
    reversal = engine.reversal_of(transfer)
    assert reversal is not None and reversals() == 1
    assert engine.usd_balance(engine.CASH) == cash_before - 60000
    assert pending.maker_id == fund.maker.id and pending.checker_id == fund.checker.id
    assert verify().problem is None


def test_withheld_transfers_taken_back_in_parts_are_summed_per_country(fund):
    withholding = fund.withhold("0001/18", "ZAF", "36000", date(2019, 2, 1))
    parts = [
        db.session.get_one(Entry, fund.transfer(withholding, "9000", date(2019, 2, 10), f"T{n}").entry_id)
        for n in range(4)
    ]
    outcomes = [fund.reverse(part, on=ON, reason="split") for part in parts]
    assert isinstance(outcomes[0], Entry)  # US$9,000 to ZAF in 30 days: within the threshold
    assert all(isinstance(o, Outflow) and o.held_because == "payee" for o in outcomes[1:])
    assert reversals() == 1


def test_undoing_a_withholding_beyond_the_threshold_waits(fund):
    withholding = fund.withhold("0002/18", "ZAF", "50000", date(2019, 2, 1))
    pending = fund.reverse(db.session.get_one(Entry, withholding.entry_id), on=ON, reason="wrong country")
    assert isinstance(pending, Outflow) and pending.payee == "country:ZAF" and reversals() == 0
    four_eyes.approve(actor=fund.second(), outflow=pending)
    assert reversals() == 1


def test_two_approvals_at_once_take_the_money_out_once(ctx, fund):
    transfer = transferred(fund, "60000")
    outflow_id = fund.reverse(transfer, on=ON, reason="sent back").id
    third = auth.create_user(
        actor=None, username=f"third{key()[:8]}", password=PASSWORD, role=Role.FUND_MANAGER
    )
    checkers = [fund.second().id, third.id] * 2
    db.session.commit()

    def approve(actor):
        return four_eyes.approve(actor=actor, outflow=db.session.get_one(Outflow, outflow_id))

    outcomes = run_together(ctx, [(checker, approve) for checker in checkers])
    assert sorted(o.split(":")[0] for o in outcomes) == ["ok", "refused", "refused", "refused"], outcomes
    db.session.expire_all()
    assert reversals() == 1
    assert db.session.get_one(Outflow, outflow_id).status == OutflowStatus.POSTED
    assert verify().problem is None


def test_through_the_pages_the_maker_cannot_approve_and_nothing_moves(app, client, manager, checker):
    assert withhold(client, "0003/18", "60000").status_code == 302
    with app.app_context():
        withholding_id = db.session.scalars(select(Withholding.id)).one()
    path = f"/ledger/withholdings/{withholding_id}/transfer"
    transfer = {"amount": "60000", "transferred_on": "2019-02-10", "reference": "T-1"}
    assert book(client, path, **transfer).status_code == 302
    with app.app_context():
        entry_id = db.session.scalars(select(Entry.id).where(Entry.kind == "withheld_transfer")).one()
    page = client.get(f"/ledger/entries/{entry_id}").get_data(as_text=True)
    asked = client.post(
        f"/ledger/entries/{entry_id}", data={"key": minted_key(page), "on": "2019-03-01", "reason": "back"}
    )
    assert asked.status_code == 302
    with app.app_context():
        outflow_id = db.session.scalars(select(Outflow.id)).one()
        assert reversals() == 0
    assert client.post(f"/ledger/approvals/{outflow_id}/approve").status_code == 403
    stranger = app.test_client()
    assert stranger.post(f"/ledger/approvals/{outflow_id}/approve").status_code in (302, 401)
    assert checker.post(f"/ledger/approvals/{outflow_id}/approve").status_code == 302
    with app.app_context():
        assert reversals() == 1


def test_another_role_cannot_approve_the_transfer_out(fund):
    transfer = transferred(fund, "60000")
    pending = fund.reverse(transfer, on=ON, reason="sent back")
    for role in (Role.ADMIN, Role.AUDITOR, Role.SENIOR_ADVOCATE):
        other = auth.create_user(
            actor=None, username=f"x{role.value}{key()[:6]}", password=PASSWORD, role=role
        )
        with pytest.raises(NotAllowed):
            four_eyes.approve(actor=other, outflow=pending)
    assert reversals() == 0
