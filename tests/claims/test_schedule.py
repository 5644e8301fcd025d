"""Child-support schedules and arrears: the payments due per period, settled oldest first."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Date, String, literal, select

from tests.claims.conftest import S, claim_at, order_support, pay, support_order
from vat.claims import support
from vat.claims.history import IllegalMove
from vat.claims.models import Frequency, Payment, SupportOrder
from vat.db import db
from vat.errors import DomainError


def order(amount="100.00", frequency="monthly", starts_on=date(2025, 1, 31), ends_on=None, currency="USD"):
    return support_order(amount, currency, frequency, starts_on, ends_on)


def payment(amount, received_on=date(2025, 2, 1), currency="USD"):
    return Payment(amount=Decimal(amount), currency=currency, received_on=received_on, route="cash")


def test_monthly_periods_keep_the_day_or_the_month_end():
    plan = support.schedule([order()], [], on=date(2025, 4, 30))
    assert [i.due_on for i in plan.instalments] == [
        date(2025, 1, 31),
        date(2025, 2, 28),
        date(2025, 3, 31),
        date(2025, 4, 30),
    ]
    assert plan.next_due is not None and plan.next_due.due_on == date(2025, 5, 31)
    assert plan.balances[0].due == Decimal("400.00")


def test_quarterly_yearly_once_and_end_date():
    quarterly = support.schedule(
        [order(frequency="quarterly", starts_on=date(2025, 1, 1))], [], on=date(2025, 12, 31)
    )
    assert len(quarterly.instalments) == 4
    yearly = support.schedule(
        [order(frequency="yearly", starts_on=date(2020, 6, 1))], [], on=date(2025, 6, 1)
    )
    assert len(yearly.instalments) == 6
    once = support.schedule([order(frequency="once", starts_on=date(2025, 1, 1))], [], on=date(2030, 1, 1))
    assert len(once.instalments) == 1 and once.next_due is None
    ended = support.schedule(
        [order(starts_on=date(2025, 1, 1), ends_on=date(2025, 3, 15))], [], on=date(2026, 1, 1)
    )
    assert len(ended.instalments) == 3 and ended.next_due is None


def test_a_later_order_ends_the_earlier_one():
    first = order(amount="100.00", starts_on=date(2025, 1, 1))
    second = order(amount="150.00", starts_on=date(2025, 4, 1))
    plan = support.schedule([second, first], [], on=date(2025, 5, 1))
    assert [(i.due_on, i.amount) for i in plan.instalments] == [
        (date(2025, 1, 1), Decimal("100.00")),
        (date(2025, 2, 1), Decimal("100.00")),
        (date(2025, 3, 1), Decimal("100.00")),
        (date(2025, 4, 1), Decimal("150.00")),
        (date(2025, 5, 1), Decimal("150.00")),
    ]


def test_payments_settle_the_oldest_period_first():
    plan = support.schedule([order(starts_on=date(2025, 1, 1))], [payment("150.00")], on=date(2025, 3, 1))
    assert [i.paid for i in plan.instalments] == [Decimal("100.00"), Decimal("50.00"), Decimal("0.00")]
    assert plan.balances[0].arrears == Decimal("150.00")


def test_nothing_due_before_the_start():
    plan = support.schedule([order(starts_on=date(2025, 6, 1))], [], on=date(2025, 5, 1))
    assert plan.instalments == [] and plan.next_due.due_on == date(2025, 6, 1)


amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=2)
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31))


@settings(max_examples=200, deadline=None)
@given(
    amount=amounts,
    frequency=st.sampled_from([f.value for f in Frequency]),
    starts_on=days,
    length=st.one_of(st.none(), st.integers(min_value=0, max_value=4000)),
    paid=st.lists(amounts, max_size=30),
    on=days,
)
def test_arrears_and_credit_are_due_minus_received_never_negative(
    amount, frequency, starts_on, length, paid, on
):
    ends_on = None if length is None else starts_on + timedelta(days=length)
    orders = [order(str(amount), frequency, starts_on, ends_on)]
    payments = [payment(str(p)) for p in paid]
    plan = support.schedule(orders, payments, on=on)
    due = sum((i.amount for i in plan.instalments), Decimal(0))
    received = sum((p.amount for p in payments), Decimal(0))
    assert all(i.amount > 0 and i.due_on <= on and i.due_on >= starts_on for i in plan.instalments)
    assert all(ends_on is None or i.due_on <= ends_on for i in plan.instalments)
    assert all(Decimal(0) <= i.paid <= i.amount for i in plan.instalments)
    assert sum((i.paid for i in plan.instalments), Decimal(0)) == min(due, received)
    balance = {b.currency: b for b in plan.balances}.get("USD")
    if balance is None:
        assert due == received == 0
    else:
        assert (balance.due, balance.received) == (due, received)
        # never negative: money beyond what fell due is the payer's credit
        assert balance.arrears == max(due - received, Decimal(0))
        assert balance.credit == max(received - due, Decimal(0))
        assert balance.arrears - balance.credit == due - received
        assert balance.due >= 0


# --- through the service and the database -----------------------------------------------------


def test_first_payment_moves_the_claim_on_and_a_token_books_once(advocate):
    claim = claim_at(advocate, S.SUPPORT_ORDERED)
    first = pay(advocate, claim, "20.00", token="abc")
    again = pay(advocate, claim, "20.00", token="abc")
    assert first is again and len(claim.payments) == 1
    assert claim.current_step is S.PAYING
    plan = support.schedule(claim.orders, claim.payments)
    assert plan.balances[0].received == Decimal("20.00")
    assert plan.balances[0].arrears == plan.balances[0].due - Decimal("20.00")


def test_payment_rules(advocate):
    early = claim_at(advocate, S.PATERNITY_ESTABLISHED)
    with pytest.raises(IllegalMove, match="order is set"):
        pay(advocate, early)
    claim = claim_at(advocate, S.SUPPORT_ORDERED)
    with pytest.raises(DomainError, match="order's currency"):
        pay(advocate, claim, currency_code="EUR")
    with pytest.raises(DomainError, match="ISO 4217"):
        pay(advocate, claim, currency_code="XXZ")
    with pytest.raises(DomainError, match="more than zero"):
        pay(advocate, claim, "-5")
    with pytest.raises(DomainError, match="USD amounts have at most 2 decimal places"):
        pay(advocate, claim, "1.005")
    with pytest.raises(DomainError, match="before the order"):
        pay(advocate, claim, received_on=date.today() - timedelta(days=365))
    assert claim.current_step is S.SUPPORT_ORDERED


def test_support_order_terms_are_checked(advocate):
    claim = claim_at(advocate, S.PATERNITY_ESTABLISHED)
    with pytest.raises(DomainError, match="end before it starts"):
        order_support(
            advocate,
            claim,
            amount=Decimal("10"),
            currency="USD",
            starts_on=date.today(),
            ends_on=date.today() - timedelta(days=1),
        )
    with pytest.raises(DomainError, match="Give an amount"):
        order_support(advocate, claim, currency="USD")
    with pytest.raises(DomainError, match="decimal number"):
        order_support(advocate, claim, amount=1.5, currency="USD")
    assert claim.current_step is S.PATERNITY_ESTABLISHED and not claim.orders


# The instalment rule is written three times in vat/claims/support.py: listed (`instalments`, the
# claim page), counted (`instalments_due` and `amounts_due`, the dashboard) and counted in SQL
# (`instalments_due_sql`, the reports). They must agree.


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def late_in_month(year: int, month: int, day: int) -> date:
    """The 28th to the 31st, or the month's last day if it has fewer."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


