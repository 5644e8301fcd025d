"""The warning before the idle sign-out in a real browser, in English and in French (issue 19,
item 6): it shows before the end with the focus on "Stay signed in", which keeps the session;
typing on the page keeps it without asking; left alone, the page says the session ended."""

from __future__ import annotations

import time

import pytest

from tests.browser.speakers import signed_in_page, translator, user_speaking
from vat.auth.models import Role

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_idle_warning_keeps_or_ends_the_session(app, live_server, browser, make_user, language):
    made, secret = user_speaking(app, make_user, Role.ADVOCATE, language)
    words = translator(app, language)
    # A session idle for 20 s ends; the warning comes 12 s before (defaults: 15 min and 2 min).
    app.config.update(VAT_SESSION_IDLE_MINUTES=20 / 60, VAT_SESSION_WARNING_SECONDS=12)
    page = signed_in_page(app, live_server, browser, made, secret, language)
    page.goto(f"{live_server}/vat/victims")
    dialog = page.get_by_role("alertdialog", name=words("Still there?"))
    dialog.wait_for(timeout=15_000)
    stay = dialog.get_by_role("button", name=words("Stay signed in"))
    assert stay.evaluate("button => button === document.activeElement")
    warned = (
        "For your safety you will be signed out in %(minutes)s min if nothing is done."
        " What you typed stays on this page."
    )
    assert dialog.locator("p").inner_text() == words(warned, minutes=1)
    stay.click()
    dialog.wait_for(state="hidden")

    page.fill("input[name=case_code]", "CAR-")  # working on the page
    time.sleep(9)  # past the moment the warning would come
    assert dialog.is_hidden()
    page.reload()  # the session lives on: still signed in
    assert "/auth/login" not in page.url

    signed_out = words(
        "You were signed out after a time without activity. Copy anything you typed before signing in again."
    )
    dialog.wait_for(timeout=15_000)
    page.get_by_text(signed_out).wait_for(timeout=25_000)
    assert dialog.get_by_role("link", name=words("Sign in again in a new tab")).is_visible()
    time.sleep(1)  # the server's clock and the page's may differ by a moment
    page.reload()
    assert "/auth/login" in page.url
