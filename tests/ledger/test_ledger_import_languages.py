"""Issue 19, item 1 on the ledger's import: its page, its template, its job's progress, outcome
and failure, and every kind of refusal of its rows (cells, services, the posting engine, a file
imported twice) read in French and in Chinese hold no English sentence of ours
(`tests.english_left`)."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook

from ledger.services import ledger_import, months
from tests.conftest import make_app, sign_in
from tests.english_left import english_left, shown_text
from vat.auth.models import Role, User
from vat.db import db

HEADER = ",".join(ledger_import.COLUMNS)
HISTORY = [
    "donor,,,NOR,,,,,,,,,",
    "pledge,2019-01-05,NOR,,USD,1000,LTR-1,,,,,,",
    "withholding,2019-03-01,,ZAF,USD,400,,,,,0402/17,DEC-9,MONUSCO",
]
# One refusal of each kind: the row's cells, the names it gives, the services and the engine.
REFUSED = [
    "gift,2019-01-05,NOR,,USD,10,,,,,,,",  # an unknown kind
    "donor,,,FRA,,5,,,,,,,",  # a cell its kind does not read
    "pledge,2019-01-05,NOR,,,10,,,,,,,",  # a required cell empty
    "pledge,2019-01-05,NOR,,QQQ,10,,,,,,,",  # not a currency
    "pledge,2999-01-05,NOR,,USD,10,,,,,,,",  # a date to come
    "pledge,2019-01-05,NOR,,USD,1.234,,,,,,,",  # too many decimals
    "pledge,2019-01-05,Nobody,,USD,10,,,,,,,",  # an unknown donor
    "receipt,2019-02-11,NOR,,USD,10,BANK-1,LTR-9,,,,,",  # an unknown pledge
    "receipt,2019-02-11,NOR,,NOK,10,BANK-2,,7.1,,,,",  # a rate that is not the month's
    "receipt,2019-04-11,NOR,,NOK,10,BANK-3,,,,,,",  # no rate for the month
    "receipt,2018-12-11,NOR,,USD,10,BANK-4,,,,,,",  # a closed month
    "withholding,2019-03-01,,QQ,USD,40,,,,,0403/17,,",  # not a country
    "transfer,2019-04-02,,,,15000,TRF-1,,,,0402/17,,",  # more than was withheld
    "transfer,2019-04-02,,,,10,TRF-2,,,,9999/17,,",  # no such withholding
]


def csv(*rows: str) -> dict[str, Any]:
    return {"file": (io.BytesIO(("\n".join([HEADER, *rows]) + "\n").encode()), "history.csv")}


def send(client: Any, *rows: str) -> Any:
    return client.post("/ledger/import", data=csv(*rows), content_type="multipart/form-data")


def speaking(app: Any, client: Any, make_user: Any, language: str) -> User:
    made = make_user(Role.FUND_MANAGER, "")
    with app.app_context():
        user = db.session.get_one(User, made.id)
        user.language = language
        db.session.commit()
    sign_in(app, client, made)
    return user


def assert_no_english(text: str, language: str, where: str) -> None:
    assert english_left(text, language) == [], where


@pytest.mark.parametrize("language", ["fr", "zh"])
def test_the_import_reads_in_the_users_language(app, client, make_user, language):
    user = speaking(app, client, make_user, language)
    page = client.get("/ledger/import").get_data(as_text=True)
    assert_no_english(shown_text(page), language, "the import page")
    book = load_workbook(io.BytesIO(client.get("/ledger/import/template.xlsx").data))
    readme = "\n".join(str(cell.value) for row in book["readme"].iter_rows() for cell in row)
    assert_no_english(readme, language, "the template's readme sheet")

    done = send(client, *HISTORY)
    page = client.get(done.location).get_data(as_text=True)
    assert 'id="import-counts"' in page
    assert_no_english(shown_text(page), language, "an import done")
    again = send(client, *HISTORY)
    assert again.status_code == 422
    assert_no_english(shown_text(again.get_data(as_text=True)), language, "a file imported twice")

    with app.app_context():
        checker = make_user(Role.FUND_MANAGER, "")
        months.confirm_rate(
            actor=db.session.get_one(User, checker.id),
            rate=months.set_rate(
                actor=db.session.get_one(User, user.id),
                currency="NOK",
                month=date(2019, 2, 1),
                rate=Decimal("8.6"),
                source="test",
                reason="test",
            ),
        )
        months.close_period(actor=db.session.get_one(User, user.id), month=date(2018, 12, 1))
        db.session.commit()
    refused = send(client, *REFUSED)
    page = client.get(refused.location).get_data(as_text=True)
    assert page.count("<tr><td>") == len(REFUSED), page  # every row refused, in one answer
    assert_no_english(shown_text(page), language, "the rows refused")


@pytest.mark.parametrize("language", ["fr", "zh"])
def test_the_import_jobs_progress_and_failure_read_in_the_users_language(
    database_url, tmp_path, make_user, monkeypatch, language
):
    queued = make_app(database_url, VAT_JOBS_IMMEDIATE=False, VAT_JOBS_FOLDER=str(tmp_path / "jobs"))
    client = queued.test_client()
    speaking(queued, client, make_user, language)
    waiting = send(client, *HISTORY)
    page = client.get(waiting.location).get_data(as_text=True)
    assert 'id="export-progress"' in page
    assert_no_english(shown_text(page), language, "an import waiting for its worker")
    from vat import jobs

    with queued.app_context():
        monkeypatch.setattr(ledger_import, "import_ledger", lambda **kwargs: 1 / 0)
        jobs.execute(waiting.location.rsplit("/", 1)[1], {"suffix": ".csv", "locale": language})
    page = client.get(waiting.location).get_data(as_text=True)
    assert 'class="flash flash-error"' in page
    assert_no_english(shown_text(page), language, "an import that failed")
    status = client.get(f"{waiting.location}/status").get_json()
    assert status["state"] == "failed"
    assert_no_english(status["error"], language, "a failed import's status")


def test_the_check_finds_english(app, client, make_user):
    """The check itself: an English sentence of ours, and in Chinese any Latin sentence."""
    assert english_left("Rien. Nothing was booked. Fin.", "fr") == ["Nothing was booked"]
    assert english_left("没有 the disk went away", "zh") == ["the disk went away"]
    assert english_left("NOR USD pledge_reference ISO 4217 LTR-1", "zh") == []
