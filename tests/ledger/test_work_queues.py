"""What waits for a second pair of eyes shows on the dashboard and in the main navigation of
those who may decide it, and of no one else (issue 19, item 5)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.auth.test_admin_request_views import ask_for_senior
from tests.conftest import signed_in_client
from tests.ledger.pages import disburse, seed_cash_and_project
from vat.auth.models import Role

APPROVALS = "Disbursements to approve: <strong>1</strong>"
REQUESTS = "Account requests to approve: <strong>1</strong>"
NAV_BADGE = '<span class="badge">1 waiting</span></a></li>'


def test_a_disbursement_waits_on_the_other_fund_managers_dashboard(
    app: Flask, client: FlaskClient, manager: Any, make_user: Any
) -> None:
    seed_cash_and_project(client)
    disburse(client, "25000", "P-1")
    mine = client.get("/").get_data(as_text=True)
    assert APPROVALS not in mine and NAV_BADGE not in mine  # not the maker's to approve
    checker = signed_in_client(app, make_user(Role.FUND_MANAGER, ""))
    other = checker.get("/").get_data(as_text=True)
    assert APPROVALS in other and 'href="/ledger/approvals"' in other
    assert f'href="/ledger/">Trust fund {NAV_BADGE}' in other
    # The programme support cost the approval will book with the tranche, before it is posted.
    approvals = checker.get("/ledger/approvals").get_data(as_text=True)
    assert ">Programme support cost</th>" in approvals and "USD 3,250.00" in approvals
    auditor = signed_in_client(app, make_user(Role.AUDITOR, "")).get("/").get_data(as_text=True)
    assert APPROVALS not in auditor and "waiting</span>" not in auditor


def test_an_account_request_waits_on_the_other_administrators_dashboard(app: Flask, make_user: Any) -> None:
    first, second = (signed_in_client(app, make_user(Role.ADMIN, "")) for _ in range(2))
    assert ask_for_senior(first).status_code == 302
    assert REQUESTS not in first.get("/").get_data(as_text=True)
    page = second.get("/admin/requests").get_data(as_text=True)
    assert f'href="/admin/users">Users {NAV_BADGE}' in page
    dashboard = second.get("/").get_data(as_text=True)
    assert REQUESTS in dashboard and 'href="/admin/requests"' in dashboard
