"""The ledger's pages through the test client: roles, CSRF, double submission, maker–checker."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from ledger import engine
from ledger.models import Entry, ProjectReport, Tranche
from ledger.outflows import Outflow
from tests.conftest import row_count, signed_in_client
from tests.ledger.pages import (
    book,
    disburse,
    entry_count,
    minted_key,
    pay_victim,
    receive,
    seed_cash_and_project,
    withhold,
)
from vat.auth.models import Role
from vat.db import db


@pytest.mark.parametrize("role", [Role.ADVOCATE, Role.ADMIN])
def test_roles_without_the_ledger_are_refused(client, login, role):
    login(role, "CAF")
    assert client.get("/ledger/").status_code == 403
    assert client.get("/ledger/journal").status_code == 403


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.SENIOR_ADVOCATE])
def test_readers_read_but_cannot_book(app, client, login, role):
    login(role, "CAF")
    for path in (
        "/ledger/",
        "/ledger/withholdings",
        "/ledger/trial-balance",
        "/ledger/statement",
        "/ledger/rates",
    ):
        assert client.get(path).status_code == 200, path
    assert client.get("/ledger/withholdings/new").status_code == 403
    assert client.post("/ledger/rates", data={"currency": "EUR"}).status_code == 403
    assert client.post("/ledger/periods", data={"month": "2019-01-01"}).status_code == 403
    assert client.get("/ledger/approvals").status_code == 403
    assert entry_count(app) == 0


def test_a_form_submitted_twice_books_once(app, client, manager):
    client.post("/ledger/donors/new", data={"kind": "member_state", "country_code": "SWE"})
    path = "/ledger/donors/1/pledge"
    data = {
        "key": minted_key(client.get(path).get_data(as_text=True)),
        "amount": "250000.00",
        "currency": "USD",
        "pledged_on": "2019-01-05",
    }
    assert client.post(path, data=data).status_code == 302
    assert client.post(path, data=data).status_code == 302
    assert entry_count(app) == 1
    changed = client.post(path, data={**data, "amount": "250001"})
    assert changed.status_code == 409 and "different values" in changed.get_data(as_text=True)
    assert entry_count(app) == 1


def test_each_rendering_mints_a_new_key(client, manager):
    client.post("/ledger/donors/new", data={"kind": "member_state", "country_code": "SWE"})
    first = minted_key(client.get("/ledger/donors/1/pledge").get_data(as_text=True))
    second = minted_key(client.get("/ledger/donors/1/pledge").get_data(as_text=True))
    assert first != second


def test_a_post_without_csrf_token_is_refused(app, csrf_client):
    client = csrf_client(Role.FUND_MANAGER, "")
    response = client.post("/ledger/donors/new", data={"kind": "member_state", "country_code": "SWE"})
    assert response.status_code == 400
    report = client.post("/ledger/projects/1/reports", data={"kind": "narrative", "due_on": "2019-06-30"})
    assert report.status_code == 400  # a partner report's due date (issue 18, item 5)
    assert row_count(app, Entry) == 0
    assert row_count(app, ProjectReport) == 0


def test_a_domain_refusal_is_shown_on_the_form(app, client, manager):
    client.post("/ledger/donors/new", data={"kind": "member_state", "country_code": "SWE"})
    response = pay_victim(client, "10", "2019-01-10", purpose="rent")
    assert response.status_code == 422 and "Not enough cash" in response.get_data(as_text=True)


def test_maker_cannot_approve_their_own_disbursement_another_manager_can(app, client, manager, make_user):
    seed_cash_and_project(client)
    response = disburse(client, "25000", "P-1")
    assert response.status_code == 302
    with app.app_context():
        tranche = db.session.scalar(select(Tranche))
        assert tranche.status == "pending"
        outflow_id = db.session.scalar(select(Outflow.id).where(Outflow.record_id == tranche.id))
    approvals = client.get("/ledger/approvals").get_data(as_text=True)
    assert "waits for another fund manager" in approvals and "Disbursement recorded." not in approvals
    assert "your request" in approvals
    assert ">Reference</th>" in approvals and "<bdi>P-1</bdi>" in approvals and "USD 25,000.00" in approvals
    refused = client.post(f"/ledger/approvals/{outflow_id}/approve")
    assert refused.status_code == 403 and "another fund manager" in refused.get_data(as_text=True)

    assert "waiting</span>" not in approvals  # the maker's own request is not theirs to approve
    checker = signed_in_client(app, make_user(Role.FUND_MANAGER, ""))
    assert "1 waiting" in checker.get("/ledger/").get_data(as_text=True)
    auditor = signed_in_client(app, make_user(Role.AUDITOR, ""))
    assert "waiting</span>" not in auditor.get("/ledger/").get_data(as_text=True)
    assert checker.post(f"/ledger/approvals/{outflow_id}/approve").status_code == 302
    with app.app_context():
        tranche = db.session.get(Tranche, tranche.id)
        assert tranche.status == "posted" and tranche.checker_id is not None
    page = client.get("/ledger/projects/1").get_data(as_text=True)
    assert "USD 25,000.00" in page


def test_the_journey_updates_the_fund_balance_and_the_reconciliation(app, client, manager):
    seed_cash_and_project(client)
    assert disburse(client, "5000").status_code == 302
    assert "Disbursement recorded." in client.get("/ledger/projects/1").get_data(as_text=True)
    response = withhold(client, "0399/15")
    assert response.status_code == 302 and response.location.endswith("/ledger/withholdings/1")
    assert (
        book(
            client,
            "/ledger/withholdings/1/transfer",
            amount="15000",
            transferred_on="2019-04-01",
            reference="T-1",
        ).status_code
        == 302
    )

    index = client.get("/ledger/").get_data(as_text=True)
    # 200,000 + 15,000 in, 5,000 out plus 13% programme support cost
    assert "US$209,350.00" in index
    assert "USD 5,000.00" in index  # withheld, not yet transferred
    recon = client.get("/ledger/withholdings").get_data(as_text=True)
    assert "Records and ledger agree." in recon and "0399/15" in recon and "USD 5,000.00" in recon
    with app.app_context():
        assert engine.usd_balance(engine.WITHHELD_RECEIVABLE) == 5000


def test_journal_filters_entry_detail_reversal_and_trial_balance(app, client, manager):
    seed_cash_and_project(client)
    journal = client.get("/ledger/journal?kind=grant_approval").get_data(as_text=True)
    assert "Grant approved" in journal and "Receipt from" not in journal
    assert "Receipt from" in client.get("/ledger/journal?account=1000").get_data(as_text=True)
    assert "No entries match" in client.get("/ledger/journal?country=LBR").get_data(as_text=True)
    assert "Receipt from" in client.get("/ledger/journal?donor=1&start=2019-01-01&end=2019-01-31").get_data(
        as_text=True
    )

    detail = client.get("/ledger/entries/2")
    assert detail.status_code == 200 and "Reverse this entry" in detail.get_data(as_text=True)
    reversed_ = book(client, "/ledger/entries/2", on=date.today().isoformat(), reason="approved twice")
    assert reversed_.status_code == 302
    assert "Reversed by" in client.get("/ledger/entries/2").get_data(as_text=True)
    again = client.post(
        "/ledger/entries/2", data={"key": "f" * 32, "on": date.today().isoformat(), "reason": "x"}
    )
    assert again.status_code == 422 and "already been reversed" in again.get_data(as_text=True)

    trial = client.get("/ledger/trial-balance").get_data(as_text=True)
    assert "badge-bad" not in trial


def test_closing_a_month_and_exporting_its_close_pack(app, client, manager):
    seed_cash_and_project(client)
    response = client.post("/ledger/periods", data={"month": "2019-01-15"})
    assert response.status_code == 302
    pack = client.get("/ledger/periods/1/close-pack.json")
    assert pack.status_code == 200 and pack.json["period"] == "2019-01"
    assert "attachment" in pack.headers["Content-Disposition"]
    late = receive(client, "1", "2019-01-20", bank_reference="late")
    assert late.status_code == 422 and "January 2019 is closed" in late.get_data(as_text=True)


def test_verify_command_reports_an_intact_ledger(runner, client, manager):
    seed_cash_and_project(client)
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code == 0 and "ledger intact: 2 entries" in result.output
    assert "1000  Cash at bank" in runner.invoke(args=["ledger", "init"]).output


def test_case_codes_link_to_victims_only_for_those_who_may_open_them(app, client, manager, make_user):
    seed_cash_and_project(client)
    page = client.get("/ledger/projects/1").get_data(as_text=True)
    assert "<code>CAR-2017-0042</code>" in page and "/vat/victims" not in page
    senior = signed_in_client(app, make_user(Role.SENIOR_ADVOCATE, "CAF"))
    page = senior.get("/ledger/projects/1").get_data(as_text=True)
    assert "case_code=CAR-2017-0042" in page


def test_the_overview_counts_projects_by_status(app, client, manager):
    """Issue 19, item 9: the overview said '12 approved' for projects of every status."""
    from ledger.models import Project, ProjectStatus

    seed_cash_and_project(client)
    assert re.search(r'id="project-counts">1 approved[,.]', client.get("/ledger/").get_data(as_text=True))
    with app.app_context():
        db.session.scalars(select(Project)).one().status = ProjectStatus.COMPLETED.value
        db.session.commit()
    counts = client.get("/ledger/").get_data(as_text=True)
    assert (
        re.search(r'id="project-counts">1 completed[,.]', counts)
        and "approved" not in counts.split('id="project-counts"')[1].split("</p>")[0]
    )
