"""Journeys in a real browser for the auditor and the senior advocate: sign in, read the figures
their dashboard opens with, open a report and export it; the senior advocate also downloads a
victim's shared file, which asks for a fresh sign-in first. (The fund manager's and the
advocate's journeys are in tests/reports/test_browser.py.) Data: the reports' hand-built world."""

from __future__ import annotations

import csv
import time
from datetime import date, timedelta
from pathlib import Path

import pyotp
import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlalchemy import select

from tests.conftest import PASSWORD, browser_sign_in
from tests.reports.conftest import world  # noqa: F401 (the data set, a fixture)
from tests.vat.conftest import register, share
from vat.auth.models import Role, User, UserSession
from vat.db import db
from vat.reports.support import support_header
from vat.reports.views.fund import FUND_SHEETS
from vat.victims import consents

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("world")]


def _download(page, link, folder: Path) -> Path:
    with page.expect_download() as download:
        link.click()
    path = folder / download.value.suggested_filename
    download.value.save_as(path)
    return path


def _csv_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))


def test_auditor_reads_the_fund_on_the_dashboard_and_exports_the_statement(
    app, live_server, page, make_user, tmp_path
):
    auditor = make_user(Role.AUDITOR, "")
    browser_sign_in(page, live_server, auditor.username)
    assert page.locator("#summary-fund-balance").inner_text() == "US$5,920.00"
    expect(page.locator("#summary-victims")).to_be_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    page.get_by_role("link", name="Fund statement").click()
    page.get_by_label("From", exact=True).fill("2021-01-01")
    page.get_by_label("To", exact=True).fill("2021-12-31")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**end=2021-12-31**")
    expect(page.get_by_role("img", name="Income and spending by month")).to_be_visible()

    path = _download(page, page.get_by_role("link", name="CSV", exact=True), tmp_path)
    assert path.name.startswith("fund-statement-")
    rows = _csv_rows(path)
    assert rows[0] == ["section", *FUND_SHEETS["summary"]]
    assert ["closing fund balance", "", "5920.00"] in [row[1:] for row in rows]


def _victim_with_a_share(app, advocate_id: int) -> int:
    """A CAF victim who consented to a referral to IRC, and the share of her file with IRC."""
    with app.test_request_context():
        actor = db.session.get(User, advocate_id)
        victim = register(
            actor, consents=[], sex="female", name="Prisca Journey", registered_on=date(2022, 5, 2)
        )
        consents.record_consent(
            actor=actor,
            victim=victim,
            purpose="referral",
            recipient="IRC",
            given_on=date(2022, 5, 2),
            method="written",
            version="1",
        )
        share(actor, victim, "IRC", "medical follow-up", on=date(2022, 5, 3))
        db.session.commit()
        return victim.id


def _age_thebrowser_sign_in(app, user_id: int, minutes: int) -> None:
    with app.app_context():
        for row in db.session.scalars(select(UserSession).where(UserSession.user_id == user_id)):
            row.authenticated_at -= timedelta(minutes=minutes)
        db.session.commit()


def test_senior_advocate_exports_the_support_report_and_a_shared_file_after_a_freshbrowser_sign_in(
    app, live_server, page, make_user, tmp_path
):
    senior = make_user(Role.SENIOR_ADVOCATE, "CAF")
    with app.app_context():
        secret = db.session.get(User, senior.id).totp_secret
    victim_id = _victim_with_a_share(app, senior.id)
    browser_sign_in(page, live_server, senior.username, secret)
    assert page.locator("#summary-victims").inner_text() == "8"  # the world's 7 in CAF, and hers
    expect(page.locator("#summary-not-supported")).to_be_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    page.get_by_role("link", name="Per-victim support").click()
    page.get_by_label("Year registered").fill("2020")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#victims-total")).to_have_text("3")  # the filtered page's, once it is there
    page.get_by_role("link", name="CSV", exact=True).click()  # the page that starts the export job
    rows = _csv_rows(_download(page, page.get_by_role("button", name="Prepare the file"), tmp_path))
    with app.app_context():
        assert rows[0] == support_header()
    assert sorted(row[0] for row in rows[1:]) == ["CAR-2020-0001", "CAR-2020-0002", "CAR-2020-0003"]

    _age_thebrowser_sign_in(app, senior.id, minutes=app.config["VAT_FRESH_MINUTES"] + 1)
    page.goto(f"{live_server}/vat/victims/{victim_id}")
    page.get_by_role("button", name="Download the shared file").click()
    page.get_by_role("heading", name="Confirm it is you").wait_for()
    page.get_by_label("Password").fill(PASSWORD)
    next_code = pyotp.TOTP(secret).at(time.time() + 30)  # the sign-in used this step's code, once
    page.get_by_label("Code from your authenticator app (if enrolled)").fill(next_code)
    page.get_by_role("button", name="Confirm").click()
    shared = _download(page, page.get_by_role("button", name="Download the shared file"), tmp_path)
    sheet = load_workbook(shared)["victim"]
    facts = dict(sheet.iter_rows(min_row=2, values_only=True))
    assert next(sheet.iter_rows(max_row=1, values_only=True)) == ("field", "value")
    assert facts["name"] == "Prisca Journey" and facts["shared with"] == "IRC (provider)"
