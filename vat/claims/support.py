"""Child support: the orders a member state's court sets, the instalments they make due, the
payments received, and the arrears.

The instalment rule is written three times, side by side below: `instalments` lists each
instalment (the claim page's schedule); `instalments_due` counts them by arithmetic, so
`amounts_due` sums one claim's orders without listing (the claims list's rows); and
`instalments_due_sql` counts them in SQL (`support_totals`: the claims dashboard and the claims
report). tests/claims/test_schedule.py holds the property test that they agree.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    Integer,
    Select,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    type_coerce,
)

from vat import money
from vat.allegations.clock import add_months
from vat.auth.actor import Actor
from vat.claims.history import IllegalMove, audit_claim, enter_step
from vat.claims.models import Claim, ClaimStep, Frequency, Payment, PaymentRoute, SupportOrder
from vat.db import db
from vat.errors import Conflict
from vat.inputs import InvalidField, choice, clean_text, each_field, past_date, today
from vat.plausibility import Usual

S = ClaimStep

# The amounts per period of the court orders made so far: an order far beyond them needs confirming.
ORDERS = Usual(
    "support_order",
    _l("support orders"),
    lambda c: select(SupportOrder.amount_minor).where(SupportOrder.currency == c),
)


# --- orders and schedules ---------------------------------------------------------------------


@dataclass
class Instalment:
    due_on: date
    amount: Decimal
    currency: str
    paid: Decimal = Decimal("0.00")

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.paid


def _not_below_zero(value: Decimal, currency_code: str) -> Decimal:
    """The value, or zero, in the currency's exponent ("0.00" USD, "0" XAF; never "-5.00")."""
    return max(value, Decimal(0)).quantize(Decimal(1).scaleb(-money.exponent(currency_code)))


@dataclass
class Balance:
    """One claim's child support in one currency. Arrears are never negative: money received
    beyond what fell due is the payer's credit (it settles instalments as they fall due)."""

    currency: str
    due: Decimal = Decimal("0.00")
    received: Decimal = Decimal("0.00")

    @property
    def arrears(self) -> Decimal:
        return _not_below_zero(self.due - self.received, self.currency)

    @property
    def credit(self) -> Decimal:
        return _not_below_zero(self.received - self.due, self.currency)


@dataclass
class Totals:
    """Balances of many claims in one currency, added claim by claim: one claim's credit never
    pays another claim's arrears."""

    currency: str
    due: Decimal = Decimal("0.00")
    received: Decimal = Decimal("0.00")
    arrears: Decimal = Decimal("0.00")
    credit: Decimal = Decimal("0.00")
    claims: int = 0  # with an order in this currency
    claims_in_arrears: int = 0


@dataclass
class Schedule:
    instalments: list[Instalment] = field(default_factory=list)
    balances: list[Balance] = field(default_factory=list)
    next_due: Instalment | None = None


class OrderTerms(Protocol):
    """A support order's terms: a `SupportOrder`, or a row of its columns read in SQL."""

    @property
    def ordered_on(self) -> date: ...
    @property
    def starts_on(self) -> date: ...
    @property
    def ends_on(self) -> date | None: ...
    @property
    def frequency(self) -> str: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def currency(self) -> str: ...


Terms = TypeVar("Terms", bound=OrderTerms)


def new_order(*, actor: Actor, claim: Claim, on: date, details: dict[str, Any]) -> SupportOrder:
    """A child-support order made on `on` with the terms in `details`, added to the claim."""
    starts_on = details.get("starts_on") or on
    checked = each_field(
        {
            "frequency": lambda: choice("frequency", details.get("frequency"), Frequency, default="monthly"),
            "starts_on": lambda: _order_starts(claim, on, starts_on),
            "ends_on": lambda: _order_ends(starts_on, details.get("ends_on")),
            "currency": lambda: money.currency("currency", details.get("currency")),
            "amount": lambda: money.amount(
                "amount", details.get("amount"), money.known(details.get("currency"))
            ),
        }
    )
    order = SupportOrder(
        ordered_on=on,
        currency=checked["currency"],
        amount=checked["amount"],
        frequency=checked["frequency"],
        starts_on=starts_on,
        ends_on=checked["ends_on"],
        recorded_by_id=actor.id,
    )
    claim.orders.append(order)
    return order


