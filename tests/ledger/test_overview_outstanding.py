"""The ledger overview's "withheld, not yet transferred" per currency, read from the receivable's
kept balances (ledger.reports.withheld.outstanding_by_currency), is the reconciliation's
outstanding total of each currency counted from the records: every currency a withholding stands
in, one fully transferred shown at nought, one whose withholdings were all reversed not at all."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from ledger.models import Entry
from ledger.reports import withheld
from ledger.reports.overview import fund_overview
from tests.ledger.conftest import Fund
from tests.ledger.test_reconciliation import TODAY, recon, reverse, transfer  # noqa: F401 - the fixture
from vat.db import db


def test_outstanding_per_currency_as_the_records_count_it(fund: Fund, recon: withheld.Reconciliation) -> None:  # noqa: F811
    fund.rate("GBP", date(2020, 1, 1), "1.25")
    fund.rate("CHF", date(2020, 1, 1), "1.1")
    paid = fund.withhold("J", "NPL", "300", date(2020, 1, 10), currency="GBP")
    transfer(fund, paid, "300", date(2020, 1, 20))
    undone = fund.withhold("K", "NPL", "400", date(2020, 1, 10), currency="CHF")
    reverse(fund, db.session.get(Entry, undone.entry_id))
    db.session.commit()
    records = withheld.reconciliation(TODAY).totals
    assert set(records) == {"EUR", "GBP", "USD"}
    expected = {currency: amounts["outstanding"] for currency, amounts in records.items()}
    assert expected == {"EUR": Decimal("8000.00"), "GBP": Decimal("0.00"), "USD": Decimal("103000.00")}
    assert withheld.outstanding_by_currency() == expected
    assert fund_overview(TODAY).withheld == expected
