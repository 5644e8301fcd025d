"""Large exports stream and show progress: the download page, its token, the JSON it polls, and
the XLSX written to a temporary file and streamed back with its length."""

from __future__ import annotations

import csv
import io
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.conftest import sign_in
from vat.audit import AuditEvent
from vat.auth.models import Role
from vat.db import db
from vat.reports import progress
from vat.reports.deidentify import pseudonym
from vat.reports.exports import blocks, xlsx_file
from vat.reports.views import victims as victim_views


@pytest.fixture(autouse=True)
def own_instance_folder(app, tmp_path):
    """Tokens go to this test's folder, not the checkout's instance folder."""
    app.instance_path = str(tmp_path)


def _page_links(page: str) -> tuple[str, str]:
    download = re.search(r'id="export-link" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    status = re.search(r'data-status-url="([^"]+)"', page).group(1).replace("&amp;", "&")
    return download, status


def test_download_page_starts_the_export_and_reports_its_progress(app, client, login, world):
    login(Role.ADVOCATE, "CAF")
    response = client.get("/reports/victims/download.xlsx", query_string={"year": "2020", "evil": "x"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<progress id="export-bar"' in page
    assert '<script src="/static/export-progress.js" defer></script>' in page
    assert "<script>" not in page  # no inline script (CSP)
    download, status = _page_links(page)
    query = parse_qs(urlsplit(download).query)
    assert urlsplit(download).path == "/reports/victims/export.xlsx"
    assert query["year"] == ["2020"] and "evil" not in query
    token = query["progress"][0]
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", token)
    assert client.get(status).get_json() == {"state": "waiting", "rows": 0, "total": None}

    exported = client.get(download)
    assert exported.status_code == 200
    assert exported.headers["Content-Length"] == str(len(exported.data))
    rows = list(load_workbook(io.BytesIO(exported.data)).active.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["CAR-2020-0001", "CAR-2020-0002", "CAR-2020-0003"]
    assert client.get(status).get_json() == {"state": "finished", "rows": 3, "total": 3}
    assert client.get(status).headers["Cache-Control"] == "no-store"


def test_csv_progress_counts_the_rows_as_they_stream(client, login, world):
    login(Role.SENIOR_ADVOCATE, "CAF")
    download, status = _page_links(client.get("/reports/victims/download.csv").get_data(as_text=True))
    response = client.get(download, buffered=False)
    assert client.get(status).get_json()["state"] == "writing"  # headers sent, no row yet
    text = b"".join(response.response).decode()
    response.close()
    assert len(list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))) == 1 + 7
    assert client.get(status).get_json() == {"state": "finished", "rows": 7, "total": 7}


def test_deidentified_download_streams_pseudonymous_rows_with_progress(app, client, login, world):
    login(Role.ADVOCATE, "CAF")
    page = client.get("/reports/victims/download-deidentified.xlsx").get_data(as_text=True)
    download, status = _page_links(page)
    assert urlsplit(download).path == "/reports/victims/export-deidentified.xlsx"
    exported = client.get(download)
    rows = list(load_workbook(io.BytesIO(exported.data)).active.iter_rows(values_only=True))
    assert rows[0][0] == "pseudonymous id" and len(rows) == 1 + 6  # one did not consent
    with app.app_context():
        assert pseudonym("CAR-2020-0001") in {r[0] for r in rows}
        [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "report.export")).all()
    assert json.loads(event.detail)["rows"] == 6
    assert client.get(status).get_json() == {"state": "finished", "rows": 6, "total": 6}


def test_a_token_answers_only_to_the_user_who_made_it(app, client, login, make_user, world):
    login(Role.ADVOCATE, "CAF")
    download, status = _page_links(client.get("/reports/victims/download.csv").get_data(as_text=True))
    other = app.test_client()
    sign_in(app, other, make_user(Role.SENIOR_ADVOCATE, "CAF"))
    assert other.get(status).get_json() == progress.UNKNOWN
    other.get(download).get_data()  # someone else's token: the export works, the token is untouched
    assert client.get(status).get_json()["state"] == "waiting"


@pytest.mark.parametrize("token", ["", "../../config", "x" * 32 + "/..", "a" * 31, "%00"])
def test_malformed_tokens_read_as_unknown(client, login, token):
    login(Role.ADVOCATE, "CAF")
    assert client.get("/reports/export-progress", query_string={"token": token}).get_json() == {
        "state": "unknown",
        "rows": 0,
        "total": None,
    }


def test_tokens_expire_and_are_cleared(app, client, login, world, monkeypatch):
    user = login(Role.ADVOCATE, "CAF")
    _download, status = _page_links(client.get("/reports/victims/download.csv").get_data(as_text=True))
    monkeypatch.setattr(progress, "LIFETIME_SECONDS", -1)
    assert client.get(status).get_json()["state"] == "unknown"
    with app.test_request_context():
        progress.new_token(user.id)  # making a new token removes the expired ones
        assert len(list(progress._folder().glob("*.json"))) == 1


@pytest.mark.parametrize("role", [Role.FUND_MANAGER, Role.AUDITOR])
def test_aggregate_roles_have_no_download_page(client, login, role):
    login(role, "")
    assert client.get("/reports/victims/download.xlsx").status_code == 403
    assert client.get("/reports/victims/download-deidentified.csv").status_code == 403


def test_unknown_format_on_the_download_page_is_404(client, login):
    login(Role.ADVOCATE, "CAF")
    assert client.get("/reports/victims/download.pdf").status_code == 404


def test_the_report_links_to_the_download_pages(client, login, world):
    login(Role.ADVOCATE, "CAF")
    page = client.get("/reports/victims", query_string={"minor": "yes"}).get_data(as_text=True)
    assert 'href="/reports/victims/download.xlsx?minor=yes"' in page
    assert 'href="/reports/victims/download-deidentified.csv?minor=yes"' in page


def test_xlsx_is_written_to_a_temporary_file_and_streamed_in_blocks():
    handle = xlsx_file([("Rows", ["n", "text"], ([n, "x" * 50] for n in range(5000)))])
    assert handle.tell() == 0 and not isinstance(handle, io.BytesIO)
    data = b"".join(blocks(handle))
    assert handle.closed
    rows = list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    assert len(rows) == 1 + 5000 and rows[-1] == (4999, "x" * 50)


@pytest.mark.parametrize("read_first_block", [True, False])
def test_an_abandoned_xlsx_download_closes_its_file(client, login, world, monkeypatch, read_first_block):
    opened = []

    def recording(sheets):
        opened.append(xlsx_file(sheets))
        return opened[-1]

    monkeypatch.setattr(victim_views, "xlsx_file", recording)
    login(Role.ADVOCATE, "CAF")
    response = client.get("/reports/victims/export.xlsx", buffered=False)
    if read_first_block:
        assert next(iter(response.response)).startswith(b"PK")  # a zip
    assert not opened[0].closed
    response.close()  # the browser went away
    assert opened[0].closed