def _order_starts(claim: Claim, on: date, starts_on: date) -> date:
    if starts_on.year < 1900 or starts_on > on + timedelta(days=3660):
        raise InvalidField("starts_on", _l("Give the date the order starts."))
    latest = max((o.starts_on for o in claim.orders), default=None)
    if latest is not None and starts_on <= latest:
        raise InvalidField(
            "starts_on",
            _l("A new order must start after the one in force (from %(date)s).", date=latest.isoformat()),
        )
    return starts_on


def _order_ends(starts_on: date, ends_on: date | None) -> date | None:
    if ends_on is not None and ends_on < starts_on:
        raise InvalidField("ends_on", _l("The order cannot end before it starts."))
    return ends_on


def _order_periods(orders: Sequence[Terms]) -> list[tuple[Terms, date | None]]:
    """Each order with the last day it runs (None: open-ended): a later order ends the one
    before it. `orders` are support orders or rows with the same columns."""
    ordered = sorted(orders, key=lambda o: (o.starts_on, o.ordered_on))
    periods: list[tuple[Terms, date | None]] = []
    for position, order in enumerate(ordered):
        end = order.ends_on
        if position + 1 < len(ordered):
            cut = ordered[position + 1].starts_on - timedelta(days=1)
            end = cut if end is None else min(end, cut)
        periods.append((order, end))
    return periods


# --- the instalment rule, twice: listed and counted --------------------------------------------


def instalments(orders: Sequence[SupportOrder], until: date) -> tuple[list[Instalment], Instalment | None]:
    """The payments due under the orders up to `until` (each on the first day of its period),
    and the next one after it. A later order ends the one before it."""
    due: list[Instalment] = []
    upcoming: Instalment | None = None
    for order, end in _order_periods(orders):
        frequency = Frequency(order.frequency)
        index = 0
        while True:
            if frequency is Frequency.ONCE:
                due_on = order.starts_on if index == 0 else None
            else:
                due_on = add_months(order.starts_on, index * frequency.months)
            if due_on is None or (end is not None and due_on > end):
                break
            if due_on > until:
                if upcoming is None or due_on < upcoming.due_on:
                    upcoming = Instalment(due_on, order.amount, order.currency)
                break
            due.append(Instalment(due_on, order.amount, order.currency))
            index += 1
    return due, upcoming


def instalments_due(starts_on: date, frequency: Frequency, last_day: date) -> int:
    """How many instalments `instalments` lists from `starts_on` up to `last_day`, counted
    without listing them: one every N months on the start's day of the month, clamped to the
    end of shorter months (so a month's last day reaches any later day of the month)."""
    if starts_on > last_day:
        return 0
    if frequency is Frequency.ONCE:
        return 1
    months = (last_day.year - starts_on.year) * 12 + last_day.month - starts_on.month
    month_ends = last_day.day == calendar.monthrange(last_day.year, last_day.month)[1]
    if starts_on.day > last_day.day and not month_ends:
        months -= 1
    return months // frequency.months + 1 if months >= 0 else 0


def instalments_due_sql(
    starts_on: ColumnElement[Any], last_day: ColumnElement[Any], frequency: ColumnElement[Any]
) -> ColumnElement[int]:
    """`instalments_due` as an SQL expression over an order's columns (the reports sum every
    order in SQL)."""
    months = (_date_part("year", last_day) * 12 + _date_part("month", last_day)) - (
        _date_part("year", starts_on) * 12 + _date_part("month", starts_on)
    )
    month_ends = _date_part("day", _next_day(last_day)) == 1
    reaches_day = or_(_date_part("day", starts_on) <= _date_part("day", last_day), month_ends)
    last_index = months - case((reaches_day, 0), else_=1)
    step = case(*[(frequency == f.value, f.months) for f in Frequency if f.months], else_=1)
    return case(
        (starts_on > last_day, 0),
        (frequency == Frequency.ONCE.value, 1),
        (last_index < 0, 0),
        else_=last_index // step + 1,
    )


