"""The claim journey in a real browser: open a claim, refer it, record the member state's reply
and a DNA result, establish paternity, set a support order, record a payment, see the arrears
and the prompt to tell the victim."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.claims.conftest import new_victim
from tests.conftest import browser_sign_in
from vat.auth.models import Role, User
from vat.db import db

pytestmark = pytest.mark.browser


def test_claim_from_report_to_payment(app, live_server, page, make_user):
    user = make_user(Role.ADVOCATE, "CAF")
    with app.app_context():
        advocate = db.session.get(User, user.id)
        secret = advocate.totp_secret
        victim = new_victim(advocate)
        db.session.commit()
        victim_id, case_code = victim.id, victim.case_code

    browser_sign_in(page, live_server, user.username, secret)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Claims").click()
    page.get_by_role("link", name="Open a claim").click()
    page.get_by_label("Victim's case code").fill(case_code.lower())
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"**?victim={victim_id}")
    page.get_by_label("Alleged father's name").fill("Capitaine Exemple")
    page.get_by_label("Service number").fill("SN-42")
    page.get_by_label("Nationality").select_option("PAK")
    page.get_by_label(re.compile("The victim consents")).check()
    page.get_by_role("button", name="Open the claim").click()
    page.get_by_role("heading", name=re.compile(r"Claim PC-\d+")).wait_for()
    claim_url = page.url
    assert "Exemple" not in claim_url
    expect(page.locator("bdi", has_text="Capitaine Exemple")).to_be_visible()

    def step(link: str, fill: dict[str, str] | None = None) -> None:
        page.goto(claim_url)
        page.get_by_role("link", name=link, exact=True).click()
        for label, value in (fill or {}).items():
            field = page.get_by_label(label)
            if field.evaluate("e => e.tagName") == "SELECT":
                field.select_option(value)
            else:
                field.fill(value)
        page.get_by_role("button", name="Record this step").click()
        page.get_by_role("heading", name="Record the update given to the victim").wait_for()

    step("Refer to the member state", {"Reference (note verbale, letter)": "NV/2026/9"})
    page.goto(claim_url)
    assert page.locator("#waiting").inner_text().startswith("Claim waiting on PAK for 0 days")
    page.get_by_role("link", name="Record a reply").click()
    page.get_by_label("Reference").fill("PAK/REPLY/1")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("heading", name=re.compile(r"^Claim PC-\d+")).wait_for()  # back on the claim
    expect(page.locator("#waiting")).to_have_count(0)

    step("Request DNA sampling")
    step("Record samples taken")
    step("Record the DNA result", {"DNA result": "match"})
    step("Record paternity established", {"Established by": "court_decision"})
    step("Record a child-support order", {"Amount per period": "50.00", "Currency (ISO code)": "USD"})

    page.goto(claim_url)
    page.get_by_role("link", name="Record a payment").click()
    page.get_by_label("Amount", exact=True).fill("20.00")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("heading", name="Record the update given to the victim").wait_for()

    page.goto(claim_url)
    assert "Payments" in page.get_by_role("heading", level=1).inner_text()
    arrears = page.locator("#arrears tbody tr").first.inner_text()
    assert re.split(r"\s+", arrears.strip()) == ["USD", "$50.00", "$20.00", "$30.00", "$0.00"]
    prompt = page.locator("#victim-update-prompt")
    expect(prompt).to_be_visible()
    prompt.get_by_role("link", name="Record the update given to the victim").click()
    assert "payments have started" in page.get_by_label("What the victim was told").input_value()
    page.get_by_role("button", name="Save").click()
    page.get_by_role("heading", name=re.compile(r"Claim PC-\d+")).wait_for()
    assert page.locator("#victim-update-prompt").count() == 0
    assert page.get_by_text("Capitaine Exemple").count() == 1


def test_a_claim_opened_during_pregnancy_then_the_child_linked(app, live_server, page, make_user):
    user = make_user(Role.ADVOCATE, "CAF")
    with app.app_context():
        advocate = db.session.get(User, user.id)
        secret = advocate.totp_secret
        victim = new_victim(advocate, children=0)
        db.session.commit()
        victim_id = victim.id
    expected = date.today() + timedelta(days=90)

    browser_sign_in(page, live_server, user.username, secret)
    page.goto(f"{live_server}/vat/victims/{victim_id}")
    page.get_by_role("link", name="Open a paternity claim during pregnancy").click()
    expect(page.locator("#pregnancy-hint")).to_be_visible()
    page.get_by_label(re.compile("Expected birth date")).fill(expected.isoformat())
    page.get_by_label("Nationality").select_option("BGD")
    page.get_by_role("button", name="Open the claim").click()
    page.get_by_role("heading", name=re.compile(r"Claim PC-\d+")).wait_for()
    claim_url = page.url
    assert "Link the child once born" in page.locator("#expecting").inner_text()
    assert "not born yet" in page.locator("#facts-heading + dl").inner_text()

    page.locator("#expecting").get_by_role("link", name="Link the child to the claim").click()
    page.get_by_label(re.compile("date of birth")).fill(date.today().isoformat())
    page.get_by_label("Sex").select_option("female")
    page.get_by_role("button", name="Link").click()
    page.get_by_role("heading", name=re.compile(r"Claim PC-\d+")).wait_for()
    assert page.url.split("#")[0] == claim_url
    assert page.locator("#expecting").count() == 0
    assert "not born yet" not in page.locator("#facts-heading + dl").inner_text()
