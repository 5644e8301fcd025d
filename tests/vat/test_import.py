"""Spreadsheet import: all or nothing with a per-row report, idempotent re-import, CSV and XLSX,
the downloadable template."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from tests.conftest import row_count, sign_in
from tests.upload_jobs import failed_once_its_owner_is_inactive
from tests.vat.big_import import ALLEGATION_COLUMNS, ASSISTANCE_COLUMNS, VICTIM_COLUMNS
from vat import jobs
from vat.allegations.models import Allegation
from vat.auth.models import Role, User
from vat.db import db
from vat.victims import identity, import_rows, importer, service_tally
from vat.victims.models import Assistance, Victim, VictimAllegation


@pytest.fixture
def sheets(today: date) -> dict[str, list[list[Any]]]:
    """A good workbook's sheets, dated relative to the day the test runs."""
    past, later = (today - timedelta(days=60)).isoformat(), (today - timedelta(days=50)).isoformat()
    return {
        "victims": [
            [*VICTIM_COLUMNS],
            ["CAR-2016-0007", "CAF", "MINUSCA", "female", "minor", "Grâce Yakité", "services;contact", past],
            ["CAR-2016-0008", "CAF", "MINUSCA", "unknown", "unknown", "مريم", "", None],
        ],
        "allegations": [
            [*ALLEGATION_COLUMNS],
            ["0399/15", "CAF", "MINUSCA", "military_contingent", "abuse", past, "pending"],
        ],
        "links": [["case_code", "reference"], ["CAR-2016-0007", "0399/15"], ["CAR-2016-0008", "0399/15"]],
        "assistance": [
            [*ASSISTANCE_COLUMNS, "currency"],
            ["CAR-2016-0007", "medical", "", past, later, "in_progress", 120.5, "USD"],
        ],
    }


def workbook(sheets: dict[str, list[list[Any]]]) -> io.BytesIO:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return buffer


def upload(client: FlaskClient, sheets: dict[str, list[list[Any]]]) -> Any:
    """POST the sheets as a workbook to the import form."""
    return client.post(
        "/vat/import",
        data={"kind": "victims", "file": (workbook(sheets), "old.xlsx")},
        content_type="multipart/form-data",
    )


def counts() -> tuple[int, int, int, int]:
    return tuple(  # type: ignore[return-value]
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Victim, Allegation, VictimAllegation, Assistance)
    )


def test_a_good_workbook_imports_and_a_second_import_creates_nothing(
    ctx: Flask, actor: User, sheets: dict[str, list[list[Any]]]
) -> None:
    report = importer.import_file(actor=actor, filename="old.xlsx", stream=workbook(sheets))
    assert report.ok, report.errors
    assert dict(report.created) == {"victims": 2, "allegations": 1, "links": 2, "assistance": 1}
    db.session.commit()
    assert counts() == (2, 1, 2, 1)
    assert service_tally.differences() == []  # the imported service is counted in the same transaction
    victim = identity.find_by_case_code(actor, "CAR-2016-0007")
    assert victim is not None and identity.read_identity(actor=actor, victim=victim)["name"] == "Grâce Yakité"
    assert victim.services[0].cost is not None and str(victim.services[0].cost) == "120.50"
    again = importer.import_file(actor=actor, filename="old.xlsx", stream=workbook(sheets))
    assert again.ok and sum(again.created.values()) == 0 and sum(again.skipped.values()) == 6
    assert counts() == (2, 1, 2, 1)


def test_any_bad_row_imports_nothing_and_names_row_column_and_reason(
    ctx: Flask, actor: User, sheets: dict[str, list[list[Any]]], today: date
) -> None:
    past, later = (today - timedelta(days=60)).isoformat(), (today - timedelta(days=50)).isoformat()
    sheets["victims"].append(["CAR-2016-0009", "CAF", "MINUSCA", "alien", "adult", "X", "", None])
    sheets["victims"].append(["CAR-2016-0010", "SSD", "", "female", "adult", "Y", "", None])
    sheets["assistance"].append(["CAR-2016-0007", "medical", "", later, past, "in_progress", None, None])
    sheets["assistance"].append(
        ["CAR-2016-0008", "legal", "", past, None, "referred", None, None]
    )  # no consent
    report = importer.import_file(actor=actor, filename="bad.xlsx", stream=workbook(sheets))
    assert not report.ok
    found = {(e.sheet, e.row, e.column) for e in report.errors}
    assert found == {
        ("victims", 4, "sex"),
        ("victims", 5, "country_code"),
        ("assistance", 3, "start_date"),
        ("assistance", 4, "status"),
    }
    assert all(e.message for e in report.errors)
    assert counts() == (0, 0, 0, 0)