def _postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _date_part(part: str, day: ColumnElement[Any]) -> ColumnElement[int]:
    if _postgresql():
        return cast(func.extract(part, day), Integer)
    return cast(func.strftime({"year": "%Y", "month": "%m", "day": "%d"}[part], day), Integer)


def _next_day(day: ColumnElement[Any]) -> ColumnElement[Any]:
    return cast(day + 1, Date) if _postgresql() else func.date(day, "+1 day")


def _previous_day(day: ColumnElement[Any]) -> ColumnElement[Any]:
    return cast(day - 1, Date) if _postgresql() else func.date(day, "-1 day")


def _least(*values: ColumnElement[Any]) -> ColumnElement[Any]:
    """The smallest of the values (SQLite's scalar min, PostgreSQL's least)."""
    return func.least(*values) if _postgresql() else func.min(*values)


def amounts_due(orders: Sequence[OrderTerms], until: date) -> dict[str, Decimal]:
    """What fell due under one claim's orders up to `until`, per currency (the sum of
    `instalments`' amounts); currencies with nothing due yet are left out."""
    due: dict[str, Decimal] = {}
    for order, end in _order_periods(orders):
        last_day = until if end is None else min(until, end)
        count = instalments_due(order.starts_on, Frequency(order.frequency), last_day)
        if count:
            due[order.currency] = due.get(order.currency, Decimal("0.00")) + order.amount * count
    return due


# --- payments and arrears ---------------------------------------------------------------------


def support_balances(orders: Sequence[OrderTerms], payments: Sequence[Payment], on: date) -> list[Balance]:
    """One claim's balances per currency as `schedule` finds them, without listing the
    instalments (a list row shows only the arrears)."""
    return _balances(amounts_due(orders, on), payments)


def _balances(due: dict[str, Decimal], payments: Sequence[Payment]) -> list[Balance]:
    """Per currency, what was `due` and what the payments (reversals subtracted) brought in."""
    found = {code: Balance(code, due=amount) for code, amount in due.items()}
    for payment in payments:
        found.setdefault(payment.currency, Balance(payment.currency)).received += payment.signed_amount
    return sorted(found.values(), key=lambda b: b.currency)


def signed_minor() -> ColumnElement[int]:
    """A payment's minor units as it counts in what was received: a reversal subtracts."""
    return case((Payment.reverses_id.is_(None), Payment.amount_minor), else_=-Payment.amount_minor)


def support_totals(claims: Callable[..., Select[Any]], on: date) -> list[Totals]:
    """Child support due up to `on`, received, in arrears and paid ahead, per currency, over the
    claims `claims(*columns)` selects that have an order in that currency: one statement, the
    balances added claim by claim (one claim's credit never pays another's arrears) and the
    instalments counted by `instalments_due_sql`, each order ending where the next one starts."""
    next_start = func.lead(SupportOrder.starts_on).over(
        partition_by=SupportOrder.claim_id, order_by=(SupportOrder.starts_on, SupportOrder.ordered_on)
    )
    orders = select(
        SupportOrder.claim_id,
        SupportOrder.currency,
        type_coerce(SupportOrder.amount, BigInteger).label("amount"),
        SupportOrder.frequency,
        SupportOrder.starts_on,
        SupportOrder.ends_on,
        next_start.label("next_start"),
    ).subquery("orders")
    until = literal(on, Date)
    last_day = _least(
        until,
        func.coalesce(orders.c.ends_on, until),
        func.coalesce(_previous_day(orders.c.next_start), until),
    )
    instalments = instalments_due_sql(orders.c.starts_on, last_day, orders.c.frequency)
    due = (
        select(
            orders.c.claim_id,
            orders.c.currency,
            cast(func.sum(instalments * orders.c.amount), BigInteger).label("due"),
        )
        .group_by(orders.c.claim_id, orders.c.currency)
        .subquery("due")
    )
    received = (
        select(
            Payment.claim_id,
            Payment.currency,
            cast(func.sum(type_coerce(signed_minor(), BigInteger)), BigInteger).label("received"),
        )
        .group_by(Payment.claim_id, Payment.currency)
        .subquery("received")
    )
    balance = func.coalesce(due.c.due, 0) - func.coalesce(received.c.received, 0)
    rows = db.session.execute(
        claims(
            due.c.currency,
            func.sum(func.coalesce(due.c.due, 0)),
            func.sum(func.coalesce(received.c.received, 0)),
            func.sum(case((balance > 0, balance), else_=0)),
            func.sum(case((balance < 0, -balance), else_=0)),
            func.count(),
            func.sum(case((balance > 0, 1), else_=0)),
        )
        .join(due, due.c.claim_id == Claim.id)
        .outerjoin(received, and_(received.c.claim_id == Claim.id, received.c.currency == due.c.currency))
        .group_by(due.c.currency)
        .order_by(due.c.currency)
    ).all()
    return [
        Totals(
            code,
            due=money.from_minor(int(due_minor), code),
            received=money.from_minor(int(received_minor), code),
            arrears=money.from_minor(int(arrears_minor), code),
            credit=money.from_minor(int(credit_minor), code),
            claims=int(with_orders),
            claims_in_arrears=int(in_arrears),
        )
        for code, due_minor, received_minor, arrears_minor, credit_minor, with_orders, in_arrears in rows
    ]


