"""Journeys in a real browser: a fund manager and an advocate reach their reports from the
navigation, read them (no CSP violation: the charts need no script and no inline style) and
download an export."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.conftest import browser_sign_in
from vat.auth.models import Role, User
from vat.db import db

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("VAT_REPORT_SCREENSHOTS")  # a folder, to look at the pages by eye


def _watch_console(page) -> list[str]:
    problems: list[str] = []

    def note(message) -> None:
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            problems.append(f"{message.text} ({message.location.get('url')})")

    page.on("console", note)
    return problems


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def test_fund_manager_reads_the_fund_statement_and_downloads_it(
    app, live_server, page, make_user, world, tmp_path
):
    manager = make_user(Role.FUND_MANAGER, "")
    problems = _watch_console(page)
    browser_sign_in(page, live_server, manager.username)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    expect(page.locator("#summary-fund-balance")).to_have_text("US$5,920.00")
    _shot(page, "index")
    page.get_by_role("link", name="Per-victim support").click()
    page.get_by_role("heading", name="Per-victim support (aggregate)").wait_for()
    assert "CAR-20" not in page.content()
    _shot(page, "victims-aggregate")
    page.goto(f"{live_server}/reports/fund?start=2021-01-01&end=2021-12-31")
    chart = page.get_by_role("img", name="Income and spending by month")
    expect(chart).to_be_visible()
    assert (
        page.locator("svg.chart rect.bar.series-1").first.evaluate("e => getComputedStyle(e).fill")
        != "rgb(0, 0, 0)"
    )
    _shot(page, "fund")
    with page.expect_download() as download:
        page.get_by_role("link", name="Excel (XLSX)", exact=True).click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name.startswith("fund-statement-")
    assert "Projects" in load_workbook(path).sheetnames
    assert problems == []


def test_advocate_reads_the_per_victim_report_and_downloads_csv(
    app, live_server, page, make_user, world, tmp_path
):
    advocate = make_user(Role.ADVOCATE, "CAF")
    with app.app_context():
        secret = db.session.get(User, advocate.id).totp_secret
    problems = _watch_console(page)
    browser_sign_in(page, live_server, advocate.username, secret)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    page.get_by_role("link", name="Per-victim support").click()
    page.get_by_label("Year registered").fill("2020")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#victims-total")).to_have_text("3")  # the filtered page's, once it is there
    assert "66.7%" in page.locator("#not-supported-share").inner_text()
    _shot(page, "victims")
    page.get_by_role("link", name="CSV", exact=True).click()  # the page that starts the export job
    with page.expect_download() as download:
        page.get_by_role("button", name="Prepare the file").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 1 + 3
    # the job's page: its script polled the job's record, then fetched the file once
    page.locator("#export-status", has_text="ready").wait_for()
    assert page.locator("#export-bar").evaluate("bar => [bar.value, bar.max]") == [1, 1]
    _shot(page, "download")
    page.goto(f"{live_server}/reports/assistance")
    _shot(page, "assistance")
    page.goto(f"{live_server}/reports/clock")
    _shot(page, "clock")
    assert problems == []