schedule_days = st.one_of(
    st.builds(month_end, st.integers(2000, 2030), st.integers(1, 12)),
    st.sampled_from([date(year, 2, 29) for year in range(2000, 2031, 4)]),
    st.builds(late_in_month, st.integers(2000, 2030), st.integers(1, 12), st.integers(28, 31)),
    days,
)


@st.composite
def support_orders(draw):
    starts_on = draw(schedule_days)
    ends_on = draw(
        st.one_of(
            st.none(),
            st.integers(min_value=0, max_value=4000).map(lambda n: starts_on + timedelta(days=n)),
            st.builds(month_end, st.integers(starts_on.year, 2031), st.integers(1, 12)).filter(
                lambda end: end >= starts_on
            ),
        )
    )
    return SupportOrder(
        ordered_on=starts_on - timedelta(days=draw(st.integers(min_value=0, max_value=60))),
        amount=draw(amounts),
        currency=draw(st.sampled_from(["USD", "EUR"])),
        frequency=draw(st.sampled_from([f.value for f in Frequency])),
        starts_on=starts_on,
        ends_on=ends_on,
    )


def counted_in_sql(orders: list[SupportOrder], on: date) -> list[int]:
    """`instalments_due_sql` for each order alone, in one statement over literal columns."""
    last_days = [on if o.ends_on is None else min(on, o.ends_on) for o in orders]
    return list(
        db.session.execute(
            select(
                *[
                    support.instalments_due_sql(
                        literal(o.starts_on, Date), literal(last_day, Date), literal(o.frequency, String)
                    )
                    for o, last_day in zip(orders, last_days, strict=True)
                ]
            )
        ).one()
    )


# The database is only read (literals), so one database serves every generated example.
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(orders=st.lists(support_orders(), min_size=1, max_size=4), on=schedule_days)
def test_listing_counting_and_counting_in_sql_agree(ctx, orders, on):
    in_sql = counted_in_sql(orders, on)
    for alone, sql_count in zip(orders, in_sql, strict=True):
        listed, _ = support.instalments([alone], on)
        last_day = on if alone.ends_on is None else min(on, alone.ends_on)
        counted = support.instalments_due(alone.starts_on, Frequency(alone.frequency), last_day)
        assert counted == sql_count == len(listed)
    listed, _ = support.instalments(orders, on)
    summed: dict[str, Decimal] = {}
    for instalment in listed:
        summed[instalment.currency] = summed.get(instalment.currency, Decimal("0.00")) + instalment.amount
    assert support.amounts_due(orders, on) == summed


def test_amounts_due_end_an_order_where_the_next_begins():
    first = order("30.00", "monthly", date(2020, 1, 31))
    ended = order("5.00", "monthly", date(2020, 1, 1), ends_on=date(2020, 3, 1), currency="EUR")
    second = order("40.00", "quarterly", date(2020, 6, 1))
    orders = [second, first]
    listed, _ = support.instalments(orders, date(2021, 1, 1))
    assert support.amounts_due(orders, date(2021, 1, 1)) == {"USD": sum(i.amount for i in listed)}
    assert support.amounts_due(orders, date(2021, 1, 1)) == {
        "USD": Decimal("30.00") * 5 + Decimal("40.00") * 3
    }  # 31 Jan..31 May; 1 Jun, 1 Sep, 1 Dec
    assert support.amounts_due([ended], date(2021, 1, 1)) == {"EUR": Decimal("15.00")}
