"""The fund's figures follow every change at once, through the pages: bookings, and the records
that change without an entry (a donor added, a project's progress, a disbursement requested or
rejected). No figure is kept per worker: they read the balances the engine keeps."""

from __future__ import annotations

from tests.bench.conftest import logged_queries
from tests.ledger.pages import disburse, seed_cash_and_project


def _page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_overview_and_trial_balance_follow_each_booking(app, client, manager):
    assert "US$0.00" in _page(client, "/ledger/")
    assert "1000 " in _page(client, "/ledger/trial-balance")
    seed_cash_and_project(client)  # 200,000 received, a grant of 100,000 approved
    index = _page(client, "/ledger/")
    assert 'id="fund-balance"><span class="money">US$100,000.00' in index
    assert 'id="cash"><span class="money">US$200,000.00' in index
    assert "1 approved" in index and "1 behind schedule" in index
    trial = _page(client, "/ledger/trial-balance")
    assert "200,000.00" in trial and "badge-bad" not in trial
    assert "200,000.00" not in _page(client, "/ledger/trial-balance?as_of=2019-01-01")
    response = disburse(client, "5000")
    assert response.status_code == 302
    # 200,000 in, 5,000 out plus 13% programme support cost; only that cost is a new expense
    index = _page(client, "/ledger/")
    assert 'id="cash"><span class="money">US$194,350.00' in index
    assert 'id="fund-balance"><span class="money">US$99,350.00' in index
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


def test_the_ledgers_figures_read_the_balances_not_the_postings(app, client, manager):
    seed_cash_and_project(client)
    for path in ("/ledger/", "/ledger/statement", "/ledger/trial-balance", "/ledger/donors", "/reports/fund"):
        with logged_queries(app) as log:
            _page(client, path)
        summed = [statement for statement, _ in log.statements if "sum(ledger_posting" in statement]
        assert summed == [], path


def test_the_portfolio_follows_the_readers_language(client, manager):
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
    response = disburse(client, "20000")
    assert response.status_code == 302
    assert awaiting in _page(client, "/ledger/")
    assert client.post("/ledger/approvals/1/reject", data={"reason": "wrong partner"}).status_code == 302
    assert awaiting not in _page(client, "/ledger/")
