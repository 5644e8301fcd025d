"""KWD 12.345 and JPY 1,200 in child support: orders and payments keep their currency's decimals;
KWD 12.3456 is refused."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from tests.claims.conftest import S, claim_at, order_support, pay
from vat.claims import support
from vat.db import db
from vat.errors import DomainError


def order_in(advocate, currency: str, amount: str):  # type: ignore[no-untyped-def]
    claim = claim_at(advocate, S.PATERNITY_ESTABLISHED)
    order_support(advocate, claim, on=claim.step_on, amount=amount, currency=currency, frequency="monthly")
    return claim


def test_support_orders_and_payments_keep_their_currency_decimals(advocate):  # type: ignore[no-untyped-def]
    kwd = order_in(advocate, "KWD", "12.345")
    jpy = order_in(advocate, "JPY", "1,200")
    paid_kwd = pay(advocate, kwd, "12.345", currency_code="KWD")
    paid_jpy = pay(advocate, jpy, "1200", currency_code="JPY")
    with pytest.raises(DomainError, match="KWD amounts have at most 3 decimal places"):
        pay(advocate, kwd, "12.3456", currency_code="KWD")
    db.session.commit()
    db.session.expire_all()
    assert (kwd.orders[0].amount, kwd.orders[0].amount_minor) == (Decimal("12.345"), 12345)
    assert (jpy.orders[0].amount, jpy.orders[0].amount_minor) == (Decimal("1200"), 1200)
    assert (paid_kwd.amount, paid_jpy.amount) == (Decimal("12.345"), Decimal("1200"))
    plan = support.schedule(kwd.orders, kwd.payments, on=kwd.orders[0].starts_on + timedelta(days=1))
    assert [(b.currency, b.due, b.received) for b in plan.balances] == [
        ("KWD", Decimal("12.345"), Decimal("12.345"))
    ]


def test_a_kwd_order_with_a_fourth_decimal_is_refused(advocate):  # type: ignore[no-untyped-def]
    claim = claim_at(advocate, S.PATERNITY_ESTABLISHED)
    with pytest.raises(DomainError, match="KWD amounts have at most 3 decimal places"):
        order_support(
            advocate, claim, on=claim.step_on, amount="12.3456", currency="KWD", frequency="monthly"
        )
    assert claim.current_step is S.PATERNITY_ESTABLISHED
