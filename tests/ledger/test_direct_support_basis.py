"""Each direct-support payment says how it reaches the victim and on what approved basis (issue 18,
item 6): the service refuses a payment without them, the form and list carry them, and the page
refuses the wrong role and a missing CSRF token."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from ledger.models import DirectSupport
from tests.conftest import row_count
from tests.ledger.pages import pay_victim, seed_cash_and_project
from vat.auth.models import Role
from vat.db import db
from vat.errors import DomainError


def test_a_payment_without_its_route_or_basis_is_refused(fund):
    with pytest.raises(DomainError, match="implementing partner or the mission"):
        fund.pay("CAR-2017-0042", "100", route=None)
    with pytest.raises(DomainError, match="implementing partner or the mission"):
        fund.pay("CAR-2017-0042", "100", route="cash_in_hand")
    with pytest.raises(DomainError, match="approved basis"):
        fund.pay("CAR-2017-0042", "100", basis="  ")
    assert db.session.scalar(select(func.count(DirectSupport.id))) == 0


def test_the_partner_route_names_the_project_it_goes_through(fund):
    fund.contribute("500000")
    with pytest.raises(DomainError, match="project of the implementing partner"):
        fund.pay("CAR-2017-0042", "100", route="implementing_partner")
    with pytest.raises(DomainError, match="project of the implementing partner"):
        fund.pay("CAR-2017-0042", "100", route="implementing_partner", project_id=999)
    project = fund.project(partner="IRC")
    with pytest.raises(DomainError, match="names no implementing partner"):
        fund.pay("CAR-2017-0042", "100", route="mission", project_id=project.id)
    paid = fund.pay(
        "CAR-2017-0042", "100", route="implementing_partner", project_id=project.id, basis="TFC 7"
    )
    assert (paid.route, paid.project.partner, paid.basis) == ("implementing_partner", "IRC", "TFC 7")


def test_the_form_records_route_and_basis_and_the_list_shows_them(app, client, manager):
    seed_cash_and_project(client)
    form = client.get("/ledger/direct-support/new").get_data(as_text=True)
    assert 'name="route"' in form and 'name="basis"' in form and "IRC — Livelihoods" in form
    refused = pay_victim(client, "100", "2019-02-20", route="implementing_partner")
    assert refused.status_code == 422 and "project of the implementing partner" in refused.get_data(
        as_text=True
    )
    missing = pay_victim(client, "100", "2019-02-20", basis="")
    assert missing.status_code == 200  # the form refuses it
    assert (
        pay_victim(client, "100", "2019-02-20", route="implementing_partner", project_id="1").status_code
        == 302
    )
    page = client.get("/ledger/direct-support").get_data(as_text=True)
    assert "Through IRC" in page and "TFC decision 2019/01" in page
    assert row_count(app, DirectSupport) == 1


def test_the_wrong_role_cannot_pay(app, client, login):
    login(Role.AUDITOR, "")
    assert client.get("/ledger/direct-support/new").status_code == 403
    response = client.post("/ledger/direct-support/new", data={"route": "mission", "basis": "TFC 1"})
    assert response.status_code == 403
    assert row_count(app, DirectSupport) == 0


def test_paying_without_a_csrf_token_is_refused(app, csrf_client):
    response = csrf_client(Role.FUND_MANAGER, "").post(
        "/ledger/direct-support/new",
        data={
            "case_code": "CAR-2017-0042",
            "route": "mission",
            "basis": "TFC 1",
            "amount": "10",
            "currency": "USD",
            "paid_on": "2019-01-21",
            "purpose": "rent",
        },
    )
    assert response.status_code == 400
    assert row_count(app, DirectSupport) == 0
