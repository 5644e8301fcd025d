"""Every refusal of a ledger money form in one answer, each on its field, in plain words (issue
19, item 6): the services check every field (`vat.inputs.each_field`) before refusing, and a rule
between fields is shown on the field to change. Each post below breaks rules the form itself lets
through; before, the service refused the first alone, at the top of the page."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from ledger.models import (
    DirectSupport,
    ExchangeRate,
    MissionEnvelope,
    Pledge,
    Project,
    Receipt,
    Tranche,
    Withholding,
)
from tests.conftest import make_app, sign_in
from tests.ledger.pages import (
    approve_project,
    book,
    entry_count,
    pledge,
    receive,
    record_rate,
    seed_cash_and_project,
)
from tests.ledger.test_envelope_views import TERMS, open_envelope
from tests.vat.test_forms_on_the_users_side import errors_by_field
from vat.auth.models import Role
from vat.db import db


def count(app: Flask, model: Any) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(model.id))) or 0


def shown(response: Any) -> dict[str, str]:
    assert response.status_code == 422
    return errors_by_field(response.get_data(as_text=True))


def donor(client: Any) -> None:
    assert (
        client.post("/ledger/donors/new", data={"kind": "member_state", "country_code": "NOR"}).status_code
        == 302
    )


def test_a_pledge_shows_every_refusal_on_its_field(app: Flask, client: Any, manager: Any) -> None:
    donor(client)
    data = {"amount": "10.5", "currency": "JPY", "pledged_on": "2019-02-01", "reference": "L-1"}
    errors = shown(book(client, "/ledger/donors/1/pledge", **data))
    assert set(errors) == {"amount", "currency"}
    assert "JPY amounts have at most 0 decimal places" in errors["amount"]
    assert "No UN operational rate for JPY" in errors["currency"]
    assert count(app, Pledge) == 0


def test_a_receipt_shows_its_pledges_rules_on_the_fields_to_change(
    app: Flask, client: Any, manager: Any
) -> None:
    donor(client)
    assert pledge(client, "100", "2019-02-01").status_code == 302
    errors = shown(receive(client, "500", "2019-01-15", "B", pledge="1"))
    assert set(errors) == {"amount", "received_on"}
    assert "Only USD 100.00 of this pledge is outstanding" in errors["amount"]
    assert "cannot predate its pledge" in errors["received_on"]
    assert count(app, Receipt) == 0


def test_a_withholding_shows_every_refusal_on_its_field(app: Flask, client: Any, manager: Any) -> None:
    data = {"country_code": "ZAF", "currency": "JPY", "amount": "10.5", "decided_on": "2019-02-01"}
    errors = shown(book(client, "/ledger/withholdings/new", allegation_ref="0399/15", mission="M!N", **data))
    assert set(errors) == {"amount", "currency", "mission"}
    assert count(app, Withholding) == 0


@pytest.mark.linked_domains
def test_a_withholding_for_an_unknown_allegation_says_so_on_its_field(client: Any, manager: Any) -> None:
    data = {"country_code": "ZAF", "currency": "USD", "amount": "0.001", "decided_on": "2019-02-01"}
    errors = shown(book(client, "/ledger/withholdings/new", allegation_ref="9999/99", **data))
    assert set(errors) == {"allegation_ref", "amount"}
    assert "No allegation has the reference 9999/99" in errors["allegation_ref"]


def test_a_transfer_shows_every_refusal_on_its_field(app: Flask, client: Any, manager: Any) -> None:
    data = {"country_code": "ZAF", "currency": "USD", "amount": "20000", "decided_on": "2019-02-01"}
    assert book(client, "/ledger/withholdings/new", allegation_ref="0399/15", **data).status_code == 302
    entries = entry_count(app)
    transfer = {"amount": "30000", "transferred_on": "2019-01-15", "reference": "TRF-1"}
    errors = shown(book(client, "/ledger/withholdings/1/transfer", **transfer))
    assert set(errors) == {"amount", "transferred_on"}
    assert "Only USD 20,000.00 of this withholding is outstanding" in errors["amount"]
    assert entry_count(app) == entries


def test_a_refusals_amount_is_written_the_readers_way(app: Flask, client: Any, manager: Any) -> None:
    """Issue 19, item 3: the amount a refusal names is grouped as the reader writes numbers
    (20 000,00 in French), not Python's English 20,000.00."""
    data = {"country_code": "ZAF", "currency": "USD", "amount": "20000", "decided_on": "2019-02-01"}
    assert book(client, "/ledger/withholdings/new", allegation_ref="0399/15", **data).status_code == 302
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr"
    transfer = {"amount": "30000", "transferred_on": "2019-02-15", "reference": "TRF-1"}
    errors = shown(book(client, "/ledger/withholdings/1/transfer", **transfer))
    assert "Il ne reste que USD 20\u202f000,00 à virer sur cette retenue" in errors["amount"]
    assert "20,000" not in errors["amount"]


