"""In a real browser, with the app's Content Security Policy: markup stored in a victim's name,
aliases and notes shows as text and runs nothing."""

from __future__ import annotations

from datetime import date

import pytest

from vat.auth import services as auth
from vat.auth.models import Role, User
from vat.db import db
from vat.victims import identity

pytestmark = pytest.mark.browser

NAME = '<img src=x onerror="window.__xss=1">Amina'
NOTES = '<script>window.__xss=2</script><svg onload="window.__xss=3"></svg>'


def signed_in_cookie(app, user_id: int) -> str:
    with app.app_context():
        token = auth.start_session(user=db.session.get(User, user_id), address="127.0.0.1")
        db.session.commit()
    return app.session_interface.get_signing_serializer(app).dumps({"sid": token, "_user_id": str(user_id)})


def test_stored_markup_runs_nothing_in_the_browser(app, make_user, live_server, page):  # noqa: F811
    advocate = make_user(Role.ADVOCATE, "CAF")
    with app.test_request_context():
        victim = identity.register_victim(
            actor=db.session.get(User, advocate.id),
            country_code="CAF",
            sex="female",
            name=NAME,
            aliases=NAME,
            notes=NOTES,
            registered_on=date(2026, 1, 5),
        )
        db.session.commit()
        victim_id = victim.id
    page.context.add_cookies(
        [{"name": "vat_session", "value": signed_in_cookie(app, advocate.id), "url": live_server}]
    )
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    for path in (f"/vat/victims/{victim_id}", "/vat/victims", f"/vat/victims/{victim_id}/edit"):
        response = page.goto(live_server + path)
        assert response.status == 200, path
        policy = response.headers["content-security-policy"]
        assert "script-src" in policy or "default-src" in policy
        assert "'unsafe-inline'" not in policy.split("script-src")[-1].split(";")[0]
        assert page.evaluate("window.__xss") is None, path
    page.goto(live_server + f"/vat/victims/{victim_id}")
    assert "<img src=x" in page.inner_text("body")  # shown as text, not as an element
    assert page.locator("img[src='x']").count() == 0
    assert not dialogs
