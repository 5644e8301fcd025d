"""The de-identified rows cannot be joined with the ledger (issue 15, item 10): money as bands,
dates as shifted months, the case code as a keyed pseudonym."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from vat.reports.deidentify import deidentify, money_band, pseudonym
from vat.reports.support import support_header


@pytest.mark.parametrize(
    ("amount", "band"),
    [
        ("0", "0"),
        ("0.01", "under 100"),
        ("99.99", "under 100"),
        ("100", "100–499"),
        ("4999.99", "2,500–4,999"),
        ("9600", "5,000–9,999"),
        ("10000", "10,000 or more"),
        ("150000", "10,000 or more"),
    ],
)
def test_money_bands(amount, band):
    assert money_band(Decimal(amount)) == band


def test_a_row_keeps_no_exact_amount_date_or_case_code(app):
    with app.app_context():
        header = support_header()
        row: list[object] = [None] * len(header)
        row[header.index("case code")] = "CAR-2020-0001"
        row[header.index("mission")] = "MINUSCA"
        row[header.index("registered on")] = date(2020, 3, 17)
        row[header.index("last case update")] = date(2021, 6, 2)
        row[header.index("direct support (USD)")] = Decimal("1234.56")
        row[header.index("paid by projects (USD)")] = Decimal("0")
        row[header.index("other trust-fund services (USD)")] = Decimal("87.50")
        new_header, rows = deidentify(header, [row])
        (out,) = list(rows)
        cells = [str(cell) for cell in out]
        assert out[0] == pseudonym("CAR-2020-0001")
    exact = {"CAR-2020-0001", "MINUSCA", "1234.56", "87.50", "87.5", "2020-03-17", "2021-06-02"}
    assert not exact & set(cells)
    assert out[new_header.index("direct support (USD) band")] == "1,000–2,499"
    assert out[new_header.index("other trust-fund services (USD) band")] == "under 100"
    assert out[new_header.index("paid by projects (USD) band")] == "0"
    registered = out[new_header.index("registered (month, shifted)")]
    assert registered in {"2020-02", "2020-03", "2020-04"}
