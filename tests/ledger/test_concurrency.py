"""Two managers at the same moment: threads with their own app context and session, on SQLite
(immediate transactions) and PostgreSQL (the ledger's advisory lock)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from ledger.models import Entry, Project, Tranche
from ledger.services import grants
from ledger.verify import verify
from tests.ledger.conftest import key, run_together
from vat.db import db


def disbursement(project_id: int, amount: str, request_key: str | None = None) -> Any:
    """A job for `run_together`: its fund manager asks to pay `amount` out of the project."""
    return lambda actor: grants.request_disbursement(
        actor=actor,
        key=request_key or key(),
        project=db.session.get(Project, project_id),
        amount=Decimal(amount),
        paid_on=date(2019, 3, 1),
        reference="PAY",
    )


def test_two_concurrent_disbursements_cannot_overspend_a_project(ctx, fund):
    ctx.config["LEDGER_APPROVAL_THRESHOLD_USD"] = Decimal("1000000")
    fund.contribute("200000")
    project_id = fund.project("100000").id
    users = [fund.maker.id, fund.checker.id] * 2
    db.session.commit()
    outcomes = run_together(ctx, [(u, disbursement(project_id, "40000")) for u in users])
    assert sorted(o.split(":")[0] for o in outcomes) == ["ok", "ok", "refused", "refused"], outcomes
    db.session.expire_all()
    project = db.session.get(Project, project_id)
    assert grants.undisbursed(project) == Decimal("20000")
    assert verify().problem is None


def test_cash_is_not_overspent_by_concurrent_payments(ctx, fund):
    fund.contribute("1000")
    db.session.commit()
    outcomes = run_together(
        ctx, [(fund.maker.id, lambda actor: fund.pay("CAR-2017-0001", "300", actor=actor))] * 5
    )
    assert sum(o == "ok" for o in outcomes) == 3, outcomes
    assert verify().problem is None


def test_the_same_form_submitted_from_many_threads_books_once(ctx, fund):
    fund.contribute("100000")
    project_id = fund.project("50000").id
    db.session.commit()
    outcomes = run_together(ctx, [(fund.maker.id, disbursement(project_id, "5000", key()))] * 4)
    assert outcomes == ["ok"] * 4
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Tranche.id))) == 1
    assert db.session.scalar(select(func.count(Entry.id)).where(Entry.kind == "disbursement")) == 1
    assert verify().problem is None


def test_split_tranches_sent_at_once_cannot_all_slip_under_the_threshold(ctx, fund):
    """Five tranches of 9,600 from two managers at the same moment: the rolling sum is read under
    the ledger's lock, so one posts and four wait for approval."""
    fund.contribute("200000")
    project_id = fund.project("100000").id
    users = [fund.maker.id, fund.checker.id] * 2 + [fund.maker.id]
    db.session.commit()
    outcomes = run_together(ctx, [(u, disbursement(project_id, "9600")) for u in users])
    assert outcomes == ["ok"] * 5, outcomes
    db.session.expire_all()
    statuses = sorted(db.session.scalars(select(Tranche.status)))
    assert statuses == ["pending"] * 4 + ["posted"]
    assert db.session.scalar(select(func.count(Entry.id)).where(Entry.kind == "disbursement")) == 1
    assert verify().problem is None
