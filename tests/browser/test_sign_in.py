"""The first journey: sign in with a second factor, see the role's dashboard, sign out."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import browser_sign_in
from vat.auth.models import Role, User
from vat.db import db

pytestmark = pytest.mark.browser


def test_sign_in_see_dashboard_sign_out(app, live_server, page, make_user):
    user = make_user(Role.SENIOR_ADVOCATE, "CAF, COD")
    with app.app_context():
        secret = db.session.get(User, user.id).totp_secret

    page.goto(f"{live_server}/")
    assert page.url.startswith(f"{live_server}/auth/login")
    browser_sign_in(page, live_server, user.username, secret)
    assert "senior advocate" in page.content()
    navigation = page.get_by_role("navigation", name="Main")
    expect(navigation.get_by_role("link", name="Trust fund")).to_be_visible()
    assert navigation.get_by_role("link", name="Users").count() == 0

    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in").wait_for()
    page.goto(f"{live_server}/")
    assert page.url.startswith(f"{live_server}/auth/login")


def test_csp_blocks_inline_script(app, live_server, page):
    page.goto(f"{live_server}/auth/login")
    executed = page.evaluate(
        "() => { const s = document.createElement('script'); "
        "s.textContent = 'window.__ran = true'; document.body.appendChild(s); "
        "return window.__ran === true }"
    )
    assert executed is False