def schedule(orders: Sequence[SupportOrder], payments: Sequence[Payment], on: date | None = None) -> Schedule:
    """What was due, what was received, and the arrears per currency; payments settle the oldest
    instalment first."""
    due, upcoming = instalments(orders, on or today())
    owed: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))  # as a Balance starts
    for item in due:
        owed[item.currency] += item.amount
    credit: dict[str, Decimal] = defaultdict(Decimal)
    for payment in payments:
        credit[payment.currency] += payment.signed_amount
    for item in due:
        item.paid = max(min(item.amount, credit[item.currency]), item.amount * 0)
        credit[item.currency] -= item.paid
    return Schedule(due, _balances(owed, payments), upcoming)


def _add(actor: Actor, claim: Claim, payment: Payment, action: str, **detail: Any) -> None:
    """Add a payment (or a reversal) to the claim and audit it, amount and currency included."""
    claim.payments.append(payment)
    db.session.flush()
    audit_claim(
        action,
        actor=actor,
        claim=claim,
        payment=payment.id,
        amount=payment.amount,
        currency=payment.currency,
        **detail,
    )


def record_payment(
    *,
    actor: Actor,
    claim: Claim,
    amount: Any,
    currency_code: str | None,
    received_on: date | None,
    route: str | None,
    reference: str | None = None,
    token: str | None = None,
    confirm_unusual: bool = False,
) -> Payment:
    """Record money received for the child. The same `token` twice books once. The first payment
    moves the claim to "Payments". An amount far beyond the order (`unusual_above`) is refused
    unless `confirm_unusual` says the person recording it checked it."""
    token = (token or "").strip()[:64] or None
    if token is not None:
        existing = db.session.scalar(select(Payment).where(Payment.token == token))
        if existing is not None:
            if existing.claim_id != claim.id:
                raise Conflict(_l("This form was already used for another claim; open it again."))
            return existing
    if claim.current_step not in (S.SUPPORT_ORDERED, S.PAYING):
        raise IllegalMove(_l("Payments are recorded once a child-support order is set (and before closing)."))
    checked = each_field(
        {
            "currency_code": lambda: _order_currency(claim, currency_code),
            "received_on": lambda: _received(claim, received_on),
            "route": lambda: choice("route", route, PaymentRoute, default="other"),
            "reference": lambda: clean_text("reference", reference, max_length=100),
        }
    )
    code, when = checked["currency_code"], checked["received_on"]
    value = money.amount("amount", amount, code)
    ceiling = unusual_above(claim, code, when)
    if value > ceiling and not confirm_unusual:
        raise InvalidField(
            "confirm_unusual",
            _l(
                "%(amount)s %(currency)s is far beyond the order (above %(ceiling)s %(currency)s): "
                "check the amount, and confirm it if it is right.",
                amount=value,
                currency=code,
                ceiling=ceiling,
            ),
        )
    payment = Payment(
        currency=code,
        amount=value,
        received_on=when,
        route=checked["route"],
        reference=checked["reference"],
        token=token,
        confirmed_unusual=value > ceiling,
        recorded_by_id=actor.id,
    )
    _add(actor, claim, payment, "claim.payment", confirmed_unusual=payment.confirmed_unusual)
    if claim.current_step is S.SUPPORT_ORDERED:
        enter_step(
            actor=actor, claim=claim, target=S.PAYING, on=max(when, claim.step_on), note=None, kind="step"
        )
    return payment


