"""The fund's summary figures kept per worker while the ledger's version stays the same: kept
exactly as long as nothing they read has changed, through the services and through the pages."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from ledger import kept
from ledger.models import ProjectStatus
from ledger.services import grants, months
from tests.bench.conftest import logged_queries
from tests.ledger.conftest import key
from tests.ledger.test_views import book, seed_cash_and_project
from vat.audit import AuditEvent
from vat.auth.models import Role
from vat.db import db


def test_a_figure_is_computed_once_per_version_and_arguments(fund, monkeypatch):
    computed: list[str] = []

    def compute() -> int:
        computed.append("x")
        return len(computed)

    assert kept.figures("x", compute) == 1
    assert kept.figures("x", compute) == 1
    assert kept.figures("x", compute, date(2019, 1, 1)) == 2
    fund.contribute()
    db.session.commit()
    assert kept.figures("x", compute) == 3
    assert kept.figures("x", compute) == 3


def test_a_request_that_read_an_older_version_computes_without_keeping(ctx, monkeypatch):
    monkeypatch.setattr(kept, "version", lambda: (5, 0))
    assert kept.figures("x", lambda: "at 5") == "at 5"
    monkeypatch.setattr(kept, "version", lambda: (4, 0))
    assert kept.figures("x", lambda: "at 4") == "at 4"
    monkeypatch.setattr(kept, "version", lambda: (5, 0))
    assert kept.figures("x", lambda: "again") == "at 5"


def test_every_change_to_the_ledger_changes_its_version(fund):
    versions = [kept.version()]

    def changed() -> None:
        db.session.commit()
        versions.append(kept.version())
        assert versions[-1] > versions[-2]

    donor = fund.donor()
    changed()  # a donor, without an entry
    fund.contribute(amount="200000", donor=donor)
    changed()  # an entry
    fund.rate("EUR", date(2019, 2, 1), "1.10")
    changed()
    fund.rate("EUR", date(2019, 2, 1), "1.12")  # corrected while unused
    changed()
    project = fund.project()
    changed()
    fund.start(project, date(2019, 2, 5), victims=2)
    changed()
    tranche = fund.disburse(project, "20000")  # above the approval threshold: pending, no entry
    assert tranche.status == "pending"
    changed()
    grants.reject_disbursement(actor=fund.checker, tranche=tranche, reason="wrong partner")
    changed()
    small = fund.project(amount="5000")
    fund.disburse(small, "5000")
    changed()
    grants.release_project(  # nothing left to release: no entry
        actor=fund.maker,
        key=key(),
        project=small,
        on=date(2019, 3, 2),
        reason="done",
        status=ProjectStatus.COMPLETED,
    )
    changed()
    months.close_period(actor=fund.maker, month=date(2019, 1, 1))
    changed()
    without_entry = set(
        db.session.scalars(
            select(AuditEvent.action).where(
                AuditEvent.action.like("ledger.%"), AuditEvent.object_type != "ledger_entry"
            )
        )
    )
    assert without_entry == set(kept.CHANGES_WITHOUT_ENTRY)


@pytest.fixture
def manager(login):
    return login(Role.FUND_MANAGER, "")


def _page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _without_csrf_token(page: str) -> str:
    return re.sub(r'(name="csrf_token"[^>]*value=")[^"]*', r"\1", page)


def test_the_overview_and_trial_balance_follow_each_booking(app, client, manager):
    assert "US$0.00" in _page(client, "/ledger/")
    assert "1000 " in _page(client, "/ledger/trial-balance")
    seed_cash_and_project(client)  # 200,000 received, a grant of 100,000 approved
    index = _page(client, "/ledger/")
    assert 'id="fund-balance"><span class="money">US$200,000.00' in index
    assert "1 approved" in index and "1 behind schedule" in index
    trial = _page(client, "/ledger/trial-balance")
    assert "200,000.00" in trial and "badge-bad" not in trial
    assert "200,000.00" not in _page(client, "/ledger/trial-balance?as_of=2019-01-01")
    response = book(client, "/ledger/projects/1/disburse", amount="5000", paid_on="2019-03-02", reference="P")
    assert response.status_code == 302
    # 200,000 in, 5,000 out plus 13% programme support cost
    assert 'id="fund-balance"><span class="money">US$194,350.00' in _page(client, "/ledger/")
    assert "194,350.00" in _page(client, "/ledger/trial-balance")


def test_the_statement_lists_a_donor_added_without_an_entry(client, manager):
    assert "Ford Foundation" not in _page(client, "/ledger/statement")
    response = client.post("/ledger/donors/new", data={"kind": "other", "name": "Ford Foundation"})
    assert response.status_code == 302
    assert "Ford Foundation" in _page(client, "/ledger/statement")


def test_the_fund_report_follows_a_projects_progress(client, manager):
    path = "/reports/fund?start=2019-01-01&end=2019-12-31"
    seed_cash_and_project(client)
    before = _page(client, path)
    assert "<td>approved</td>" in before and "<td>ongoing</td>" not in before
    response = client.post(
        "/ledger/projects/1/progress",
        data={"status": "ongoing", "actual_start": "2019-03-05", "victims_supported": "0"},
    )
    assert response.status_code == 302
    after = _page(client, path)
    assert "<td>ongoing</td>" in after and "<td>approved</td>" not in after


def test_kept_pages_read_only_the_version_and_what_is_not_kept(app, client, manager):
    seed_cash_and_project(client)
    _page(client, "/ledger/journal")  # shows the booking's flash message
    for path in ("/ledger/", "/ledger/statement", "/ledger/trial-balance", "/reports/fund"):
        with logged_queries(app) as first:
            first_page = _without_csrf_token(_page(client, path))
        with logged_queries(app) as second:
            assert _without_csrf_token(_page(client, path)) == first_page
        assert len(second.statements) < len(first.statements), path


def test_the_kept_portfolio_follows_the_readers_language(client, manager):
    path = "/reports/fund?start=2019-01-01&end=2019-12-31"
    seed_cash_and_project(client)
    english = client.get(path, headers={"Accept-Language": "en"}).get_data(as_text=True)
    french = client.get(path, headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Mar 1, 2019 → Mar 1, 2020" in english
    assert "1 mars 2019 → 1 mars 2020" in french and "Mar 1, 2019" not in french


def test_the_overview_counts_disbursements_requested_and_rejected_without_an_entry(client, manager):
    seed_cash_and_project(client)
    awaiting = "Disbursements awaiting a second approval: 1"
    assert awaiting not in _page(client, "/ledger/")
    response = book(
        client, "/ledger/projects/1/disburse", amount="20000", paid_on="2019-03-02", reference="P"
    )
    assert response.status_code == 302
    assert awaiting in _page(client, "/ledger/")
    assert client.post("/ledger/approvals/1/reject", data={"reason": "wrong partner"}).status_code == 302
    assert awaiting not in _page(client, "/ledger/")
