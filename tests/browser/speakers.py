"""A signed-in browser page for a new user who reads the interface in `language` (the words that
user reads: `tests.conftest.translator`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask

from tests.browser.test_admin_request_journey import sign_in
from vat.auth.models import Role, User
from vat.db import db


def user_speaking(app: Flask, make_user: Callable[..., Any], role: Role, language: str) -> tuple[Any, str]:
    """A new user of `role` in CAF who reads `language`, and the user's second-factor secret."""
    made = make_user(role, "CAF")
    with app.app_context():
        user = db.session.get_one(User, made.id)
        user.language = language
        secret = user.totp_secret
        db.session.commit()
    return made, secret


def signed_in_page(app: Flask, live_server: str, browser: Any, made: Any, secret: str, language: str) -> Any:
    page = browser.new_context(locale=language).new_page()
    sign_in(page, live_server, made.username, secret)
    return page
