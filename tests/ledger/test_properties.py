"""Property tests: random sequences of the fund's events (some refused, some replayed, some
reversed) keep every invariant, and balances recomputed from postings equal the running ones."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from ledger import engine
from ledger.engine import Line
from ledger.models import Entry, Posting, ProjectFocus
from ledger.reports import statements, subledgers, withheld
from ledger.services import contributions, corrections, grants, victim_support, withholdings
from ledger.verify import verify
from tests.ledger.conftest import key, post_receipt
from vat.db import db
from vat.errors import DomainError

PROPERTY_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
MONTHS = [date(2019, m, 1) for m in range(1, 7)]
RATES = {
    "EUR": ["0.80", "0.85", "0.87", "0.9", "0.88", "0.91"],
    "JPY": ["109", "110.5", "111", "108", "107.25", "112"],
}

day = st.builds(lambda m, d: date(2019, m, d), st.integers(1, 6), st.integers(1, 28))
amount = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("50000"), places=2)
currency = st.sampled_from(["USD", "EUR", "JPY"])
pick = st.integers(min_value=0, max_value=50)
share = st.sampled_from([Decimal("0.25"), Decimal("0.5"), Decimal("1"), Decimal("1.2")])
then = st.sampled_from([None, Decimal("0.25"), Decimal("0.5"), Decimal("1")])  # a follow-up event

events = st.lists(
    st.one_of(
        st.tuples(st.just("contribute"), amount, day),
        st.tuples(st.just("pledge"), amount, currency, day),
        st.tuples(st.just("receive"), pick, share, day),
        st.tuples(st.just("withhold"), amount, day, then),
        st.tuples(st.just("transfer"), pick, share, day),
        st.tuples(st.just("approve"), amount, currency, day, then),
        st.tuples(st.just("disburse"), pick, share, day),
        st.tuples(st.just("support"), amount, day),
        st.tuples(st.just("reverse"), pick, day),
        st.tuples(st.just("replay"), pick),
    ),
    min_size=1,
    max_size=14,
)


@pytest.fixture
def rated_fund(fund):
    for code, rates in RATES.items():
        for month, rate in zip(MONTHS, rates, strict=True):
            fund.rate(code, month, rate)
    for country in ("NOR", "JPN", "DEU"):
        fund.donor(country)
    db.session.commit()
    return fund


def _quantize(value: Decimal, code: str) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-engine.exponent(code)))


class Run:
    """Applies events; remembers calls to replay them with the same key."""

    def __init__(self, fund: Any) -> None:
        self.fund = fund
        self.pledges: list[Any] = []
        self.withholdings: list[Any] = []
        self.projects: list[Any] = []
        self.calls: list[tuple[Any, dict[str, Any], Any]] = []

    def remembered(self) -> tuple[int, ...]:
        return len(self.pledges), len(self.withholdings), len(self.projects), len(self.calls)

    def forget_since(self, remembered: tuple[int, ...]) -> None:
        """The savepoint rolled back: forget what it booked (PostgreSQL will not reuse its ids)."""
        pledges, withholdings, projects, calls = remembered
        del self.pledges[pledges:], self.withholdings[withholdings:], self.projects[projects:]
        del self.calls[calls:]

    def call(self, function: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("actor", self.fund.maker)
        kwargs["key"] = key()
        result = function(**kwargs)
        self.calls.append((function, kwargs, result))
        return result

    def apply(self, event: tuple[Any, ...]) -> None:
        name, *args = event
        donors = [self.fund.donor(c) for c in ("NOR", "JPN", "DEU")]
        if name == "contribute":
            value, on = args
            self.call(
                contributions.record_receipt,
                donor=donors[0],
                amount=value,
                currency="USD",
                received_on=on,
                bank_reference="B",
            )
        elif name == "pledge":
            value, code, on = args
            pledge = self.call(
                contributions.record_pledge,
                donor=donors[1],
                currency=code,
                amount=_quantize(value, code),
                pledged_on=on,
            )
            self.pledges.append(pledge)
        elif name == "receive" and self.pledges:
            index, part, on = args
            pledge = self.pledges[index % len(self.pledges)]
            value = _quantize(contributions.pledge_outstanding(pledge) * part, pledge.currency)
            self.call(
                contributions.record_receipt,
                donor=pledge.donor,
                pledge=pledge,
                amount=value,
                currency=pledge.currency,
                received_on=max(on, pledge.pledged_on),
                bank_reference="B",
            )
        elif name == "withhold":
            value, on, then_transfer = args
            self.withholdings.append(
                self.call(
                    withholdings.record_withholding,
                    allegation_ref=f"{len(self.withholdings):04d}/19",
                    country_code="ZAF",
                    amount=value,
                    decided_on=on,
                )
            )
            if then_transfer:
                self.apply(("transfer", len(self.withholdings) - 1, then_transfer, on))
        elif name == "transfer" and self.withholdings:
            index, part, on = args
            w = self.withholdings[index % len(self.withholdings)]
            value = _quantize(withholdings.withholding_outstanding(w) * part, "USD")
            self.call(
                withholdings.record_withholding_transfer,
                withholding=w,
                amount=value,
                transferred_on=max(on, w.decided_on),
                reference="T",
            )
        elif name == "approve":
            value, code, on, then_disburse = args
            self.projects.append(
                self.call(
                    grants.approve_project,
                    title="P",
                    partner="IRC",
                    country_code="COD",
                    focus=ProjectFocus.SERVICES,
                    currency=code,
                    amount=_quantize(value, code),
                    approved_on=on,
                    planned_start=on,
                    planned_end=date(2020, 1, 1),
                )
            )
            if then_disburse:
                self.apply(("disburse", len(self.projects) - 1, then_disburse, on))
        elif name == "disburse" and self.projects:
            index, part, on = args
            p = self.projects[index % len(self.projects)]
            value = _quantize(grants.undisbursed(p) * part, p.currency)
            tranche = self.call(
                grants.request_disbursement, project=p, amount=value, paid_on=on, reference="P"
            )
            if tranche.status == "pending":
                grants.approve_disbursement(actor=self.fund.checker, tranche=tranche)
        elif name == "support":
            value, on = args
            self.call(
                victim_support.pay_direct_support,
                case_code="CAR-2017-0001",
                amount=value,
                currency="USD",
                paid_on=on,
                purpose="school fees",
                route="mission",
                basis="TFC decision",
            )
        elif name == "reverse":
            index, on = args
            ids = db.session.scalars(select(Entry.id).order_by(Entry.id)).all()
            if ids:
                target = db.session.get(Entry, ids[index % len(ids)])
                self.call(
                    corrections.reverse_entry, entry=target, on=max(on, target.entry_date), reason="test"
                )
        elif name == "replay" and self.calls:
            (index,) = args
            function, kwargs, result = self.calls[index % len(self.calls)]
            count = db.session.scalar(select(func.count(Entry.id)))
            again = function(**kwargs)
            assert again.id == result.id
            assert db.session.scalar(select(func.count(Entry.id))) == count


def assert_invariants() -> None:
    report = verify()
    assert report.problem is None, report.problem
    assert engine.usd_balance(engine.CASH) >= 0
    rows = statements.trial_balance()
    assert sum(r.debit for r in rows) == sum(r.credit for r in rows)
    recomputed: dict[int, int] = defaultdict(int)
    last: dict[int, int] = {}
    for posting in db.session.scalars(select(Posting).order_by(Posting.id)):
        recomputed[posting.account_id] += posting.usd_minor
        last[posting.account_id] = posting.running_usd_minor
    assert recomputed == last
    assert not any(c["difference"] for c in subledgers.subledger_checks())
    assert withheld.reconciliation().ties
    for per_currency in db.session.execute(
        select(Posting.entry_id, Posting.currency, func.sum(Posting.amount_minor))
        .group_by(Posting.entry_id, Posting.currency)
        .having(func.sum(Posting.amount_minor) != 0)
    ):
        pytest.fail(f"unbalanced {per_currency}")


@PROPERTY_SETTINGS
@given(sequence=events)
def test_random_event_sequences_keep_every_invariant(rated_fund, sequence):
    run = Run(rated_fund)
    opening = ("contribute", Decimal("150000"), date(2019, 1, 1))
    try:
        for event in [opening, *sequence]:
            remembered = run.remembered()
            try:
                with db.session.begin_nested():
                    run.apply(event)
            except DomainError:
                run.forget_since(remembered)  # a rule refused it; nothing of it may remain
            assert_invariants()
    finally:
        db.session.rollback()


@PROPERTY_SETTINGS
@given(
    amounts=st.lists(st.integers(min_value=-(10**9), max_value=10**9).filter(bool), min_size=1, max_size=6),
    line=st.integers(min_value=0, max_value=6),
    nudge=st.sampled_from([-1, 1]),
)
def test_a_balanced_entry_posts_and_one_minor_unit_off_is_refused(rated_fund, amounts, line, nudge):
    others = [engine.CONTRIBUTIONS, engine.GRANT_EXPENSE, engine.VICTIM_SUPPORT]
    minor = [*amounts, -sum(amounts)]
    if minor[-1] == 0:
        minor = minor[:-1]
    if len(minor) < 2:
        return
    positive_first = sorted(minor, reverse=True)  # the largest debit on cash: it may not go negative

    def lines(values: list[int]) -> list[Line]:
        accounts = [engine.CASH] + [others[i % len(others)] for i in range(len(values) - 1)]
        return [Line(a, "USD", Decimal(v).scaleb(-2)) for a, v in zip(accounts, values, strict=True)]

    try:
        with db.session.begin_nested():
            engine.begin(key(), {})
            post_receipt(lines(positive_first))
        assert verify().problem is None
        broken = list(positive_first)
        broken[line % len(broken)] += nudge
        with pytest.raises(DomainError), db.session.begin_nested():
            post_receipt(lines(broken))
    finally:
        db.session.rollback()
