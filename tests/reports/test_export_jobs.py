"""The per-victim export as a job (Huey's immediate mode: the job runs inside the POST that starts
it): the start page, the job's page and the JSON it polls, the file handed over once to its owner
only, the audit row, and the direct XLSX stream's temporary file."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.conftest import make_app, sign_in, signed_in_client
from vat import jobs
from vat.audit import AuditEvent
from vat.auth.models import Role
from vat.db import db
from vat.reports.deidentify import pseudonym
from vat.reports.exports import blocks, xlsx_file
from vat.reports.views import victims as victim_views


def _start(client, path: str = "/reports/victims/download.xlsx", **query) -> str:
    """Start an export as the page's button does; the job's page address."""
    page = client.get(path, query_string=query).get_data(as_text=True)
    action = (
        re.search(r'<form method="post" action="([^"]+)" id="start-export"', page)
        .group(1)
        .replace("&amp;", "&")
    )
    response = client.post(action)
    assert response.status_code == 303, response.headers.get("Location")
    return response.headers["Location"]


def test_the_start_page_posts_the_filters_and_the_job_page_polls_its_record(app, client, login, world):
    login(Role.ADVOCATE, "CAF")
    page = client.get("/reports/victims/download.xlsx", query_string={"year": "2020", "evil": "x"})
    text = page.get_data(as_text=True)
    assert 'action="/reports/victims/download.xlsx?year=2020"' in text  # the form's filters only
    job_page = _start(client, year="2020")
    assert re.fullmatch(r"/reports/jobs/[A-Za-z0-9_-]{32}", job_page)
    shown = client.get(job_page).get_data(as_text=True)
    assert '<script src="/static/export-progress.js" defer></script>' in shown
    assert "<script>" not in shown  # no inline script (CSP)
    status = client.get(job_page + "/status")
    assert status.headers["Cache-Control"] == "no-store"
    assert status.get_json() == {
        "state": "finished",
        "rows": 3,
        "total": 3,
        "error": None,
        "file": job_page + "/file",
    }
    exported = client.get(job_page + "/file")
    assert exported.status_code == 200
    assert exported.headers["Content-Length"] == str(len(exported.data))
    assert re.match(
        r'attachment; filename="victim-support-\d{4}-\d\d-\d\d\.xlsx"',
        exported.headers["Content-Disposition"],
    )
    rows = list(load_workbook(io.BytesIO(exported.data)).active.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["CAR-2020-0001", "CAR-2020-0002", "CAR-2020-0003"]


def test_the_file_is_handed_over_once_and_then_deleted(app, client, login, world):
    login(Role.SENIOR_ADVOCATE, "CAF")
    job_page = _start(client, "/reports/victims/download.csv")
    text = client.get(job_page + "/file").get_data(as_text=True)
    assert len(list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))) == 1 + 7
    assert client.get(job_page + "/file").status_code == 404
    assert client.get(job_page + "/status").get_json()["file"] is None
    with app.app_context():
        assert list(jobs.folder().iterdir()) == []


def test_the_export_is_audited_with_its_rows_and_deidentified(app, client, login, world):
    login(Role.ADVOCATE, "CAF")
    job_page = _start(client, "/reports/victims/download-deidentified.xlsx")
    exported = client.get(job_page + "/file")
    assert 'filename="victim-support-deidentified-' in exported.headers["Content-Disposition"]
    rows = list(load_workbook(io.BytesIO(exported.data)).active.iter_rows(values_only=True))
    assert rows[0][0] == "pseudonymous id" and len(rows) == 1 + 6  # one did not consent
    with app.app_context():
        assert pseudonym("CAR-2020-0001") in {r[0] for r in rows}
        [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "report.export")).all()
    assert event.object_id == "victim-support-deidentified"
    assert json.loads(event.detail)["rows"] == 6 and json.loads(event.detail)["format"] == "xlsx"


def test_a_job_answers_only_to_its_owner(app, client, login, make_user, world):
    login(Role.ADVOCATE, "CAF")
    job_page = _start(client)
    other = app.test_client()
    sign_in(app, other, make_user(Role.ADVOCATE, "CAF"))  # same role, same scope
    for suffix in ("", "/status", "/file"):
        assert other.get(job_page + suffix).status_code == 404
    assert client.get(job_page + "/status").get_json()["file"]  # untouched by the other's tries


@pytest.mark.parametrize("job_id", ["A" * 32, "x" * 40, "..%2F..%2Fconfig"])
def test_unknown_jobs_are_404(client, login, job_id):
    login(Role.ADVOCATE, "CAF")
    assert client.get(f"/reports/jobs/{job_id}/status").status_code == 404


def test_a_file_older_than_an_hour_is_gone(app, client, login, world, monkeypatch):
    login(Role.ADVOCATE, "CAF")
    job_page = _start(client, "/reports/victims/download.csv")
    monkeypatch.setattr(jobs, "FILE_LIFETIME", timedelta(seconds=-1))
    assert client.get(job_page + "/status").get_json()["file"] is None
    assert client.get(job_page + "/file").status_code == 404
    with app.app_context():
        jobs.sweep()
        assert list(jobs.folder().iterdir()) == []


def test_starting_an_export_needs_the_csrf_token(database_url, make_user, tmp_path, world):
    app = make_app(database_url, WTF_CSRF_ENABLED=True, VAT_JOBS_FOLDER=str(tmp_path / "jobs"))
    client = signed_in_client(app, make_user(Role.ADVOCATE, "CAF"))
    for path in ("/reports/victims/download.csv", "/reports/victims/download-deidentified.xlsx"):
        assert client.post(path).status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(jobs.Job)) == 0
        db.session.remove()


@pytest.mark.parametrize("role", [Role.FUND_MANAGER, Role.AUDITOR])
def test_aggregate_roles_start_no_export_job(client, login, role):
    login(role, "")
    assert client.get("/reports/victims/download.xlsx").status_code == 403
    assert client.post("/reports/victims/download.xlsx").status_code == 403
    assert client.post("/reports/victims/download-deidentified.csv").status_code == 403


def test_unknown_format_is_404(client, login):
    login(Role.ADVOCATE, "CAF")
    assert client.get("/reports/victims/download.pdf").status_code == 404
    assert client.post("/reports/victims/download.pdf").status_code == 404


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
    login(Role.AUDITOR, "")  # the aggregate tables: still written in the request, then streamed
    response = client.get("/reports/victims/export.xlsx", buffered=False)
    if read_first_block:
        assert next(iter(response.response)).startswith(b"PK")  # a zip
    assert not opened[0].closed
    response.close()  # the browser went away
    assert opened[0].closed
