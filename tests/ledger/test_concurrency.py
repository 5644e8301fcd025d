"""Two managers at the same moment: threads with their own app context and session, on SQLite
(immediate transactions) and PostgreSQL (the ledger's advisory lock)."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from ledger.models import Entry, Project, Tranche
from ledger.services import grants
from ledger.verify import verify
from tests.ledger.conftest import key
from vat.auth.models import User
from vat.db import db
from vat.errors import DomainError


def run_together(app: Any, jobs: list[Any]) -> list[str]:
    """Start every job at once, each committing its own transaction; return their outcomes."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker(job: Any) -> None:
        with app.app_context():
            barrier.wait()
            try:
                job()
                db.session.commit()
                outcome = "ok"
            except DomainError as error:
                db.session.rollback()
                outcome = f"refused: {error}"
            finally:
                db.session.remove()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=worker, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_two_concurrent_disbursements_cannot_overspend_a_project(ctx, fund):
    ctx.config["LEDGER_APPROVAL_THRESHOLD_USD"] = Decimal("1000000")
    fund.contribute("200000")
    project_id = fund.project("100000").id
    users = [fund.maker.id, fund.checker.id] * 2
    db.session.commit()

    def disburse(user_id: int) -> Any:
        return lambda: grants.request_disbursement(
            actor=db.session.get(User, user_id),
            key=key(),
            project=db.session.get(Project, project_id),
            amount=Decimal("40000"),
            paid_on=date(2019, 3, 1),
            reference="PAY",
        )

    outcomes = run_together(ctx, [disburse(u) for u in users])
    assert sorted(o.split(":")[0] for o in outcomes) == ["ok", "ok", "refused", "refused"], outcomes
    db.session.expire_all()
    project = db.session.get(Project, project_id)
    assert grants.undisbursed(project) == Decimal("20000")
    assert verify().problem is None


def test_cash_is_not_overspent_by_concurrent_payments(ctx, fund):
    fund.contribute("1000")
    maker_id = fund.maker.id
    db.session.commit()

    def pay() -> None:
        fund.pay("CAR-2017-0001", "300", actor=db.session.get(User, maker_id))

    outcomes = run_together(ctx, [pay] * 5)
    assert sum(o == "ok" for o in outcomes) == 3, outcomes
    assert verify().problem is None


def test_the_same_form_submitted_from_many_threads_books_once(ctx, fund):
    fund.contribute("100000")
    project_id = fund.project("50000").id
    maker_id = fund.maker.id
    db.session.commit()
    shared = key()

    def submit() -> None:
        grants.request_disbursement(
            actor=db.session.get(User, maker_id),
            key=shared,
            project=db.session.get(Project, project_id),
            amount=Decimal("5000"),
            paid_on=date(2019, 3, 1),
            reference="PAY",
        )

    outcomes = run_together(ctx, [submit] * 4)
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

    def disburse(user_id: int) -> Any:
        return lambda: grants.request_disbursement(
            actor=db.session.get(User, user_id),
            key=key(),
            project=db.session.get(Project, project_id),
            amount=Decimal("9600"),
            paid_on=date(2019, 3, 1),
            reference="PAY",
        )

    outcomes = run_together(ctx, [disburse(u) for u in users])
    assert outcomes == ["ok"] * 5, outcomes
    db.session.expire_all()
    statuses = sorted(db.session.scalars(select(Tranche.status)))
    assert statuses == ["pending"] * 4 + ["posted"]
    assert db.session.scalar(select(func.count(Entry.id)).where(Entry.kind == "disbursement")) == 1
    assert verify().problem is None
