"""The report pages and exports through the client: roles, scope, suppression, audit rows."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import select

from tests.conftest import BACKEND
from tests.reports.conftest import csv_rows, exported
from tests.reports.pdf_text import pdf_text
from tests.statements import locked_for_its_audit_row
from vat.audit import AuditEvent
from vat.auth.models import Role
from vat.db import db
from vat.reports.deidentify import date_shift, pseudonym
from vat.reports.support import SUPPORT_HEADER


def _exports(app):
    with app.app_context():
        return db.session.scalars(select(AuditEvent).where(AuditEvent.action == "report.export")).all()


@pytest.mark.parametrize("role", list(Role))
def test_who_reaches_which_report(client, login, role):
    login(role, "CAF")
    may_view_cases = role in (Role.ADVOCATE, Role.SENIOR_ADVOCATE, Role.FUND_MANAGER, Role.AUDITOR)
    may_read_ledger = role in (Role.SENIOR_ADVOCATE, Role.FUND_MANAGER, Role.AUDITOR)
    for path, allowed in [
        ("/reports/", may_view_cases),
        ("/reports/victims", may_view_cases),
        ("/reports/victims/export.csv", may_view_cases),
        ("/reports/fund", may_read_ledger),
        ("/reports/fund/export.xlsx", may_read_ledger),
    ]:
        # 303: the per-victim rows' old export address leads to the job's start page
        assert client.get(path).status_code in ((200, 303) if allowed else (403,)), (role, path)


def test_strangers_go_to_login(client):
    response = client.get("/reports/victims")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_advocate_page_shows_rows_and_headline(client, login, world):
    login(Role.ADVOCATE, "CAF")
    page = client.get("/reports/victims").get_data(as_text=True)
    assert 'id="victims-total">7<' in page
    assert 'id="not-supported-share">42.9% of victims' in page
    assert "CAR-2021-0004" in page and "DRC-2021-0001" not in page
    assert 'role="img"' in page and "style=" not in page
    filtered = client.get("/reports/victims?year=2020&sex=&minor=").get_data(as_text=True)
    assert 'id="victims-total">3<' in filtered and "66.7%" in filtered


def test_bad_filters_are_ignored_not_a_crash(client, login, world):
    login(Role.ADVOCATE, "CAF")
    assert client.get("/reports/victims?year=abc&sex=nonsense&country=%3D1").status_code == 200


def test_the_old_export_addresses_lead_to_the_job_with_their_filters(client, login, world):
    login(Role.ADVOCATE, "CAF")
    response = client.get("/reports/victims/export.csv?minor=yes&evil=x")
    assert response.status_code == 303
    assert response.headers["Location"] == "/reports/victims/download.csv?minor=yes"
    response = client.get("/reports/victims/export-deidentified.xlsx?year=2020")
    assert response.status_code == 303
    assert response.headers["Location"] == "/reports/victims/download-deidentified.xlsx?year=2020"


def test_advocate_csv_export_is_safe_and_audited(app, client, login, world):
    user = login(Role.ADVOCATE, "CAF")
    response = exported(client, "csv", minor="yes")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith('attachment; filename="victim-support-')
    rows = csv_rows(response.get_data(as_text=True))
    assert rows[0] == [h.format(days=90) for h in SUPPORT_HEADER]
    assert [r[0] for r in rows[1:]] == ["CAR-2020-0001", "CAR-2021-0004"]
    direct = SUPPORT_HEADER.index("direct support (USD)")
    assert rows[2][direct] == "250.00"
    [event] = _exports(app)
    assert event.actor_id == user.id and event.object_id == "victim-support"
    detail = json.loads(event.detail)
    assert detail.pop("job") and detail == {"filters": {"minor": True}, "format": "csv", "rows": 2}


def test_advocate_xlsx_export_has_header_and_rows(client, login, world):
    login(Role.ADVOCATE, "CAF")
    response = exported(client, "xlsx")
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == [h.format(days=90) for h in SUPPORT_HEADER]
    assert len(values) == 1 + 7
    by_code = {r[0]: r for r in values[1:]}
    assert by_code["CAR-2021-0005"][SUPPORT_HEADER.index("paid by projects (USD)")] == 500
    assert by_code["CAR-2020-0003"][SUPPORT_HEADER.index("supported")] == "no"


def test_auditor_sees_suppressed_aggregates_only(app, client, login, world):
    login(Role.AUDITOR, "")
    page = client.get("/reports/victims").get_data(as_text=True)
    assert "CAR-20" not in page  # no case code leaves the advocates' scope
    assert "suppressed" in page
    response = client.get("/reports/victims/export.xlsx")
    workbook = load_workbook(io.BytesIO(response.data))
    places = list(workbook["Victims by place"].iter_rows(values_only=True))
    assert places[0] == ("country / mission", "supported", "not supported", "total")
    assert places[1] == ("CAF / MINUSCA", "suppressed", "suppressed", "suppressed")
    assert places[-1] == ("total", "suppressed", "suppressed", 9)
    text = client.get("/reports/victims/export.csv").get_data(as_text=True)
    assert "CAR-20" not in text and "suppressed" in text
    assert [e.object_id for e in _exports(app)] == ["victim-support-aggregate"] * 2


def test_fund_statement_page_and_exports(app, client, login, world):
    login(Role.FUND_MANAGER, "")
    page = client.get("/reports/fund?start=2021-01-01&end=2021-12-31").get_data(as_text=True)
    assert 'id="closing-balance"><span class="money">US$5,920.00' in page
    assert "Norway" in page and "NPL" in page and "P1" in page
    assert 'aria-labelledby="fund-by-month-title fund-by-month-desc"' in page
    response = client.get("/reports/fund/export.xlsx?start=2021-01-01&end=2021-12-31")
    workbook = load_workbook(io.BytesIO(response.data))
    sheets = ["Pledges and receipts", "Withheld payments", "Projects", "Partner reports", "By month"]
    assert workbook.sheetnames[1:] == sheets
    summary = list(workbook.worksheets[0].iter_rows(values_only=True))
    assert summary[0] == ("item", "source", "US$")
    assert ("closing fund balance", None, 5920) in summary
    months = list(workbook["By month"].iter_rows(values_only=True))
    assert months[1:] == [("2021-01", 5000, 0), ("2021-02", 2800, 1500), ("2021-03", 0, 380)]
    text = client.get("/reports/fund/export.csv?start=2021-01-01&end=2021-12-31").get_data(as_text=True)
    assert text.count("\ufeff") == 1 and "closing fund balance" in text
    assert [e.object_id for e in _exports(app)] == ["fund-statement"] * 2


def test_unknown_export_format_is_404(client, login):
    login(Role.SENIOR_ADVOCATE, "CAF")
    assert client.get("/reports/victims/export.pdf").status_code == 404


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's one write lock")
@pytest.mark.parametrize(
    "export",
    ["fund/export.xlsx?start=2021-01-01&end=2021-12-31", "claims/export.csv", "member-states/export.xlsx"],
)
def test_an_export_reads_its_figures_without_the_write_lock(app, client, login, world, export):
    login(Role.SENIOR_ADVOCATE, "")
    locked_for_its_audit_row(app, client, f"/reports/{export}")


def test_fund_statement_pdf_renders(app, client, login, world):
    login(Role.AUDITOR, "")
    response = client.get("/reports/fund/export.pdf?start=2021-01-01&end=2021-12-31")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-") and response.data.rstrip().endswith(b"%%EOF")
    assert response.headers["Content-Disposition"].startswith('attachment; filename="fund-statement-')
    text = pdf_text(response.data)
    for expected in (
        "Fund statement, 2021-01-01 to 2021-12-31",
        "closing fund balance",
        "5,920.00",
        "Norway",
        "P1",
    ):
        assert expected in text
    assert [e.detail for e in _exports(app)] == [
        '{"filters": {"end": "2021-12-31", "start": "2021-01-01"}, "format": "pdf", "rows": 21}'
    ]


def test_deidentified_export_for_analysts(app, client, login, world):
    login(Role.ADVOCATE, "CAF")
    first = exported(client, "csv", deidentified=True).get_data(as_text=True)
    again = exported(client, "csv", deidentified=True).get_data(as_text=True)
    assert first == again  # stable ids and offsets: successive exports can be joined
    assert "CAR-" not in first and "MINUSCA" not in first
    rows = csv_rows(first)
    header = rows[0]
    assert header[0] == "pseudonymous id" and "mission" not in header
    assert "registered (month, shifted)" in header and "direct support (USD) band" in header
    assert len(rows) == 1 + 6  # CAR-2020-0003 did not consent to aggregate reporting
    with app.app_context():
        assert pseudonym("CAR-2020-0003") not in first
        shift = date_shift("CAR-2020-0001")
        assert timedelta(days=-30) <= shift <= timedelta(days=30) and shift
        row = next(r for r in rows if r[0] == pseudonym("CAR-2020-0001"))
    assert row[header.index("registered (month, shifted)")] == f"{date(2020, 3, 1) + shift:%Y-%m}"
    bands = {"0", "under 100", "100–499", "500–999", "1,000–2,499", "2,500–4,999", "5,000–9,999"}
    bands |= {"10,000 or more"}
    for name in ("direct support (USD) band", "paid by projects (USD) band"):
        assert {r[header.index(name)] for r in rows[1:]} <= bands
    assert [e.object_id for e in _exports(app)] == ["victim-support-deidentified"] * 2


def test_deidentified_export_is_refused_to_aggregate_roles(client, login, world):
    login(Role.AUDITOR, "")
    assert client.get("/reports/victims/export-deidentified.xlsx").status_code == 403


def test_fund_statement_hides_small_counts_of_victims_from_aggregate_roles(app, client, login, world):
    login(Role.AUDITOR, "")
    response = client.get("/reports/fund/export.xlsx?start=2021-01-01&end=2021-12-31")
    projects = list(load_workbook(io.BytesIO(response.data))["Projects"].iter_rows(values_only=True))
    paid = projects[0].index("victims paid")
    assert projects[1][paid] == "suppressed"  # two victims: fewer than five
    assert "suppressed" in client.get("/reports/fund?start=2021-01-01&end=2021-12-31").get_data(as_text=True)


def test_reports_landing_page_shows_each_role_its_figures(app, client, login, world):
    login(Role.ADVOCATE, "CAF")
    page = client.get("/reports/").get_data(as_text=True)
    assert 'id="summary-victims">7<' in page and 'id="summary-not-supported">3<' in page
    assert 'id="summary-overdue">0<' in page and "summary-fund-balance" not in page

    client.post("/auth/logout")
    login(Role.FUND_MANAGER, "")
    page = client.get("/reports/").get_data(as_text=True)
    assert 'id="summary-victims">9<' in page  # every victim, consent to aggregate reporting or not
    assert 'id="summary-not-supported"><span class="suppressed">suppressed' in page  # 4: small
    assert 'id="summary-fund-balance"><span class="money">US$5,920.00' in page


@pytest.mark.parametrize(
    "path", ["/reports/victims", "/reports/assistance", "/reports/clock", "/reports/claims", "/reports/fund"]
)
def test_stray_parameters_do_not_break_the_links(client, login, world, path):
    login(Role.SENIOR_ADVOCATE, "CAF")
    response = client.get(f"{path}?fmt=x&page=2&year=2020&start=2021-01-01&by=type&evil=%3Cscript%3E")
    assert response.status_code == 200
    assert "evil" not in response.get_data(as_text=True)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    params=st.dictionaries(
        st.sampled_from(["country", "mission", "year", "sex", "minor", "page", "by", "start", "end"]),
        st.text(max_size=60),
        max_size=6,
    ),
    path=st.sampled_from(["/reports/victims", "/reports/assistance", "/reports/clock", "/reports/claims"]),
)
def test_hostile_filters_never_fail(client, login, params, path):
    with client.session_transaction() as session:
        signed_in = "sid" in session
    if not signed_in:
        login(Role.SENIOR_ADVOCATE, "CAF")
    # A NUL anywhere in a request is refused with 400 before any work (PostgreSQL cannot store it);
    # every other hostile value is a form error on the page.
    expected = 400 if any("\x00" in str(value) for value in params.values()) else 200
    response = client.get(path, query_string=params)
    assert response.status_code == expected, (path, params)
    export = "/download.csv" if path == "/reports/victims" else "/export.csv"  # rows: a job's page
    assert client.get(path + export, query_string=params).status_code == expected


@pytest.mark.parametrize("value", ["\x00", "A\x00B", "\u202eABC", "x" * 41, "A\x00B\x00C"])
@pytest.mark.parametrize("name", ["mission", "country"])
def test_control_characters_in_filters(client, login, value, name):
    """PostgreSQL refuses NUL in text: a filter holding one is refused (400), never a 500; other
    control characters are form errors on the page."""
    login(Role.SENIOR_ADVOCATE, "CAF")
    expected = 400 if "\x00" in value else 200
    for path in (
        "/reports/victims",
        "/reports/assistance",
        "/reports/clock",
        "/reports/claims",
        "/reports/fund",
    ):
        assert client.get(path, query_string={name: value}).status_code == expected, (path, name, value)
