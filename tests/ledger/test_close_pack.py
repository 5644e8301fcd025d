"""The close pack holds only its period and agrees with its own totals; months close in order;
a closed month refuses anything new dated in it."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from ledger.models import Period
from ledger.services import months
from vat.auth.models import Role
from vat.db import db
from vat.errors import Conflict, DomainError
from vat.inputs import InvalidField


def pack_of(period) -> dict:
    return json.loads(period.close_pack)


def currency_sums(rows: list[dict], column: str) -> dict[str, D]:
    sums: dict[str, D] = {}
    for row in rows:
        sums[row["currency"]] = sums.get(row["currency"], D(0)) + D(row[column])
    return sums


def test_the_pack_holds_only_the_rows_dated_in_its_month(fund):
    donor = fund.donor()
    fund.rate("EUR", date(2019, 1, 1), "0.8")
    fund.rate("EUR", date(2019, 3, 1), "0.9")
    fund.contribute("1000", on=date(2019, 1, 10))
    january = fund.withhold("0399/15", "ZAF", "400", date(2019, 1, 12))
    fund.transfer(january, "150", date(2019, 1, 20))
    fund.pledge(donor, "700", date(2019, 1, 25), currency="EUR")
    # Recorded before January is closed, but dated in March: they belong to March's pack.
    fund.withhold("0412/17", "ZAF", "900", date(2019, 3, 5))
    fund.transfer(january, "50", date(2019, 3, 6))
    fund.pledge(donor, "5000", date(2019, 3, 7))

    pack = pack_of(months.close_period(actor=fund.maker, month=date(2019, 1, 1)))

    assert [row["date"][:7] for row in pack["entries"]] == ["2019-01"] * 4
    assert [(w["allegation_ref"], w["withheld"]) for w in pack["withholdings"]["decided"]] == [
        ("0399/15", "400.00")
    ]
    assert [t["transferred"] for t in pack["withholdings"]["transferred"]] == ["150.00"]
    assert pack["withholdings"]["totals"] == {"USD": {"withheld": "400.00", "transferred": "150.00"}}
    assert pack["contributions"]["totals"] == {
        "EUR": {"pledged": "700.00", "received": "0.00"},
        "USD": {"pledged": "0.00", "received": "1000.00"},
    }
    assert [r["rate"] for r in pack["rates"]] == ["0.8"]
    balances = {r["account"]: (r["debit"], r["credit"]) for r in pack["trial_balance"]["rows"]}
    assert balances["1000"] == ("1150.00", "0.00")  # cash at January's end: nothing from March


def test_the_packs_totals_are_the_sums_of_its_rows(fund):
    donor = fund.donor()
    fund.rate("EUR", date(2019, 1, 1), "0.8")
    fund.contribute("1000", on=date(2019, 1, 10))
    withholding = fund.withhold("0399/15", "ZAF", "400", date(2019, 1, 12))
    fund.transfer(withholding, "150", date(2019, 1, 20))
    pledge = fund.pledge(donor, "700", date(2019, 1, 25), currency="EUR")
    fund.receive(donor, "300", date(2019, 1, 28), currency="EUR", pledge=pledge)
    fund.pledge(donor, "80", date(2019, 1, 29))

    pack = pack_of(months.close_period(actor=fund.maker, month=date(2019, 1, 1)))

    debits = sum(D(e["debit"]) for e in pack["entries"])
    assert pack["entries_total"] == {"count": len(pack["entries"]), "debit": str(debits)}
    assert D(pack["movements_total"]["debit"]) == sum(D(m["debit"]) for m in pack["movements"]) == debits
    assert D(pack["movements_total"]["credit"]) == sum(D(m["credit"]) for m in pack["movements"]) == debits
    rows = pack["trial_balance"]["rows"]
    total = pack["trial_balance"]["total"]
    assert D(total["debit"]) == sum(D(r["debit"]) for r in rows) == D(total["credit"])
    assert D(total["credit"]) == sum(D(r["credit"]) for r in rows)
    withheld = pack["withholdings"]
    for currency, totals in withheld["totals"].items():
        assert D(totals["withheld"]) == currency_sums(withheld["decided"], "withheld").get(currency, 0)
        assert D(totals["transferred"]) == currency_sums(withheld["transferred"], "transferred").get(
            currency, 0
        )
    pledges = pack["contributions"]
    assert set(pledges["totals"]) == {"EUR", "USD"}
    for currency, totals in pledges["totals"].items():
        assert D(totals["pledged"]) == currency_sums(pledges["pledged"], "pledged").get(currency, 0)
        assert D(totals["received"]) == currency_sums(pledges["received"], "received").get(currency, 0)
    # A month with nothing of a kind shows empty sections, not another month's rows.
    fund.contribute("5", on=date(2019, 2, 3))
    february = pack_of(months.close_period(actor=fund.maker, month=date(2019, 2, 1)))
    assert february["withholdings"] == {"decided": [], "transferred": [], "totals": {}}
    assert february["contributions"]["pledged"] == []
    assert february["entries_total"] == {"count": 1, "debit": "5.00"}


def test_a_closed_month_refuses_rows_dated_in_it_so_its_pack_stays_true(fund):
    fund.rate("EUR", date(2019, 2, 1), "0.8")
    fund.contribute("1000", on=date(2019, 1, 10))
    period = months.close_period(actor=fund.maker, month=date(2019, 1, 1))
    sealed = period.close_pack
    with pytest.raises(DomainError, match="January 2019 is closed"):
        fund.withhold("0399/15", "ZAF", "400", date(2019, 1, 12))
    with pytest.raises(DomainError, match="January 2019 is closed"):
        fund.pledge(fund.donor(), "700", date(2019, 1, 25))
    with pytest.raises(InvalidField, match="2019-01 is closed") as refused:  # shown on the month
        fund.rate("EUR", date(2019, 1, 1), "0.8")
    assert refused.value.field == "month"
    # Recorded later, dated later: in the open month, and in its pack, not January's.
    fund.withhold("0399/15", "ZAF", "400", date(2019, 2, 12))
    assert period.close_pack == sealed
    february = pack_of(months.close_period(actor=fund.maker, month=date(2019, 2, 1)))
    assert february["withholdings"]["totals"] == {"USD": {"withheld": "400.00", "transferred": "0.00"}}


def test_months_close_in_order_of_those_with_entries(fund):
    fund.contribute("100", on=date(2019, 1, 10))
    fund.contribute("100", on=date(2019, 2, 10))
    fund.contribute("100", on=date(2019, 4, 10))
    with pytest.raises(Conflict, match="Close 2019-01 first"):
        months.close_period(actor=fund.maker, month=date(2019, 2, 1))
    months.close_period(actor=fund.maker, month=date(2019, 1, 1))
    with pytest.raises(Conflict, match="Close 2019-02 first"):
        months.close_period(actor=fund.maker, month=date(2019, 4, 1))
    months.close_period(actor=fund.maker, month=date(2019, 2, 1))
    # March has no entries: April may close without it.
    assert months.close_period(actor=fund.maker, month=date(2019, 4, 1)).month == date(2019, 4, 1)


def test_closing_out_of_order_is_refused_in_the_readers_language(fund, client, login):
    fund.contribute("100", on=date(2019, 1, 10))
    fund.contribute("100", on=date(2019, 2, 10))
    db.session.commit()
    login(Role.FUND_MANAGER, "")
    response = client.post("/ledger/periods", data={"month": "2019-02-01"}, headers={"Accept-Language": "fr"})
    assert response.status_code == 422
    assert "Clôturez d&#39;abord 2019-01" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Period.id))) == 0


@pytest.mark.parametrize(
    ("language", "cash", "rate"),
    [("en", "1,150.00", "1,234.56789"), ("fr", "1\u202f150,00", "1\u202f234,56789")],
)
def test_the_pack_on_screen_shows_amounts_the_readers_way(fund, client, login, language, cash, rate):
    """Issue 19, item 3: the pack's page shows its amounts and rates through the money filter, not
    the JSON's decimal strings (1150.00); a rate keeps every decimal it has (none rounded off)."""
    fund.rate("XAF", date(2019, 1, 1), "1234.56789")
    fund.contribute("1000", on=date(2019, 1, 10))
    january = fund.withhold("0399/15", "ZAF", "400", date(2019, 1, 12))
    fund.transfer(january, "150", date(2019, 1, 20))
    period = months.close_period(actor=fund.maker, month=date(2019, 1, 1))
    db.session.commit()
    login(Role.FUND_MANAGER, "")
    page = client.get(f"/ledger/periods/{period.id}", headers={"Accept-Language": language})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'<td class="num">{cash}</td>' in text  # cash at bank, on the trial balance
    assert "1150.00" not in text and "1000.00" not in text
    assert f'<td>XAF</td><td class="num">{rate}</td>' in text and "1234.56789" not in text
