"""The warning before the idle sign-out in a real browser, in English and in French (issue 19,
item 6): it shows before the end with the focus on "Stay signed in", which keeps the session;
typing on the page keeps it without asking; left alone, the page says the session ended."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.browser.speakers import sign_in, signed_in_page, user_speaking
from tests.conftest import translator
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
        "You were signed out after a time without activity. Sign in again in a new tab, then come back:"
        " what you typed stays on this page and can be sent."
    )
    dialog.wait_for(timeout=15_000)
    page.get_by_text(signed_out).wait_for(timeout=25_000)
    expect(dialog.get_by_role("link", name=words("Sign in again in a new tab"))).to_be_visible()
    time.sleep(1)  # the server's clock and the page's may differ by a moment
    page.reload()
    assert "/auth/login" in page.url


@pytest.mark.parametrize("language", ["en", "fr"])
def test_what_was_typed_is_sent_after_signing_in_again_in_another_tab(
    app, live_server, browser, make_user, language
):
    made, secret = user_speaking(app, make_user, Role.ADVOCATE, language)
    words = translator(app, language)
    app.config.update(VAT_SESSION_IDLE_MINUTES=15 / 60, VAT_SESSION_WARNING_SECONDS=5)
    page = signed_in_page(app, live_server, browser, made, secret, language)
    page.goto(f"{live_server}/vat/allegations/new")
    page.fill("input[name=reference]", "0042/26")
    page.fill("textarea[name=actions_taken]", "Typed before the session ended")
    signed_out = words(
        "You were signed out after a time without activity. Sign in again in a new tab, then come back:"
        " what you typed stays on this page and can be sent."
    )
    page.get_by_text(signed_out).wait_for(timeout=60_000)
    time.sleep(31 - time.time() % 30)  # a new second-factor code: the one used at sign-in is spent
    other_tab = page.context.new_page()
    sign_in(other_tab, live_server, made.username, secret)
    page.bring_to_front()
    page.evaluate("window.dispatchEvent(new Event('focus'))")  # headless: no real focus change
    back = page.get_by_role("status").filter(
        has_text=words("You are signed in again: what you typed is still here and can be sent.")
    )
    back.wait_for(timeout=10_000)
    assert page.input_value("textarea[name=actions_taken]") == "Typed before the session ended"
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/vat/allegations/new" not in url)
    assert "Typed before the session ended" in page.content()
