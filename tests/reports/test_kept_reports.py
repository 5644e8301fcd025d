"""Report pages keep their figures per viewer and filters for a while (snapshots.report_for), say
as of when, and keep the query-set-size check with the figures it guards."""

from __future__ import annotations

import threading

import pytest

from tests.reports.snapshot_helpers import add_victim as _add_victim
from tests.reports.snapshot_helpers import wait_for_workers as _wait_for_workers
from vat.auth.models import Role
from vat.reports import populations, snapshots
from vat.reports.views import assistance as assistance_views

TOO_FEW = "Too few victims match these filters to show figures; widen them."


@pytest.fixture
def kept(app, monkeypatch):
    """Figures kept 60 s on a clock the test moves."""
    app.config["VAT_SUMMARY_SECONDS"] = 60
    app.config["VAT_SUMMARY_WAIT_SECONDS"] = 30
    now = [1000.0]
    monkeypatch.setattr(snapshots, "_clock", lambda: now[0])
    snapshots.clear()
    yield now
    _wait_for_workers()
    snapshots.clear()


def _total(page: str) -> str:
    return page.split('id="victims-total">', 1)[1].split("<", 1)[0]


def test_totals_are_kept_with_their_time_while_the_rows_are_read_afresh(app, client, login, world, kept):
    login(Role.ADVOCATE, "CAF")
    page = client.get("/reports/victims").get_data(as_text=True)
    assert _total(page) == "7" and 'id="report-as-of"' in page
    _add_victim(app, "CAR-2022-0100")
    page = client.get("/reports/victims").get_data(as_text=True)
    assert _total(page) == "7", "the totals are kept"
    assert "CAR-2022-0100" in page, "the page's rows are not"
    assert _total(client.get("/reports/victims?year=2022").get_data(as_text=True)) == "1", "per filters"
    kept[0] += 61
    client.get("/reports/victims")  # past their age: shown once more while new ones are computed
    _wait_for_workers()
    assert _total(client.get("/reports/victims").get_data(as_text=True)) == "8"


def test_each_scope_keeps_its_own_report(client, login, world, kept):
    login(Role.ADVOCATE, "CAF")
    assert _total(client.get("/reports/victims").get_data(as_text=True)) == "7"
    client.get("/auth/logout")
    login(Role.ADVOCATE, "COD")
    page = client.get("/reports/victims").get_data(as_text=True)
    assert _total(page) == "2" and "CAR-2020-0001" not in page


@pytest.mark.parametrize("path", ["/reports/assistance", "/reports/clock", "/reports/claims"])
def test_aggregate_reports_say_as_of_when(client, login, world, kept, path):
    login(Role.AUDITOR, "")
    page = client.get(path).get_data(as_text=True)
    assert 'id="report-as-of"' in page and 'id="report-pending"' not in page


def test_a_refusal_is_kept_with_the_figures_it_guards(app, client, login, world, kept, monkeypatch):
    login(Role.AUDITOR, "")
    checks = []
    real = populations.too_few_to_show_for

    def counted(user, filters, population):
        checks.append(filters)
        return real(user, filters, population)

    monkeypatch.setattr(populations, "too_few_to_show_for", counted)
    for _ in range(2):
        page = client.get("/reports/assistance", query_string={"country": "CAF"}).get_data(as_text=True)
        assert TOO_FEW in page and "<table" not in page
    assert len(checks) == 1, "checked once, with the figures it guards"
    wider = client.get("/reports/assistance").get_data(as_text=True)
    assert TOO_FEW not in wider and 'id="assistance-table"' in wider
    assert client.get("/reports/assistance/export.csv", query_string={"country": "CAF"}).status_code == 422


def test_a_slow_report_shows_a_notice_not_a_hang(app, client, login, world, kept, monkeypatch):
    app.config["VAT_SUMMARY_WAIT_SECONDS"] = 0.05
    release = threading.Event()
    real = assistance_views.assistance_report

    def slow(user, filters, **kwargs):
        release.wait(timeout=30)
        return real(user, filters, **kwargs)

    monkeypatch.setattr(assistance_views, "assistance_report", slow)
    login(Role.ADVOCATE, "CAF")
    response = client.get("/reports/assistance?by=provider")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="report-pending"' in page and "<table" not in page
    release.set()
    _wait_for_workers()
    page = client.get("/reports/assistance?by=provider").get_data(as_text=True)
    assert 'id="assistance-table"' in page and 'id="report-as-of"' in page