def test_bad_files_and_headers_are_reported(ctx: Flask, actor: User) -> None:
    cases = [
        ("notes.txt", b"hello", "victims", ("file", 0, "")),
        ("broken.xlsx", b"not a zip", None, ("file", 0, "")),
        ("latin1.csv", "case_code\nCAR-é".encode("latin-1"), "victims", ("file", 0, "")),
        ("x.csv", b"case_code,colour\nA-1,red\n", "victims", ("victims", 1, "country_code")),
    ]
    for name, content, kind, first in cases:
        report = importer.import_file(actor=actor, filename=name, stream=io.BytesIO(content), kind=kind)
        assert not report.ok
        assert (report.errors[0].sheet, report.errors[0].row, report.errors[0].column) == first, name
    report = importer.import_file(
        actor=actor, filename="x.csv", stream=io.BytesIO(b"case_code,colour\nA-1,red\n"), kind="victims"
    )
    assert ("victims", 1, "colour") in {(e.sheet, e.row, e.column) for e in report.errors}


def test_csv_import_in_utf8_with_a_bom(ctx: Flask, actor: User) -> None:
    text = (
        "case_code,country_code,mission,name,date_of_birth\n"
        "DRC-2015-0001,COD,MONUSCO,Ésther Mbuyi,2001-02-03\n"
    )
    report = importer.import_file(
        actor=actor, filename="v.csv", stream=io.BytesIO(("\ufeff" + text).encode()), kind="victims"
    )
    assert report.ok, report.errors
    report = importer.import_file(
        actor=actor,
        filename="v.csv",
        stream=io.BytesIO(b"case_code,country_code,mission\nbad code!,COD,MONUSCO\n"),
        kind="victims",
    )
    assert [(e.row, e.column) for e in report.errors] == [(2, "case_code")]


