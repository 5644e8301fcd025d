"""Issue 19, item 9 in a real browser, in English and French: a fund manager finds the import
from the ledger's overview, sends a file with errors and sees every one listed on the import's
page (a job: issue 16, item 2; nothing booked), then sends the corrected file, is told how many
rows were imported and goes on to the ledger."""

from __future__ import annotations

import pytest

from ledger.services import ledger_import
from tests.conftest import browser_user
from vat.auth.models import Role

pytestmark = pytest.mark.browser

HEADER = ",".join(ledger_import.COLUMNS)


def send(page, label: str, button: str, text: str) -> None:
    files = [{"name": "history.csv", "mimeType": "text/csv", "buffer": text.encode()}]
    page.get_by_label(label).set_input_files(files=files)
    page.get_by_role("button", name=button, exact=True).click()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_fund_manager_imports_the_funds_history(app, live_server, page, make_user, language):
    words = browser_user(app, page, live_server, make_user(Role.FUND_MANAGER, ""), language)
    page.goto(f"{live_server}/ledger/")
    page.get_by_role("link", name=words("The fund's history, from a spreadsheet")).click()
    page.get_by_role("heading", name=words("Import the fund's history")).wait_for()
    label, button = words("The fund's history (CSV or XLSX, the template's columns)"), words("Import")

    send(page, label, button, f"{HEADER}\ndonor,,,NOR,,,,,,,,,\npledge,2019-01-05,Nobody,,USD,0,,,,,,,\n")
    page.locator("#errors-table").wait_for()
    rows = page.locator("#errors-table tbody tr")
    assert rows.count() == 2  # the pledge's donor and amount
    assert words("No donor has this name or code (add it on a row above).") in rows.all_inner_texts()[0]
    assert "Nobody" not in page.content()
    page.get_by_text(
        words("Nothing was booked: correct every error below and import the file again.")
    ).wait_for()

    page.get_by_role("link", name=words("Import another file")).click()
    send(page, label, button, f"{HEADER}\ndonor,,,NOR,,,,,,,,,\npledge,2019-01-05,NOR,,USD,500,,,,,,,\n")
    page.get_by_text(words("%(count)s rows imported.", count="2")).wait_for()
    page.get_by_role("link", name=words("Trust fund ledger"), exact=True).click()
    page.get_by_role("heading", name=words("Trust fund ledger")).wait_for()
