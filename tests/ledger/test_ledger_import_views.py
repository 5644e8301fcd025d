"""The fund's history imported through its page (issue 19, item 9), as a job (issue 16, item 2):
a fund manager downloads the template and imports a file, followed on the job's page; a refused
file lists every error there (nothing booked, no name repeated); the same file sent again is
refused at once, and by the job when two are queued (and by the schema without the lookup); a
job that crashes, whose worker died or whose owner lost the right reads as failed; other roles
get 403, another fund manager 404; a post without its CSRF token 400."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from ledger import engine
from ledger.models import Donor, Pledge
from ledger.services import ledger_import, ledger_import_job
from tests.conftest import sign_in
from tests.upload_jobs import failed_once_its_owner_is_inactive
from vat import jobs
from vat.auth.models import Role, User
from vat.db import db, utcnow

HEADER = ",".join(ledger_import.COLUMNS)
GOOD = f"{HEADER}\ndonor,,,NOR,,,,,,,,,\npledge,2019-01-05,NOR,,USD,1000,LTR-1,,,,,,\n"


def upload(text: str, name: str = "history.csv") -> dict[str, Any]:
    return {"file": (io.BytesIO(text.encode()), name)}


def send(client: Any, text: str) -> Any:
    return client.post("/ledger/import", data=upload(text), content_type="multipart/form-data")


def booked(app) -> list[int]:
    with app.app_context():
        return [db.session.scalar(select(func.count(m.id))) or 0 for m in (Donor, Pledge)]


def test_a_fund_manager_imports_the_history(app, client, manager):
    page = client.get("/ledger/import").get_data(as_text=True)
    assert "pledge_reference" in page and "/ledger/import/template.xlsx" in page
    assert "/ledger/import" in client.get("/ledger/").get_data(as_text=True)
    template = client.get("/ledger/import/template.csv")
    assert template.status_code == 200 and template.get_data(as_text=True).strip() == HEADER
    book = load_workbook(io.BytesIO(client.get("/ledger/import/template.xlsx").data))
    assert [c.value for c in book.worksheets[0][1]] == list(ledger_import.COLUMNS)
    response = send(client, GOOD)
    assert response.status_code == 303 and response.location.startswith("/ledger/import/jobs/")
    status = client.get(f"{response.location}/status").get_json()
    assert status == {"state": "finished", "rows": 2, "total": 2, "error": None}
    page = client.get(response.location).get_data(as_text=True)
    assert "2 rows imported." in page and 'id="import-counts"' in page and 'href="/ledger/"' in page
    assert booked(app) == [1, 1]
    with app.app_context():
        assert [p.suffix for p in jobs.folder_of(app).joinpath("files").iterdir()] == [".json"]
    again = send(client, GOOD)
    assert again.status_code == 422 and "already been imported" in again.get_data(as_text=True)
    assert booked(app) == [1, 1]


def test_a_refused_file_lists_every_error_and_books_nothing(app, client, manager):
    text = f"{HEADER}\ndonor,,,NOR,,,,,,,,,\npledge,2019-01-05,Amina Diallo,,USD,0,,,,,,,\n"
    response = send(client, text)
    assert response.status_code == 303
    page = client.get(response.location).get_data(as_text=True)
    assert 'id="errors-table"' in page and "Nothing was booked" in page
    assert page.count("<tr><td>3</td>") == 2  # the donor and the amount of row 3
    assert "Amina" not in page
    assert booked(app) == [0, 0]


def test_the_job_checks_every_rows_cells_before_it_takes_the_ledgers_lock(app, client, manager, monkeypatch):
    # Other writers wait for the lock (on SQLite, for the job's write transaction): the cells,
    # which need no ledger state, are read and checked before it, outside any transaction, and a
    # refused cell is still reported with the rest of the file's errors.
    seen: list[tuple[str, bool]] = []
    cells, lock = ledger_import._cells, engine.lock

    def checking(number: int, row: dict[str, Any]) -> Any:
        seen.append(("cells", db.session().in_transaction()))
        return cells(number, row)

    def locking() -> None:
        seen.append(("lock", db.session().in_transaction()))
        lock()

    monkeypatch.setattr(ledger_import, "_cells", checking)
    monkeypatch.setattr(engine, "lock", locking)
    text = f"{HEADER}\ndonor,,,NOR,,,,,,,,,\npledge,2019-01-05,Amina Diallo,,USD,0,,,,,,,\n"
    page = client.get(send(client, text).location).get_data(as_text=True)
    assert seen == [("cells", False), ("cells", False), ("lock", True)]
    assert page.count("<tr><td>3</td>") == 2  # the amount (its cell) and the donor (the ledger)
    assert booked(app) == [0, 0]


def test_a_file_that_cannot_be_read_is_refused_before_any_job(app, client, manager):
    response = send(client, "kind,colour\ndonor,red\n")
    assert response.status_code == 422 and "Column 2 is not one of the template" in response.get_data(
        as_text=True
    )
    with app.app_context():
        assert db.session.scalar(select(func.count(jobs.Job.id))) == 0


def _queue_twice(app, manager, text: str = GOOD) -> list[str]:
    """The same file queued twice before either runs (two uploads past the page's check)."""
    with app.test_request_context():
        owner = db.session.get_one(User, manager.id)
        started = [
            ledger_import_job.start(actor=owner, filename="h.csv", content=text.encode(), locale="en")
            for _ in range(2)
        ]
        db.session.commit()
        for job, params in started:
            jobs.enqueue(job.id, params)
        return [job.id for job, _params in started]


def test_the_same_file_queued_twice_is_booked_once(app, client, manager):
    first, second = _queue_twice(app, manager)
    assert "2 rows imported." in client.get(f"/ledger/import/jobs/{first}").get_data(as_text=True)
    page = client.get(f"/ledger/import/jobs/{second}").get_data(as_text=True)
    assert "This file has already been imported: nothing was booked again." in page
    assert booked(app) == [1, 1]


def test_without_the_lookup_the_schema_still_books_a_file_once(app, client, manager, monkeypatch):
    # Pledges only: the second run's rows are answered by their keys with the first's pledges
    # (a donor's row would be refused as a duplicate instead, hiding what the schema does).
    assert send(client, f"{HEADER}\ndonor,,,NOR,,,,,,,,,\n").status_code == 303
    monkeypatch.setattr(ledger_import, "already_imported", lambda digest: False)
    pledges = f"{HEADER}\npledge,2019-01-05,NOR,,USD,1000,LTR-1,,,,,,\npledge,2019-01-06,NOR,,USD,9,,,,,,,\n"
    first, second = _queue_twice(app, manager, pledges)
    assert "2 rows imported." in client.get(f"/ledger/import/jobs/{first}").get_data(as_text=True)
    page = client.get(f"/ledger/import/jobs/{second}").get_data(as_text=True)
    assert "This file has already been imported: nothing was booked again." in page
    assert booked(app) == [1, 2]


def test_a_job_that_crashes_reads_as_failed_and_books_nothing(app, client, manager, monkeypatch):
    def crash(**kwargs: Any) -> None:
        raise RuntimeError("the disk went away")

    monkeypatch.setattr(ledger_import, "import_ledger", crash)
    response = send(client, GOOD)
    page = client.get(response.location).get_data(as_text=True)
    assert "The job failed; nothing was kept. Start it again." in page and "Nothing was booked." in page
    assert client.get(f"{response.location}/status").get_json()["state"] == "failed"
    assert booked(app) == [0, 0]
    with app.app_context():  # the upload goes with the job
        assert not list(jobs.folder_of(app).joinpath("files").glob("*.upload"))


def test_a_job_whose_worker_died_reads_as_failed_not_running(app, client, manager):
    response = send(client, GOOD)
    with app.app_context():  # as a worker killed mid-booking for the last time leaves it
        stale = utcnow() - timedelta(minutes=10)
        values = {"state": "running", "heartbeat_at": stale, "attempts": jobs.MAX_ATTEMPTS}
        db.session.execute(update(jobs.Job).values(**values))
        db.session.commit()
    assert client.get(f"{response.location}/status").get_json()["state"] == "failed"
    page = client.get(response.location).get_data(as_text=True)
    assert "Interrupted; start it again." in page and "export-progress" not in page


def test_another_fund_manager_cannot_follow_the_import(app, client, manager, make_user):
    response = send(client, GOOD)
    sign_in(app, client, make_user(Role.FUND_MANAGER, ""))
    assert client.get(response.location).status_code == 404
    assert client.get(f"{response.location}/status").status_code == 404


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.ADVOCATE, Role.SENIOR_ADVOCATE, Role.ADMIN])
def test_other_roles_cannot_import(app, client, login, role):
    login(role, "" if role in (Role.AUDITOR, Role.ADMIN) else "CAF")
    pages = ("/ledger/import", "/ledger/import/template.csv", "/ledger/import/template.xlsx")
    for page in (*pages, "/ledger/import/jobs/x", "/ledger/import/jobs/x/status"):
        assert client.get(page).status_code == 403
    assert send(client, GOOD).status_code == 403
    assert booked(app) == [0, 0]


def test_an_import_without_csrf_token_is_refused(app, csrf_client):
    assert send(csrf_client(Role.FUND_MANAGER, ""), GOOD).status_code == 400
    assert booked(app) == [0, 0]
    with app.app_context():
        assert db.session.scalar(select(func.count(jobs.Job.id))) == 0


def test_an_import_whose_owner_lost_the_right_fails_and_books_nothing(app, manager):
    with app.test_request_context():
        owner = db.session.get_one(User, manager.id)
        error = failed_once_its_owner_is_inactive(
            owner,
            lambda actor: ledger_import_job.start(
                actor=actor, filename="h.csv", content=GOOD.encode(), locale="fr"
            ),
            b"NOR",
        )
        assert error == "Only an active fund manager may import the fund's history."
    assert booked(app) == [0, 0]
