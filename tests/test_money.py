"""The one money model (vat.money): every amount is read in its currency's ISO 4217 exponent."""

from __future__ import annotations

from decimal import Decimal

import pytest

from vat import money
from vat.inputs import InvalidField


def test_exponents_follow_iso_4217():
    assert [money.exponent(c) for c in ("USD", "XAF", "JPY", "KWD", "IQD", "CLF")] == [2, 0, 0, 3, 3, 4]


def test_minor_units_follow_the_currency_both_ways():
    assert money.to_minor(Decimal("12.345"), "KWD") == 12345
    assert money.to_minor(Decimal("1200"), "JPY") == 1200
    assert money.to_minor(Decimal("85.50"), "USD") == 8550
    assert money.from_minor(12345, "KWD") == Decimal("12.345")
    assert money.from_minor(1200, "JPY") == Decimal("1200")
    with pytest.raises(TypeError):
        money.to_minor(12.5, "USD")  # type: ignore[arg-type]


def test_an_amount_is_refused_with_more_decimals_than_its_currency_has():
    assert money.amount("amount", "12.345", "KWD") == Decimal("12.345")
    assert money.amount("amount", "1,200", "JPY") == Decimal("1200")
    with pytest.raises(InvalidField, match=r"^KWD amounts have at most 3 decimal places\.$") as refused:
        money.amount("amount", "12.3456", "KWD")
    assert refused.value.field == "amount"
    with pytest.raises(InvalidField, match="JPY amounts have at most 0 decimal places"):
        money.amount("amount", "1200.5", "JPY")
    for value, message in [
        ("", "Give an amount"),
        (1.5, "decimal number"),
        ("x", "as a number"),
        ("0", "more than zero"),
    ]:
        with pytest.raises(InvalidField, match=message):
            money.amount("amount", value, "USD")


def test_the_ledgers_currencies_carry_the_iso_4217_exponents(app):
    """The ledger's currency table (seeded by its migration) and vat.money agree on every exponent."""
    from sqlalchemy import select

    from ledger.models import Currency
    from vat.db import db

    with app.app_context():
        rows = db.session.execute(select(Currency.code, Currency.exponent)).all()
        assert rows and {code: places for code, places in rows} == {
            code: money.exponent(code) for code, _ in rows
        }
