"""Partner reporting on projects (issue 18, item 5): reports due per project, received or
overdue; the share of each project's disbursements its partner reported paying to named victims
(individual needs): tests/reports/test_project_payments.py."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from ledger.models import ProjectReport
from ledger.services import partner_reports
from tests.conftest import row_count
from tests.ledger.pages import seed_cash_and_project
from vat.auth.models import Role
from vat.db import db
from vat.errors import DomainError


def test_a_report_is_due_then_received_or_overdue(fund):
    fund.contribute("500000")
    project = fund.project()
    schedule = dict(actor=fund.maker, project=project)
    with pytest.raises(DomainError, match="kind of report"):
        partner_reports.schedule_report(**schedule, kind="poem", due_on=date(2019, 6, 30))
    with pytest.raises(DomainError, match="before the project was approved"):
        partner_reports.schedule_report(**schedule, kind="financial", due_on=date(2019, 1, 1))
    narrative = partner_reports.schedule_report(**schedule, kind="narrative", due_on=date(2019, 6, 30))
    financial = partner_reports.schedule_report(**schedule, kind="financial", due_on=date(2019, 9, 30))
    assert partner_reports.overdue_reports(date(2019, 7, 1)) == [narrative]
    assert partner_reports.overdue_reports(date(2019, 10, 1)) == [narrative, financial]
    receive = dict(actor=fund.maker, report=narrative, reference="IRC-Q2.pdf", today=date(2019, 7, 3))
    with pytest.raises(DomainError, match="not in the future"):
        partner_reports.receive_report(**receive, received_on=date(2019, 7, 4))
    partner_reports.receive_report(**receive, received_on=date(2019, 7, 2))
    assert (narrative.received_on, narrative.reference) == (date(2019, 7, 2), "IRC-Q2.pdf")
    with pytest.raises(DomainError, match="already recorded"):
        partner_reports.receive_report(**receive, received_on=date(2019, 7, 2))
    assert partner_reports.overdue_reports(date(2019, 10, 1)) == [financial]
    assert partner_reports.reports_of(project) == [narrative, financial]


def test_reports_through_the_project_page(app, client, manager):
    seed_cash_and_project(client)
    response = client.post(
        "/ledger/projects/1/reports", data={"kind": "beneficiaries", "due_on": "2019-02-15"}
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("#reports")
    projects = client.get("/ledger/projects").get_data(as_text=True)
    assert "Partner reports overdue (1)" in projects and "What each beneficiary received" in projects
    page = client.get("/ledger/projects/1").get_data(as_text=True)
    assert 'id="reports-table"' in page and "overdue" in page
    with app.app_context():
        report_id = db.session.scalar(select(ProjectReport.id))
    received = client.post(
        f"/ledger/projects/1/reports/{report_id}/received",
        data={"received_on": "2019-02-20", "reference": "IRC beneficiaries Feb.xlsx"},
    )
    assert received.status_code == 302
    assert "Partner reports overdue" not in client.get("/ledger/projects").get_data(as_text=True)
    assert "IRC beneficiaries Feb.xlsx" in client.get("/ledger/projects/1").get_data(as_text=True)
    assert client.post(f"/ledger/projects/2/reports/{report_id}/received", data={}).status_code == 404


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.ADVOCATE])
def test_the_wrong_role_cannot_record_reports(app, client, login, role):
    login(role, "CAF" if role is Role.ADVOCATE else "")
    response = client.post("/ledger/projects/1/reports", data={"kind": "narrative", "due_on": "2019-06-30"})
    assert response.status_code in (403, 404)
    assert client.post("/ledger/projects/1/reports/1/received", data={}).status_code in (403, 404)
    assert row_count(app, ProjectReport) == 0
