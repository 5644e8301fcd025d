"""Four eyes on privilege in a real browser (issue 15, item 5), in English and in French: one
administrator asks for a new fund manager's account; nothing exists until a second
administrator, in another browser, approves the request; the first cannot approve it."""

from __future__ import annotations

import pyotp
import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD, translator
from vat.auth.models import AdminRequest, Role, User
from vat.db import db

pytestmark = pytest.mark.browser

NEW_PASSWORD = "tangerine glacier notebook"  # noqa: S105  # a test account's


def sign_in(page, live_server: str, username: str, secret: str) -> None:
    """Through the forms, by field names: the labels are in the browser's language."""
    page.goto(f"{live_server}/auth/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    page.click("main button[type=submit]")
    page.wait_for_url(lambda url: "/auth/" not in url)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_one_admin_asks_for_a_fund_manager_and_a_second_approves(
    app, live_server, browser, make_user, language
):
    admins = [make_user(Role.ADMIN, "", totp=True) for _ in range(2)]
    with app.app_context():
        secrets = []
        for made in admins:
            admin = db.session.get_one(User, made.id)
            admin.language = language
            secrets.append(admin.totp_secret)
        db.session.commit()
    newcomer = f"fm{language}{admins[0].id}"

    words = translator(app, language)

    def account() -> User | None:
        with app.app_context():
            return db.session.scalar(select(User).where(User.username == newcomer))

    asker = browser.new_context(locale=language).new_page()
    sign_in(asker, live_server, admins[0].username, secrets[0])
    asker.goto(f"{live_server}/admin/users/new")
    asker.fill("input[name=username]", newcomer)
    asker.fill("input[name=password]", NEW_PASSWORD)
    asker.select_option("select[name=role]", Role.FUND_MANAGER.value)
    asker.locator("main form button[type=submit]").click()
    asker.get_by_text(
        words("Request recorded: another administrator must approve it within %(hours)d hours.", hours=72)
    ).wait_for()
    assert asker.get_by_text(words("waiting for someone else")).count() == 1
    assert asker.get_by_role("button", name=words("Approve")).count() == 0
    assert account() is None

    approver = browser.new_context(locale=language).new_page()
    sign_in(approver, live_server, admins[1].username, secrets[1])
    approver.goto(f"{live_server}/admin/requests")
    approver.get_by_role("button", name=words("Approve")).click()
    approver.get_by_text(words("Approved and applied.")).wait_for()
    created = account()
    assert created is not None and created.role == Role.FUND_MANAGER.value
    with app.app_context():
        request = db.session.scalars(select(AdminRequest).where(AdminRequest.user_id == created.id)).one()
        assert (request.requested_by_id, request.decided_by_id) == (admins[0].id, admins[1].id)

    asker.reload()
    assert asker.get_by_text(words("Nothing is waiting.")).count() == 1
    for page in (asker, approver):
        page.context.close()
