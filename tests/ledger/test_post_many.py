"""The engine's batch entry point: many events in one transaction, every rule of a single `post`,
all or nothing, and a number of statements that does not grow with the number of events."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from ledger import engine
from ledger.engine import EntryKind, Event, Line
from ledger.models import Entry, Posting
from ledger.services import months
from ledger.verify import verify
from tests.ledger.conftest import key, run_together
from tests.statements import statements_sent
from vat import audit
from vat.audit import AuditEvent
from vat.auth.models import User
from vat.db import db
from vat.errors import Conflict, DomainError


def payment(amount: str, *, k: str | None = None, on: date = date(2019, 2, 1), case: str = "CAR-1") -> Event:
    dims = {"case_code": case, "country_code": "CAF"}
    return Event(
        key=k or key(),
        payload={"event": "test", "amount": amount, "case": case},
        kind=EntryKind.VICTIM_SUPPORT,
        entry_date=on,
        memo="support",
        lines=[
            Line(engine.VICTIM_SUPPORT, "USD", D(amount), dims=dims),
            Line(engine.CASH, "USD", -D(amount), dims=dims),
        ],
    )


def counts() -> tuple[int, int, int]:
    return (
        db.session.scalar(select(func.count(Entry.id))),
        db.session.scalar(select(func.count(Posting.id))),
        db.session.scalar(select(func.count(AuditEvent.id))),
    )


def test_a_batch_books_each_event_as_its_own_chained_entry(fund):
    fund.contribute("1000")
    before_seq, _ = engine.head()
    ids = engine.post_many(actor=fund.maker, events=[payment("100"), payment("250"), payment("50")])
    db.session.commit()
    entries = db.session.scalars(select(Entry).where(Entry.id.in_(ids)).order_by(Entry.seq)).all()
    assert [e.id for e in entries] == ids
    assert [e.seq for e in entries] == [before_seq + 1, before_seq + 2, before_seq + 3]
    assert [e.maker_id for e in entries] == [fund.maker.id] * 3
    cash = engine.account_id(engine.CASH)
    assert [p.running_usd_minor for e in entries for p in e.postings if p.account_id == cash] == [
        90000,
        65000,
        60000,
    ]
    assert engine.usd_balance(engine.CASH) == D("600")
    assert verify().problem is None
    booked = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "ledger.victim_support")).all()
    assert [a.object_id for a in booked] == [str(i) for i in ids]
    assert audit.verify().problem is None


def test_post_returns_the_entry_with_its_postings(fund):
    fund.contribute("1000")
    entry = engine.post(fund.maker, payment("10"))
    assert isinstance(entry, Entry) and len(entry.postings) == 2
    assert sum(p.usd_minor for p in entry.postings) == 0


def test_keys_already_booked_give_their_entry_and_a_changed_request_conflicts(fund):
    fund.contribute("1000")
    first = payment("100", k="form-1")
    (first_id,) = engine.post_many(actor=fund.maker, events=[first])
    before = counts()
    again = engine.post_many(
        actor=fund.maker, events=[payment("100", k="form-1"), payment("100", k="form-1")]
    )
    assert again == [first_id, first_id] and counts() == before
    with pytest.raises(Conflict):
        engine.post_many(actor=fund.maker, events=[payment("20"), payment("999", k="form-1")])
    with pytest.raises(Conflict):
        engine.post_many(actor=fund.maker, events=[payment("20", k="form-2"), payment("30", k="form-2")])
    assert counts() == before


def test_a_batch_that_would_overdraw_cash_books_nothing(fund):
    fund.contribute("1000")
    db.session.commit()
    before = counts()
    with pytest.raises(DomainError, match=r"Not enough cash: the fund holds US\$300.00"):
        engine.post_many(actor=fund.maker, events=[payment("400"), payment("300"), payment("301")])
    assert counts() == before
    assert engine.usd_balance(engine.CASH) == D("1000")


@pytest.mark.parametrize(
    ("day", "message"), [(date(2019, 1, 20), "January 2019 is closed"), (date(2999, 1, 1), "in the future")]
)
def test_one_event_in_a_closed_month_or_the_future_refuses_the_batch(fund, day, message):
    fund.contribute("1000", on=date(2019, 1, 10))
    months.close_period(actor=fund.maker, month=date(2019, 1, 1))
    before = counts()
    with pytest.raises(DomainError, match=message):
        engine.post_many(actor=fund.maker, events=[payment("10", on=date(2019, 2, 1)), payment("10", on=day)])
    assert counts() == before


def test_the_statements_sent_do_not_grow_with_the_batch(fund):
    fund.contribute("100000")
    db.session.commit()
    sizes = {}
    for size in (1, 2, 40):  # the first call also reloads what the commit expired
        with statements_sent(db.engine) as statements:
            engine.post_many(
                actor=fund.maker, events=[payment("1", case=f"CAR-{n % 3}") for n in range(size)]
            )
        sizes[size] = len(statements)
    assert sizes[2] == sizes[40], sizes
    assert verify().problem is None


def test_two_batches_at_once_cannot_overspend_cash(ctx, fund):
    fund.contribute("1000")
    db.session.commit()

    def batch(actor: User) -> None:
        engine.post_many(actor=actor, events=[payment("200"), payment("200"), payment("200")])

    outcomes = run_together(ctx, [(fund.maker.id, batch)] * 2)
    assert sorted(o.split(":")[0] for o in outcomes) == ["ok", "refused"], outcomes
    db.session.expire_all()
    assert engine.usd_balance(engine.CASH) == D("400")
    assert verify().problem is None