def _order_currency(claim: Claim, currency_code: str | None) -> str:
    code = money.currency("currency_code", currency_code)
    if code not in {o.currency for o in claim.orders}:
        currencies = ", ".join(sorted({o.currency for o in claim.orders}))
        raise InvalidField(
            "currency_code",
            _l("Record the payment in the order's currency (%(currencies)s).", currencies=currencies),
        )
    return code


def _received(claim: Claim, received_on: date | None) -> date:
    when = past_date("received_on", received_on, required=True) or today()
    if when < min(o.ordered_on for o in claim.orders):
        raise InvalidField("received_on", _l("A payment cannot be received before the order was made."))
    return when


def _reversal_reason(reason: str | None) -> str:
    why = clean_text("reason", reason, max_length=500)
    if why is None:
        raise InvalidField("reason", _l("Say why the payment is reversed."))
    return why


def _reversed_on(payment: Payment, on: date | None) -> date:
    when = past_date("on", on) or today()
    if when < payment.received_on:
        raise InvalidField("on", _l("A reversal cannot be dated before the payment."))
    return when


# An amount is "far beyond the order" above the larger of UNUSUAL_INSTALMENTS instalments of the
# order in force and what is owed that day plus one instalment: a payer clearing arrears, or paying
# a quarter ahead, is not stopped; 99,999,999,999 XAF against a 25,000 XAF monthly order is.
UNUSUAL_INSTALMENTS = 3


def unusual_above(claim: Claim, currency_code: str, on: date) -> Decimal:
    """The largest payment in `currency_code` received on `on` that needs no confirmation."""
    orders = [o for o in claim.orders if o.currency == currency_code]
    in_force = [o for o in orders if o.starts_on <= on] or orders
    instalment = max(in_force, key=lambda o: (o.starts_on, o.ordered_on)).amount
    owed = sum(
        (
            b.arrears
            for b in schedule(claim.orders, claim.payments, on).balances
            if b.currency == currency_code
        ),
        instalment * 0,
    )
    return max(instalment * UNUSUAL_INSTALMENTS, owed + instalment)


def reverse_payment(
    *, actor: Actor, claim: Claim, payment_id: int, reason: str | None, on: date | None = None
) -> Payment:
    """Take back a payment recorded by mistake: a reversal row with the same amount and the
    reason; the payment itself stays as it was. A payment is reversed once, a reversal never."""
    payment = next((p for p in claim.payments if p.id == payment_id), None)
    if payment is None:
        raise InvalidField("payment_id", _l("Choose one of this claim's payments."))
    if payment.reverses_id is not None:
        raise IllegalMove(_l("A reversal cannot be reversed: record the payment again."))
    if any(p.reverses_id == payment.id for p in claim.payments):
        raise IllegalMove(_l("This payment was already reversed."))
    checked = each_field(
        {
            "reason": lambda: _reversal_reason(reason),
            "on": lambda: _reversed_on(payment, on),
        }
    )
    why, when = checked["reason"], checked["on"]
    reversal = Payment(
        currency=payment.currency,
        amount=payment.amount,
        received_on=when,
        route=payment.route,
        reference=payment.reference,
        reverses_id=payment.id,
        reason=why,
        recorded_by_id=actor.id,
    )
    _add(actor, claim, reversal, "claim.payment_reversed", reverses=payment.id)
    return reversal
