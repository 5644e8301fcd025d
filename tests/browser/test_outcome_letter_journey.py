"""The right to be informed in a real browser, in English and in French: an outcome is recorded,
the victim page shows it to tell with its deadline, the advocate downloads the letter (a PDF in the
chosen language) and records when, how and by whom the victim was told."""

from __future__ import annotations

from datetime import date

import pytest

from tests.conftest import browser_user
from tests.vat.conftest import register
from tests.vat.test_outcome_letters import substantiated
from vat.auth.models import Role, User
from vat.db import db

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("language", ["en", "fr"])
def test_download_the_outcome_letter_and_record_telling_the_victim(
    app, live_server, page, make_user, language
):
    user = make_user(Role.ADVOCATE, "CAF")
    with app.test_request_context():
        advocate = db.session.get_one(User, user.id)
        victim = register(advocate, name="Amina Letterwoman")
        substantiated(advocate, victim, reference="31/26")
        victim_id = victim.id
        db.session.commit()
    words = browser_user(app, page, live_server, user, language)
    page.goto(f"{live_server}/vat/victims/{victim_id}")
    outcomes = page.locator("#outcomes-table")
    assert outcomes.get_by_text(words("not yet")).count() == 1
    outcomes.get_by_role("link", name=words("Letter")).click()
    page.get_by_role(
        "heading", name=words("Tell the victim the outcome of allegation %(reference)s", reference="31/26")
    ).wait_for()
    assert page.locator("#letter-due").inner_text().strip()
    page.select_option("select[name=language]", language)
    with page.expect_download() as download:
        page.get_by_role("button", name=words("Download the letter (PDF)")).click()
    saved = download.value
    assert saved.suggested_filename.endswith(f"-{language}.pdf")
    assert "Letterwoman" not in saved.url and "Letterwoman" not in saved.suggested_filename
    with open(saved.path(), "rb") as pdf:
        assert pdf.read(4) == b"%PDF"

    page.get_by_role("link", name=words("Record when, how and by whom the victim was told")).click()
    page.fill("input[name=occurred_on]", date.today().isoformat())
    page.select_option("select[name=channel]", "in_person")
    page.fill("input[name=by_whom]", "VRA Bangui")
    page.get_by_role("button", name=words("Save")).click()
    page.get_by_text(words("Communication recorded.")).wait_for()
    outcomes = page.locator("#outcomes-table")
    assert outcomes.get_by_text("VRA Bangui", exact=False).count() == 1
    assert outcomes.get_by_text(words("not yet")).count() == 0
