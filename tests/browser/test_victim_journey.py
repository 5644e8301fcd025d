"""The advocate's journey in a real browser: register a victim, record consents, link an
allegation, refer for medical help and record its completion, log a communication, and see it
all on the victim's timeline."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from babel.dates import format_date

from tests.conftest import browser_sign_in
from vat.allegations import services as allegations
from vat.auth.models import Role, User
from vat.db import db

pytestmark = pytest.mark.browser

NAME = "Nadège Ngaïkoumon نادية"


def day(days_ago: int) -> str:
    return (date.today() - timedelta(days=days_ago)).isoformat()


def test_advocate_registers_refers_informs_and_reads_the_timeline(app, live_server, page, make_user):
    user = make_user(Role.ADVOCATE, "CAF")
    with app.test_request_context():
        advocate = db.session.get(User, user.id)
        secret = advocate.totp_secret
        allegations.create_allegation(
            actor=advocate,
            reference="0399/15",
            country_code="CAF",
            mission="MINUSCA",
            received_on=date.today(),
        )
        db.session.commit()

    browser_sign_in(page, live_server, user.username, secret)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Victims").click()
    page.get_by_role("link", name="Register a victim").click()
    page.get_by_label("Mission or entity").fill("MINUSCA")
    page.get_by_label("Sex").select_option("female")
    page.get_by_label("Name", exact=True).fill(NAME)
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Victim registered as CAR-").wait_for()
    assert page.locator("bdi", has_text=NAME).count() == 1
    victim_url = page.url

    for purpose in ("services", "contact"):
        page.get_by_role("link", name="Record a consent").click()
        page.get_by_label("Purpose").select_option(purpose)
        page.get_by_label("Given on").fill(day(3))
        page.get_by_role("button", name="Save").click()
        page.get_by_text("Consent recorded.").wait_for()

    page.get_by_label("Link to allegation").fill("0399/15")
    page.get_by_role("button", name="Link", exact=True).click()
    page.get_by_text("Linked to allegation 0399/15.").wait_for()

    page.get_by_role("link", name="Record a service").click()
    page.get_by_label("Service").select_option("medical")
    page.get_by_label("Referral date").fill(day(2))
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Service recorded.").wait_for()
    page.get_by_role("link", name="Update", exact=True).first.click()
    page.get_by_label("Status").select_option("completed")
    page.get_by_label("Start").fill(day(2))
    page.get_by_label("End").fill(day(1))
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Service updated.").wait_for()

    page.get_by_role("link", name="Record a communication").click()
    page.get_by_label("Date", exact=True).fill(day(0))
    page.get_by_label("Channel").select_option("in_person")
    page.get_by_label("Summary").fill("Explained the medical follow-up in Sango.")
    page.get_by_label("A case update was given").check()
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Communication recorded.").wait_for()

    assert page.url.startswith(victim_url)
    timeline = page.locator("ol.timeline")
    for text in (
        "Contact by in person — case update given",
        "Medical help ended",
        "Medical help started",
        "Referred for medical help",
        "Allegation 0399/15: received",
        "Case registered",
    ):
        assert timeline.get_by_text(text).count() >= 1, text
    entries = timeline.locator("li").all_inner_texts()
    assert "Contact by in person" in entries[0]  # the newest first, dated the reader's way
    assert timeline.locator("li time").first.get_attribute("datetime") == day(0)
    assert entries[0].startswith(format_date(date.today(), "medium", locale="en"))
    assert NAME not in page.url
