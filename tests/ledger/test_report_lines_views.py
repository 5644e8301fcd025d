"""A partner's per-beneficiary report through the pages (issue 18, item 5): a fund manager
imports the file on the report's page, sees every error when refused (422, nothing saved), an
auditor reads but cannot import, other roles get 403, a post without its CSRF token 400; and the
fund statement shows the reporting periods and the share on individual needs."""

from __future__ import annotations

import io
from typing import Any

import pytest

from ledger.models import ProjectReport, ProjectReportLine
from tests.conftest import row_count
from tests.ledger.pages import book, seed_cash_and_project
from vat.auth.models import Role, User
from vat.db import db
from vat.victims import identity

REPORT = {
    "kind": "beneficiaries",
    "due_on": "2019-07-15",
    "period_start": "2019-03-01",
    "period_end": "2019-06-30",
}
LINES = "/ledger/projects/1/reports/1/lines"


def upload(text: str, name: str = "irc-q2.csv") -> dict[str, Any]:
    return {"file": (io.BytesIO(text.encode()), name)}


@pytest.fixture
def report(app, client, manager, make_user) -> None:
    """Project 1 (CAF) disbursed US$5,000; its report 1 of what each beneficiary received is due
    for March to June 2019; victims CAR-2017-0042 and -0043 are of CAF, COD-2018-0007 is not."""
    seed_cash_and_project(client)
    tranche = {"amount": "5000", "paid_on": "2019-03-02", "reference": "P"}
    assert book(client, "/ledger/projects/1/disburse", **tranche).status_code == 302
    assert client.post("/ledger/projects/1/reports", data=REPORT).status_code == 302
    advocates = {c: make_user(Role.SENIOR_ADVOCATE, c) for c in ("CAF", "COD")}
    with app.test_request_context():
        for country, code in (("CAF", "CAR-2017-0042"), ("CAF", "CAR-2017-0043"), ("COD", "COD-2018-0007")):
            actor = db.session.get_one(User, advocates[country].id)
            mission = "MINUSCA" if country == "CAF" else "MONUSCO"
            identity.register_victim(actor=actor, country_code=country, mission=mission, case_code=code)
        db.session.commit()


def lines(app) -> int:
    return row_count(app, ProjectReportLine)


def test_a_fund_manager_imports_the_lines(app, client, report, login):
    page = client.get("/ledger/projects/1/reports/1").get_data(as_text=True)
    assert "Import the partner" in page and "No lines imported yet." in page
    text = (
        "case_code,support,amount,provided_on\nCAR-2017-0042,cash,300,2019-04-02\nCAR-2017-0043,medical,0,\n"
    )
    response = client.post(LINES, data=upload(text), content_type="multipart/form-data")
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/ledger/projects/1/reports/1"
    )
    page = client.get("/ledger/projects/1/reports/1").get_data(as_text=True)
    assert "2 lines imported." in page and "CAR-2017-0043" in page and "Import the partner" not in page
    assert lines(app) == 2
    project = client.get("/ledger/projects/1").get_data(as_text=True)
    assert "/ledger/projects/1/reports/1" in project
    # The fund's life (the report came today); two victims are too few for aggregate viewers.
    fund = client.get("/reports/fund").get_data(as_text=True)
    assert 'id="partner-reports-table"' in fund and "Jul 15, 2019" in fund
    assert 'id="reported-share"' not in fund and "6.0 %" not in fund
    login(Role.SENIOR_ADVOCATE, "CAF")  # sees the rows: nothing hidden
    fund = client.get("/reports/fund").get_data(as_text=True)
    assert 'id="reported-share"' in fund and "6.0 %" in fund  # US$300 of the US$5,000 disbursed
    export = client.get("/reports/fund/export.csv").get_data(as_text=True)
    assert "share of disbursements on individual needs (%),,6.0" in export


def test_a_period_needs_both_its_days(app, client, report):
    half = {**REPORT, "period_end": ""}
    response = client.post("/ledger/projects/1/reports", data=half, follow_redirects=True)
    assert "Give both the first and the last day" in response.get_data(as_text=True)
    assert row_count(app, ProjectReport) == 1  # the fixture's only


def test_every_error_is_shown_and_nothing_saved(app, client, report):
    text = "case_code,support,amount\nJane Doe,cash,3\nCOD-2018-0007,cash,5\nCAR-2017-0042,cash,1.234\n"
    response = client.post(LINES, data=upload(text), content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="errors-table"' in page and "3 errors in the file: nothing was imported." in page
    assert page.count("No victim of CAF has this case code.") == 1 and "at most 2 decimal places" in page
    assert "Jane" not in page
    assert lines(app) == 0
    with app.app_context():
        assert db.session.get_one(ProjectReport, 1).received_on is None
    refused = client.post(LINES, data=upload("name,case_code\n"), content_type="multipart/form-data")
    assert refused.status_code == 422 and "Unknown column name" in refused.get_data(as_text=True)
    assert client.post("/ledger/projects/2/reports/1/lines", data=upload(text)).status_code == 404
    assert client.get("/ledger/projects/2/reports/1").status_code == 404


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.ADVOCATE, Role.SENIOR_ADVOCATE, Role.ADMIN])
def test_other_roles_cannot_import(app, client, report, login, role):
    login(role, "" if role in (Role.AUDITOR, Role.ADMIN) else "CAF")
    reading = client.get("/ledger/projects/1/reports/1")  # senior advocates and auditors read the ledger
    assert reading.status_code == (200 if role in (Role.AUDITOR, Role.SENIOR_ADVOCATE) else 403)
    if reading.status_code == 200:
        assert "Import the partner" not in reading.get_data(as_text=True)
    text = "case_code,support,amount\nCAR-2017-0042,cash,3\n"
    assert client.post(LINES, data=upload(text), content_type="multipart/form-data").status_code == 403
    assert lines(app) == 0


def test_an_import_without_csrf_token_is_refused(app, csrf_client):
    client = csrf_client(Role.FUND_MANAGER, "")
    text = "case_code,support,amount\nCAR-2017-0042,cash,3\n"
    assert client.post(LINES, data=upload(text), content_type="multipart/form-data").status_code == 400
    assert lines(app) == 0
