"""Money with sanity (issue 19, item 10): an amount far beyond the usual for its kind in its
currency, or above its kind's ceiling, is booked only once confirmed; the message says what is
unusual. One mechanism (vat.plausibility) on every ledger money form."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from flask import Flask

from ledger.models import Pledge
from ledger.usual_amounts import (
    DIRECT_SUPPORT,
    PLEDGES,
    PROJECTS,
    RECEIPTS,
    TRANCHES,
    TRANSFERS,
    WITHHOLDINGS,
)
from tests.conftest import row_count
from tests.ledger.conftest import Fund
from tests.ledger.pages import book, minted_key, seed_cash_and_project
from vat.auth.models import Role
from vat.db import db

PLEDGE_FORM = "/ledger/donors/1/pledge"


def pledges(fund: Fund, *amounts: str, currency: str = "USD") -> None:
    donor = fund.donor()
    for amount in amounts:
        fund.pledge(donor, amount, date(2019, 1, 5), currency=currency)
    db.session.commit()


def pledge_form(client, amount: str, currency: str = "USD", **more: str):  # type: ignore[no-untyped-def]
    return book(client, PLEDGE_FORM, amount=amount, currency=currency, pledged_on="2019-02-01", **more)


def usual_pledges(client) -> None:  # type: ignore[no-untyped-def]
    """A donor and five pledges of US$1,000 through the forms: the usual pledge."""
    client.post("/ledger/donors/new", data={"kind": "member_state", "country_code": "SWE"})
    for _ in range(5):
        assert pledge_form(client, "1000").status_code == 302


def pledge_count(app: Flask) -> int:
    return row_count(app, Pledge)


def test_the_median_of_a_kind_is_per_currency_and_needs_enough_records(ctx: Flask, fund: Fund) -> None:
    pledges(fund, "100", "200", "300", "400")
    assert PLEDGES.median_minor("USD") is None  # four recorded: too few to say what is usual
    pledges(fund, "900")
    assert PLEDGES.median_minor("USD") == 30000  # cents
    assert PLEDGES.refusal(Decimal("3000"), "USD") is None  # exactly 10 times: usual enough
    refused = PLEDGES.refusal(Decimal("3000.01"), "USD")
    assert refused is not None and refused.field == "amount"
    assert "more than 10 times the usual pledges in USD" in str(refused) and "$300.00" in str(refused)
    assert PLEDGES.refusal(Decimal("1000000"), "EUR") is None  # no euro pledge recorded yet
    fund.rate("JPY", date(2019, 1, 1), "110")
    pledges(fund, *["1000"] * 5, currency="JPY")
    assert PLEDGES.median_minor("JPY") == 1000  # no minor unit: yen
    for usual in (RECEIPTS, WITHHOLDINGS, TRANSFERS, PROJECTS, TRANCHES, DIRECT_SUPPORT):
        assert usual.median_minor("USD") is None  # each kind reads its own rows


def test_a_ceiling_per_kind_and_currency(ctx: Flask) -> None:
    ctx.config["VAT_AMOUNT_CEILINGS"] = {"pledge": {"USD": "5000000"}}
    assert PLEDGES.refusal(Decimal("5000000"), "USD") is None
    refused = PLEDGES.refusal(Decimal("5000000.01"), "USD")
    assert refused is not None and "above the ceiling set for pledges in USD ($5,000,000.00)" in str(refused)
    assert PLEDGES.refusal(Decimal("9000000"), "EUR") is None
    assert RECEIPTS.refusal(Decimal("9000000"), "USD") is None


def test_an_unusual_pledge_waits_for_its_confirmation(app: Flask, client, manager) -> None:  # type: ignore[no-untyped-def]
    usual_pledges(client)
    usual = pledge_form(client, "9000")
    assert usual.status_code == 302 and pledge_count(app) == 6
    form = client.get(PLEDGE_FORM).get_data(as_text=True)
    assert 'name="amount_confirmed"' not in form  # not asked until the amount is unusual
    refused = pledge_form(client, "250000")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and pledge_count(app) == 6
    assert "more than 10 times the usual pledges in USD" in page and 'name="amount_confirmed"' in page
    confirmed = pledge_form(client, "250000", amount_confirmed="y")
    assert confirmed.status_code == 302 and pledge_count(app) == 7


def test_the_message_is_in_the_readers_language(client, manager) -> None:  # type: ignore[no-untyped-def]
    usual_pledges(client)
    key = minted_key(client.get(PLEDGE_FORM).get_data(as_text=True))
    data = {"key": key, "amount": "250000", "currency": "USD", "pledged_on": "2019-02-01"}
    page = client.post(PLEDGE_FORM, data=data, headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "plus de 10 fois" in page and "Le montant est juste" in page


def test_an_unusual_tranche_waits_too(client, manager) -> None:  # type: ignore[no-untyped-def]
    seed_cash_and_project(client, "150000")
    path = "/ledger/projects/1/disburse"
    for n in range(5):
        assert book(client, path, amount="1000", paid_on="2019-03-01", reference=f"T-{n}").status_code == 302
    data = {"amount": "20000", "paid_on": "2019-03-01", "reference": "T-9"}
    refused = book(client, path, **data)
    assert refused.status_code == 422 and "the usual tranches in USD" in refused.get_data(as_text=True)
    assert book(client, path, **data, amount_confirmed="y").status_code == 302


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.ADVOCATE])
def test_other_roles_are_refused_and_csrf_is_checked(  # type: ignore[no-untyped-def]
    app: Flask, client, login, csrf_client, role: Role
) -> None:
    login(role, "CAF")
    assert client.post(PLEDGE_FORM, data={"amount": "1", "amount_confirmed": "y"}).status_code == 403
    other = csrf_client(Role.FUND_MANAGER, "")
    other.post("/ledger/donors/new", data={"kind": "member_state", "country_code": "SWE"})
    assert (
        other.post(PLEDGE_FORM, data={"amount": "1", "currency": "USD", "amount_confirmed": "y"}).status_code
        == 400
    )
    assert pledge_count(app) == 0