def test_a_project_shows_every_refusal_on_its_field(app: Flask, client: Any, manager: Any) -> None:
    terms = {"title": "Livelihoods", "partner": "IRC", "country_code": "CAF", "focus": "income_generation"}
    dates = {"approved_on": "2019-02-01", "planned_start": "2019-03-01", "planned_end": "2019-01-01"}
    errors = shown(book(client, "/ledger/projects/new", amount="1000", currency="JPY", **terms, **dates))
    assert set(errors) == {"currency", "planned_end"}
    assert "before the planned start" in errors["planned_end"]
    assert count(app, Project) == 0


def test_a_tranche_shows_every_refusal_on_its_field(app: Flask, client: Any, manager: Any) -> None:
    donor(client)
    assert receive(client, "200000", "2019-01-10").status_code == 302
    assert approve_project(client, "1000").status_code == 302
    entries = entry_count(app)
    data = {"amount": "5000", "paid_on": "2019-03-01", "reference": "T-1"}
    errors = shown(book(client, "/ledger/projects/1/disburse", victim_payments="CAR-2017-0042 6000", **data))
    assert set(errors) == {"amount", "victim_payments"}
    assert "Only USD 1,000.00 of the approved amount is undisbursed" in errors["amount"]
    assert "more than the tranche" in errors["victim_payments"]
    assert entry_count(app) == entries


def test_direct_support_shows_every_refusal_on_its_field(app: Flask, client: Any, manager: Any) -> None:
    victim = {"case_code": "CAR-2017-0042", "purpose": "relocation", "basis": "TFC decision 2019/01"}
    data = {"amount": "10.5", "currency": "JPY", "paid_on": "2019-02-01", "route": "implementing_partner"}
    errors = shown(book(client, "/ledger/direct-support/new", **victim, **data))
    assert set(errors) == {"amount", "currency", "project_id"}
    assert "Choose the project of the implementing partner" in errors["project_id"]
    assert count(app, DirectSupport) == 0


def test_a_rate_shows_every_refusal_on_its_field(app: Flask, client: Any, manager: Any, checker: Any) -> None:
    assert record_rate(client, rate="0.9").status_code == 302
    assert checker.post("/ledger/rates/1/confirm").status_code == 302
    errors = shown(record_rate(client, month="2019-02-01", rate="0.12345678901", currency="USD"))
    assert set(errors) == {"currency", "rate"}
    assert "always 1" in errors["currency"] and "decimal places" in errors["rate"]
    errors = shown(record_rate(client, month="2019-02-01", rate="1.80000000001"))
    assert set(errors) == {"reason", "rate"}
    assert "give the reason" in errors["reason"]
    assert count(app, ExchangeRate) == 1


def test_an_envelope_shows_every_refusal_on_its_field(app: Flask, client: Any, manager: Any) -> None:
    errors = shown(open_envelope(client, mission="M!N", victim_cap="1001", closes_on="2019-01-01"))
    assert set(errors) == {"mission", "victim_cap", "closes_on"}
    assert count(app, MissionEnvelope) == 0


def test_an_urgent_payment_shows_every_refusal_on_its_field(client: Any, manager: Any, checker: Any) -> None:
    donor(client)
    assert receive(client, "5000", "2019-01-10").status_code == 302
    assert open_envelope(client).status_code == 302
    assert checker.post("/ledger/envelopes/1/confirm").status_code == 302
    data = {"case_code": "CAR-2019-0001", "purpose": "evacuation", "currency": "USD"}
    errors = shown(book(client, "/ledger/envelopes/1/pay", amount="2000", paid_on="2019-05-01", **data))
    assert set(errors) == {"amount", "paid_on"}
    assert "not open on that day" in errors["paid_on"] and "left in the envelope" in errors["amount"]
    assert TERMS["victim_cap"] == "400"


