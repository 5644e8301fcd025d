"""KWD 12.345 and JPY 1,200 in the ledger: receipts and direct-support payments keep their
currency's decimals; KWD 12.3456 is refused with the same message as on the victim side."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ledger.services import contributions, victim_support
from tests.ledger.conftest import Fund, key
from vat.inputs import InvalidField

ON = date(2019, 1, 10)


def receive(fund: Fund, amount: str, currency: str):  # type: ignore[no-untyped-def]
    return contributions.record_receipt(
        actor=fund.maker,
        key=key(),
        donor=fund.donor(),
        amount=Decimal(amount),
        currency=currency,
        received_on=ON,
        bank_reference="BANK-1",
    )


def pay(fund: Fund, amount: str, currency: str):  # type: ignore[no-untyped-def]
    return victim_support.pay_direct_support(
        actor=fund.maker,
        key=key(),
        case_code="CAR-2019-0001",
        amount=Decimal(amount),
        currency=currency,
        paid_on=ON,
        purpose="school fees",
        route="mission",
        basis="TFC decision 2019/01",
    )


def test_receipts_and_direct_support_keep_their_currency_decimals(fund: Fund) -> None:
    fund.rate("KWD", ON.replace(day=1), "0.30")
    fund.rate("JPY", ON.replace(day=1), "110")
    assert receive(fund, "12.345", "KWD").amount_minor == 12345
    assert receive(fund, "1200", "JPY").amount_minor == 1200
    fund.contribute("1000")
    assert pay(fund, "12.345", "KWD").amount_minor == 12345
    assert pay(fund, "1200", "JPY").amount_minor == 1200
    for book in (receive, pay):
        with pytest.raises(InvalidField, match=r"KWD amounts have at most 3 decimal places\."):
            book(fund, "12.3456", "KWD")
