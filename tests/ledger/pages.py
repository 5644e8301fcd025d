"""The ledger's forms through the test client: each books with a freshly minted idempotency key
and the values a test does not care about, so a test names only what it is about."""

from __future__ import annotations

from typing import Any

from ledger.models import Entry
from tests.conftest import minted_key, row_count


def entry_count(app) -> int:
    return row_count(app, Entry)


def book(client, path: str, **data) -> Any:
    data.setdefault("key", minted_key(client.get(path).get_data(as_text=True)))
    return client.post(path, data=data)


def receive(
    client, amount: str, received_on: str, bank_reference: str = "B-1", donor: int = 1, pledge: str = ""
) -> Any:
    """A receipt in US dollars from donor `donor`, outside any pledge unless `pledge` is one's id."""
    fields = {"amount": amount, "received_on": received_on, "bank_reference": bank_reference}
    return book(client, f"/ledger/donors/{donor}/receipt", pledge_id=pledge, currency="USD", **fields)


def pledge(client, amount: str, pledged_on: str, currency: str = "USD", donor: int = 1, **more: str) -> Any:
    """A pledge of donor `donor`, in US dollars unless told."""
    terms = {"amount": amount, "currency": currency, "pledged_on": pledged_on, **more}
    return book(client, f"/ledger/donors/{donor}/pledge", **terms)


def disburse(client, amount: str, reference: str = "P", paid_on: str = "2019-03-02", project: int = 1) -> Any:
    """A tranche of project `project` (the first unless told), paid on 2 March 2019 unless told."""
    return book(
        client, f"/ledger/projects/{project}/disburse", amount=amount, paid_on=paid_on, reference=reference
    )


def pay_victim(client, amount: str, paid_on: str, purpose: str = "relocation", **route: str) -> Any:
    """Direct support in US dollars to victim CAR-2017-0042 of the Central African Republic,
    through the mission unless `route` says otherwise (route, project_id, basis)."""
    victim = {"case_code": "CAR-2017-0042", "country_code": "CAF"}
    route = {"route": "mission", "basis": "TFC decision 2019/01", **route}
    return book(
        client,
        "/ledger/direct-support/new",
        purpose=purpose,
        amount=amount,
        currency="USD",
        paid_on=paid_on,
        **route,
        **victim,
    )


def approve_project(client, amount: str, currency: str = "USD", **terms: str) -> Any:
    """A CAF project approved on 1 February 2019 for a year from March; `terms` may name its title,
    partner and beneficiaries' case codes."""
    terms = {"title": "Livelihoods", "partner": "IRC", "case_codes": "", **terms}
    dates = {"approved_on": "2019-02-01", "planned_start": "2019-03-01", "planned_end": "2020-03-01"}
    kind = {"country_code": "CAF", "focus": "income_generation"}
    return book(client, "/ledger/projects/new", amount=amount, currency=currency, **kind, **dates, **terms)


def withhold(client, allegation_ref: str, amount: str = "20000") -> Any:
    """US dollars withheld from South Africa on 1 February 2019 for `allegation_ref`."""
    decision = {"country_code": "ZAF", "currency": "USD", "decided_on": "2019-02-01"}
    return book(client, "/ledger/withholdings/new", allegation_ref=allegation_ref, amount=amount, **decision)


def record_rate(client, month: str = "2019-01-01", rate: str = "0.9", **more: str) -> Any:
    """A month's euro rate from the UN, recorded by the client's fund manager alone."""
    return client.post(
        "/ledger/rates", data={"currency": "EUR", "month": month, "rate": rate, "source": "UN", **more}
    )


def seed_cash_and_project(client, amount: str = "100000") -> None:
    assert (
        client.post("/ledger/donors/new", data={"kind": "member_state", "country_code": "NOR"}).status_code
        == 302
    )
    assert receive(client, "200000", "2019-01-10").status_code == 302
    response = approve_project(client, amount, case_codes="CAR-2017-0042\nCAR-2017-0043")
    assert response.status_code == 302, response.get_data(as_text=True)
