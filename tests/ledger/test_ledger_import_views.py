"""The fund's history imported through its page (issue 19, item 9): a fund manager downloads the
template and imports a file; a refused file lists every error (422, nothing booked, no name
repeated) and the same file sent again is refused; other roles get 403; a post without its CSRF
token 400."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from ledger.models import Donor, Pledge
from ledger.services import ledger_import
from vat.auth.models import Role
from vat.db import db

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
    assert response.status_code == 302 and response.headers["Location"].endswith("/ledger/")
    assert "2 rows imported." in client.get("/ledger/").get_data(as_text=True)
    assert booked(app) == [1, 1]
    again = send(client, GOOD)
    assert again.status_code == 422 and "already been imported" in again.get_data(as_text=True)
    assert booked(app) == [1, 1]


def test_a_refused_file_lists_every_error_and_books_nothing(app, client, manager):
    text = f"{HEADER}\ndonor,,,NOR,,,,,,,,,\npledge,2019-01-05,Amina Diallo,,USD,0,,,,,,,\n"
    response = send(client, text)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="errors-table"' in page
    assert page.count("<tr><td>3</td>") == 2  # the donor and the amount of row 3
    assert "Amina" not in page
    assert booked(app) == [0, 0]


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.ADVOCATE, Role.SENIOR_ADVOCATE, Role.ADMIN])
def test_other_roles_cannot_import(app, client, login, role):
    login(role, "" if role in (Role.AUDITOR, Role.ADMIN) else "CAF")
    for page in ("/ledger/import", "/ledger/import/template.csv", "/ledger/import/template.xlsx"):
        assert client.get(page).status_code == 403
    assert send(client, GOOD).status_code == 403
    assert booked(app) == [0, 0]


def test_an_import_without_csrf_token_is_refused(app, csrf_client):
    assert send(csrf_client(Role.FUND_MANAGER, ""), GOOD).status_code == 400
    assert booked(app) == [0, 0]
