"""Works at 390 px (issue 19, item 2): on a phone-sized screen, no page of the main journeys is
wider than the viewport — wide tables scroll inside their own box — in English and in French."""

from __future__ import annotations

import pyotp
import pytest
from sqlalchemy import select

from seeding.demo import seed_demo
from tests.conftest import PASSWORD
from vat.auth.models import Role, User
from vat.db import db
from vat.victims.models import Victim

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"


@pytest.fixture
def demo(app):
    with app.test_request_context():
        seed_demo()
        db.session.commit()
        return db.session.scalar(select(Victim.id).where(Victim.country_code == "CAF").order_by(Victim.id))


def _sign_in(page, live_server: str, username: str, secret: str | None) -> None:
    """Through the forms, in whatever language the page is in (fields by name, not label)."""
    page.goto(f"{live_server}/auth/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    if secret:
        page.fill("input[name=code]", pyotp.TOTP(secret).now())
        page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/auth/" not in url)


def _overflowing(page, live_server: str, paths: list[str]) -> dict[str, int]:
    wide = {}
    for path in paths:
        page.goto(f"{live_server}{path}")
        extra = page.evaluate(OVERFLOW)
        if extra > 0:
            wide[path] = extra
    return wide


@pytest.mark.parametrize("language", ["en", "fr"])
def test_no_page_is_wider_than_a_phone(app, live_server, browser, make_user, demo, language):
    senior = make_user(Role.SENIOR_ADVOCATE, "CAF, COD, HTI, SSD")
    manager = make_user(Role.FUND_MANAGER, "")
    auditor = make_user(Role.AUDITOR, "")
    with app.app_context():
        secret = db.session.get(User, senior.id).totp_secret
        for user in (senior, manager, auditor):
            db.session.get(User, user.id).language = language
        db.session.commit()
    journeys = [
        (senior, secret, ["/", "/vat/victims", f"/vat/victims/{demo}", "/vat/allegations/", "/vat/claims/"]),
        (manager, None, ["/ledger/", "/ledger/journal", "/ledger/projects", "/ledger/withholdings",
                         "/ledger/donors", "/reports/fund"]),
        (auditor, None, ["/reports/victims", "/reports/clock", "/admin/audit"]),
    ]  # fmt: skip
    wide: dict[str, int] = {}
    for user, code_secret, paths in journeys:
        context = browser.new_context(viewport=PHONE, locale=language)
        page = context.new_page()
        _sign_in(page, live_server, user.username, code_secret)
        wide |= _overflowing(page, live_server, paths)
        context.close()
    assert wide == {}, f"wider than {PHONE['width']} px (extra px by page): {wide}"
