"""Forms on the user's side in a real browser, in English and in French (issue 19, item 6):
recording a service without the victim's consents names both at once, each with a link that
records it; after each the user is back on the service form with what they typed, and the
service is recorded once both consents are. A communication without the consent to contact goes
the same way."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.conftest import browser_user
from tests.vat.conftest import register
from vat.auth.models import Role, User
from vat.db import db

pytestmark = pytest.mark.browser

NOTE = "Douleurs depuis mars"


def _open_form(app, live_server, page, make_user, language, form):
    """A victim with no consent, an advocate signed in in `language`, and the victim's `form`
    (assistance, communications) open: (words in that language, the victim's id, the form's URL)."""
    user = make_user(Role.ADVOCATE, "CAF")
    with app.test_request_context():
        victim_id = register(db.session.get(User, user.id), consents=[]).id
        db.session.commit()
    words = browser_user(app, page, live_server, user, language)
    form_url = f"{live_server}/vat/victims/{victim_id}/{form}/new"
    page.goto(form_url)
    return words, victim_id, form_url


def _record_the_consent(page, words, form_url, typed, purpose=None):
    """On the consent form a "Record this consent" link opened (none of what was `typed` in its
    URL, the `purpose` chosen if given): record it, and be back on the form at `form_url`."""
    page.wait_for_url(lambda url: "/consents/new" in url)
    assert all(text not in page.url for text in typed)
    if purpose is not None:
        assert page.input_value("select[name=purpose]") == purpose
    page.fill("input[name=given_on]", (date.today() - timedelta(days=3)).isoformat())
    page.locator("main form button[type=submit]").click()
    page.get_by_text(words("Consent recorded.")).wait_for()
    assert page.url.startswith(form_url)  # back on the form, as typed


@pytest.mark.parametrize("language", ["en", "fr"])
def test_missing_consents_are_recorded_and_the_service_comes_back(
    app, live_server, page, make_user, language
):
    words, victim_id, form_url = _open_form(app, live_server, page, make_user, language, "assistance")
    page.select_option("select[name=service_type]", "medical")
    page.fill("input[name=provider]", "Clinique Espoir")
    page.select_option("select[name=status]", "in_progress")
    page.fill("input[name=start_date]", (date.today() - timedelta(days=2)).isoformat())
    page.fill("textarea[name=notes]", NOTE)
    page.locator("main form button[type=submit]").click()

    needed = page.get_by_role("region", name=words("Consent needed"))
    needed.wait_for()
    links = needed.get_by_role("link", name=words("Record this consent"))
    assert links.count() == 2  # both consents at once
    assert NOTE not in page.url
    for remaining in (2, 1):
        assert links.count() == remaining
        links.first.click()
        _record_the_consent(page, words, form_url, typed=("Clinique", NOTE))
        assert page.input_value("textarea[name=notes]") == NOTE
        assert page.input_value("input[name=provider]") == "Clinique Espoir"
        page.locator("main form button[type=submit]").click()
        if remaining == 2:
            needed.wait_for()
    page.get_by_text(words("Service recorded.")).wait_for()
    assert f"/vat/victims/{victim_id}" in page.url


SUMMARY = "Appel sur la suite du dossier"


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_communication_without_consent_comes_back_once_it_is_recorded(
    app, live_server, page, make_user, language
):
    words, victim_id, form_url = _open_form(app, live_server, page, make_user, language, "communications")
    page.fill("input[name=occurred_on]", (date.today() - timedelta(days=1)).isoformat())
    page.select_option("select[name=channel]", "phone")
    page.fill("input[name=language]", "Sango")
    page.fill("textarea[name=summary]", SUMMARY)
    page.locator("main form button[type=submit]").click()

    needed = page.get_by_role("region", name=words("Consent needed"))
    needed.wait_for()
    needed.get_by_role("link", name=words("Record this consent")).click()
    _record_the_consent(page, words, form_url, typed=("Sango", "Appel"), purpose="contact")
    assert page.input_value("textarea[name=summary]") == SUMMARY
    assert page.input_value("input[name=language]") == "Sango"
    assert page.input_value("select[name=channel]") == "phone"
    page.locator("main form button[type=submit]").click()
    page.get_by_text(words("Communication recorded.")).wait_for()
    assert f"/vat/victims/{victim_id}" in page.url