def test_a_reversal_shows_the_date_on_its_field_and_the_entrys_rule_above(
    app: Flask, client: Any, manager: Any
) -> None:
    donor(client)
    assert pledge(client, "100", "2019-01-05").status_code == 302
    assert receive(client, "50", "2019-01-10").status_code == 302
    assert receive(client, "50", "2019-01-12", "B", pledge="1").status_code == 302
    assert client.post("/ledger/periods", data={"month": "2019-01-01"}).status_code == 302
    entries = entry_count(app)
    response = book(client, "/ledger/entries/1", on="2019-01-20", reason="typed twice")
    page = response.get_data(as_text=True)
    assert set(shown(response)) == {"on"}
    assert "January 2019 is closed" in errors_by_field(page)["on"]
    assert "Receipts stand against this pledge" in page  # the entry's rule, above the form
    assert entry_count(app) == entries


def test_zero_and_negative_amounts_are_said_to_be_above_zero(client: Any, manager: Any) -> None:
    donor(client)
    forms = {
        "/ledger/donors/1/pledge": "amount",
        "/ledger/donors/1/receipt": "amount",
        "/ledger/withholdings/new": "amount",
        "/ledger/projects/new": "amount",
        "/ledger/direct-support/new": "amount",
        "/ledger/envelopes/new": "usd",
        "/ledger/rates": "rate",
    }
    for path, field in forms.items():
        for amount in ("0", "-5"):
            post = client.post if path == "/ledger/rates" else lambda p, data: book(client, p, **data)
            page = post(path, data={field: amount}).get_data(as_text=True)
            said = errors_by_field(page)[field]
            assert "above zero" in said and "required" not in said, (path, amount, said)


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.ADVOCATE])
def test_the_forms_stay_refused_to_other_roles_and_without_csrf(
    app: Flask, client: Any, login: Any, database_url: str, make_user: Any, role: Role
) -> None:
    login(role, "CAF")
    for path in ("/ledger/withholdings/new", "/ledger/rates", "/ledger/envelopes/new"):
        assert client.post(path, data={"amount": "10.5", "currency": "JPY"}).status_code == 403
    guarded = make_app(database_url, WTF_CSRF_ENABLED=True)
    other = guarded.test_client()
    sign_in(guarded, other, make_user(Role.FUND_MANAGER, ""))
    for path in ("/ledger/withholdings/new", "/ledger/rates", "/ledger/envelopes/new"):
        assert other.post(path, data={"amount": "10.5", "currency": "JPY"}).status_code == 400
    assert count(app, Withholding) == 0


def test_an_unusual_amount_is_asked_with_the_other_refusals(app: Flask, client: Any, manager: Any) -> None:
    """The unusual amount asks its confirmation in the same answer as the service's refusals of
    the other fields (the service ran in a savepoint rolled back: nothing is booked)."""
    seed_cash_and_project(client, "150000")
    path = "/ledger/projects/1/disburse"
    for n in range(5):
        assert book(client, path, amount="1000", paid_on="2019-03-01", reference=f"T-{n}").status_code == 302
    entries = entry_count(app)
    data = {"amount": "20000", "paid_on": "2019-03-01", "reference": "T-9"}
    response = book(client, path, victim_payments="CAR-2017-0042 30000", **data)
    errors = shown(response)
    assert set(errors) == {"amount", "victim_payments"}
    assert (
        "the usual tranches in USD" in errors["amount"]
        and "more than the tranche" in errors["victim_payments"]
    )
    assert 'name="amount_confirmed"' in response.get_data(as_text=True)
    assert entry_count(app) == entries and count(app, Tranche) == 5
    assert book(client, path, **data, amount_confirmed="y").status_code == 302  # once right, booked


def test_a_release_dated_in_a_closed_month_says_so_on_its_date(app: Flask, client: Any, manager: Any) -> None:
    seed_cash_and_project(client)  # cash in January 2019, the project approved on 1 February
    for month in ("2019-01-01", "2019-02-01"):
        assert client.post("/ledger/periods", data={"month": month}).status_code == 302
    entries = entry_count(app)
    data = {"status": "cancelled", "on": "2019-02-15", "reason": "partner withdrew"}
    errors = shown(book(client, "/ledger/projects/1/release", **data))
    assert set(errors) == {"on"} and "February 2019 is closed" in errors["on"]
    assert entry_count(app) == entries