def test_import_page_and_template(
    app: Flask, client: FlaskClient, login: Callable[..., Any], sheets: dict[str, list[list[Any]]]
) -> None:
    login(Role.ADVOCATE, "CAF")
    template = client.get("/vat/import/template.xlsx")
    assert template.status_code == 200
    book = load_workbook(io.BytesIO(template.data))
    assert book.sheetnames == ["README", "victims", "allegations", "links", "assistance"]
    assert [c.value for c in book["links"][1]] == ["case_code", "reference"]
    response = upload(client, sheets)
    assert response.status_code == 303 and response.location.startswith("/vat/import/jobs/")
    page = client.get(response.location).get_data(as_text=True)
    assert "2 victims" in page and "nothing was imported" not in page
    bad = {"victims": [sheets["victims"][0], ["CAR-2016-0100", "CAF", "", "alien", "", "", "", None]]}
    response = client.post(
        "/vat/import",
        data={"kind": "victims", "file": (workbook(bad), "bad.xlsx")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "nothing was imported" in page and "<td>sex</td>" in page
    assert row_count(app, Victim) == 2


def test_the_import_runs_as_a_job_for_its_owner_only(
    app: Flask,
    client: FlaskClient,
    login: Callable[..., Any],
    make_user: Callable[..., Any],
    sheets: dict[str, list[list[Any]]],
) -> None:
    """The upload is stored (encrypted) and deleted once the worker has read it; the job's
    status counts the rows checked; another advocate gets 404 for the page and its status; a
    file refused as a whole answers 4xx before any job."""
    owner = login(Role.ADVOCATE, "CAF")
    response = upload(client, sheets)
    job_url = response.location
    status = client.get(f"{job_url}/status").get_json()
    assert status == {"state": "finished", "rows": 6, "total": 6, "error": None}
    with app.app_context():
        job = db.session.get(jobs.Job, job_url.rsplit("/", 1)[1])
        assert job is not None and job.owner_id == owner.id and job.kind == "victims-import"
        assert [p.suffix for p in jobs.folder_of(app).joinpath("files").iterdir()] == [".json"]
        assert counts() == (2, 1, 2, 1)
    sign_in(app, client, make_user(Role.ADVOCATE, "CAF"))
    assert client.get(job_url).status_code == 404
    assert client.get(f"{job_url}/status").status_code == 404
    refused = client.post(
        "/vat/import",
        data={"kind": "victims", "file": (io.BytesIO(b"hello"), "notes.txt")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422 and "Upload a .csv or .xlsx file." in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(jobs.Job.id))) == 1


def test_the_import_is_refused_to_other_roles_and_without_csrf(
    app: Flask, client: FlaskClient, login: Callable[..., Any], sheets: dict[str, list[list[Any]]]
) -> None:
    login(Role.FUND_MANAGER, "CAF")
    for method, path in (("get", "/vat/import"), ("post", "/vat/import"), ("get", "/vat/import/jobs/x")):
        assert getattr(client, method)(path).status_code == 403, path
    app.config["WTF_CSRF_ENABLED"] = True
    login(Role.ADVOCATE, "CAF")
    response = upload(client, sheets)
    assert response.status_code == 400
    with app.app_context():
        assert counts() == (0, 0, 0, 0) and db.session.scalar(select(func.count(jobs.Job.id))) == 0


def test_records_changed_while_checking_import_nothing(
    ctx: Flask, actor: User, sheets: dict[str, list[list[Any]]]
) -> None:
    """Between the check and the save, another advocate registers one of the file's case codes:
    the save refuses the whole file."""
    sheets_read = importer.read_file("old.xlsx", workbook(sheets))
    report, plan = importer.check_sheets(actor=actor, sheets=sheets_read)
    assert report.ok
    identity.register_victim(actor=actor, case_code="CAR-2016-0008", country_code="CAF", mission="MINUSCA")
    with pytest.raises(import_rows.RecordsChanged):
        importer.save(actor=actor, report=report, plan=plan)
    db.session.rollback()
    assert counts() == (0, 0, 0, 0)


def test_rows_are_the_same_only_when_the_file_says_so_and_every_skip_is_listed(
    ctx: Flask, actor: User, sheets: dict[str, list[list[Any]]], today: date
) -> None:
    past, later, later_still = ((today - timedelta(days=d)).isoformat() for d in (60, 50, 40))
    header = [*sheets["assistance"][0], "notes", "row_key"]
    first = ["CAR-2016-0007", "medical", "UNFPA", past, later, "in_progress", 120.5, "USD", "first visit", ""]
    sheets["assistance"] = [
        header,
        first,
        # Same victim, type, provider and referral date, other content: another service.
        ["CAR-2016-0007", "medical", "UNFPA", past, later_still, "in_progress", 80, "USD", "second", ""],
        first,  # identical in every column: the same row
        ["CAR-2016-0008", "psychosocial", "", past, None, "referred", None, None, "", "S-1"],
        ["CAR-2016-0008", "psychosocial", "", past, later, "completed", None, None, "", "S-1"],  # same key
    ]
    sheets["victims"][1][6] = "services;contact;referral"  # to be referred to UNFPA
    sheets["victims"][2][6:8] = ["services", past]
    report = importer.import_file(actor=actor, filename="old.xlsx", stream=workbook(sheets))
    assert report.ok, report.errors
    assert report.created["assistance"] == 3
    assert [(s.sheet, s.row, s.reason) for s in report.skipped_rows] == [
        ("assistance", 4, "Row 2 has the same content in every column."),
        ("assistance", 6, "Row 5 has the same row_key."),
    ]
    db.session.commit()
    assert counts() == (2, 1, 2, 3)

    again = importer.import_file(actor=actor, filename="old.xlsx", stream=workbook(sheets))
    assert again.ok and sum(again.created.values()) == 0
    listed = [(s.sheet, s.row) for s in again.skipped_rows]
    assert listed == [
        ("victims", 2),
        ("victims", 3),
        ("allegations", 2),
        ("links", 2),
        ("links", 3),
        *(("assistance", row) for row in range(2, 7)),
    ]
    assert again.rows == len(listed) == sum(again.skipped.values())
    reasons = {(s.sheet, s.row): s.reason for s in again.skipped_rows}
    assert reasons["victims", 2] == "A victim with this case code is already registered."
    assert reasons["assistance", 3] == "A service imported before has the same content in every column."
    assert reasons["assistance", 5] == "A service imported before has the same row_key."
    assert reasons["assistance", 6] == "Row 5 has the same row_key."
    assert counts() == (2, 1, 2, 3)


def test_skipped_rows_are_listed_on_the_page_in_the_readers_language(
    app: Flask, client: FlaskClient, login: Callable[..., Any], sheets: dict[str, list[list[Any]]]
) -> None:
    login(Role.ADVOCATE, "CAF")
    sheets["victims"].append(sheets["victims"][1])
    expectations = {"en": "Row 2 has the same case code.", "fr": "La ligne 2 a le même code de dossier."}
    for language, expected in expectations.items():
        response = client.post(
            "/vat/import",
            data={"kind": "victims", "file": (workbook({"victims": sheets["victims"]}), "v.xlsx")},
            content_type="multipart/form-data",
            headers={"Accept-Language": language},
            follow_redirects=True,
        )
        page = response.get_data(as_text=True)
        assert response.status_code == 200 and expected in page, language
        assert '<td class="num">4</td>' in page


def test_historical_allegations_import_without_false_alarms(ctx: Flask, actor: User) -> None:
    """Issue 17, item 3: an old tracker's allegation without step dates, marked historical, shows
    its steps as not recorded, not overdue; an unrecognised yes/no is refused by name."""
    from vat.allegations import clock
    from vat.allegations.models import Allegation

    text = (
        "reference,country_code,mission,received_on,historical\n"
        "0007/15,COD,MONUSCO,2015-03-02,oui\n"
        "0008/15,COD,MONUSCO,2015-03-09,\n"
    )
    report = importer.import_file(
        actor=actor, filename="a.csv", stream=io.BytesIO(text.encode()), kind="allegations"
    )
    assert report.ok, report.errors
    old = db.session.scalar(select(Allegation).where(Allegation.reference == "0007/15"))
    recent = db.session.scalar(select(Allegation).where(Allegation.reference == "0008/15"))
    assert old.historical and not recent.historical
    assert clock.overdue_steps(old, clock.rules()) == []
    assert clock.overdue_steps(recent, clock.rules()) != []
    bad = "reference,country_code,mission,received_on,historical\n0009/15,COD,MONUSCO,2015-03-02,maybe\n"
    report = importer.import_file(
        actor=actor, filename="b.csv", stream=io.BytesIO(bad.encode()), kind="allegations"
    )
    assert [(e.row, e.column) for e in report.errors] == [(2, "historical")]


def test_two_imports_of_one_file_at_once_save_it_once(
    app: Flask, make_user: Callable[..., Any], sheets: dict[str, list[list[Any]]]
) -> None:
    """Two workers check the same file, then save at the same moment (a barrier between): one
    saves; the other finds the records changed (SQLite: it waits its turn, then compares) or its
    insert refused by a unique key (PostgreSQL: both compared before either committed). Nothing
    is doubled."""
    import threading

    from sqlalchemy.exc import IntegrityError

    user = make_user(Role.ADVOCATE, "CAF")
    content = workbook(sheets).getvalue()
    checked = threading.Barrier(2)
    outcomes: list[str] = []

    def one_worker() -> None:
        with app.test_request_context():
            actor = db.session.get(User, user.id)
            report, plan = importer.check_sheets(
                actor=actor, sheets=importer.read_file("old.xlsx", io.BytesIO(content))
            )
            db.session.rollback()
            checked.wait(timeout=30)
            try:
                importer.save(actor=actor, report=report, plan=plan)
                db.session.commit()
                outcomes.append("saved")
            except (import_rows.RecordsChanged, IntegrityError) as error:
                db.session.rollback()
                outcomes.append(type(error).__name__)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=one_worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(outcomes) == 2 and outcomes.count("saved") == 1, outcomes
    with app.app_context():
        assert counts() == (2, 1, 2, 1)


def test_an_import_whose_owner_lost_the_right_fails_and_its_upload_is_deleted(
    app: Flask, make_user: Callable[..., Any], sheets: dict[str, list[list[Any]]]
) -> None:
    from vat.victims import import_job

    user = make_user(Role.ADVOCATE, "CAF")
    with app.test_request_context():
        owner = db.session.get_one(User, user.id)
        content = workbook(sheets).getvalue()
        error = failed_once_its_owner_is_inactive(
            owner,
            lambda actor: import_job.start(
                actor=actor, filename="old.xlsx", content=content, kind=None, locale="fr"
            ),
            b"CAR-2016",
        )
        assert error == "Only an active advocate may import records." and counts() == (0, 0, 0, 0)
