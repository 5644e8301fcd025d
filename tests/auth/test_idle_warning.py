"""The warning before the idle sign-out (issue 19, item 6): every signed-in page carries what the
script needs, and "Stay signed in" keeps the session (signed in, with a CSRF token) and says for
how long."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import csrf_token_in, sign_in
from vat.auth.models import Role, UserSession
from vat.db import db, utcnow


def test_signed_in_pages_carry_the_warning_and_staying_signed_in_keeps_the_session(
    app: Flask, client: FlaskClient, login: Callable[..., Any]
) -> None:
    assert 'id="idle-warning"' not in client.get("/auth/login").get_data(as_text=True)
    login(Role.ADVOCATE, "CAF")
    page = client.get("/").get_data(as_text=True)
    left = re.search(r'data-seconds-left="(\d+)"', page)
    assert left is not None and 15 * 60 - 5 <= int(left.group(1)) <= 15 * 60
    assert 'data-warning="120"' in page and "idle-warning.js" in page and "<script>" not in page
    with app.app_context():
        row = db.session.scalars(db.select(UserSession)).one()
        row.last_seen_at = utcnow() - timedelta(minutes=14, seconds=50)  # about to end
        db.session.commit()
    kept = client.post("/auth/keep-alive")
    assert kept.status_code == 200 and 15 * 60 - 5 <= kept.get_json()["seconds_left"] <= 15 * 60
    with app.app_context():
        assert utcnow() - db.session.scalars(db.select(UserSession)).one().last_seen_at < timedelta(seconds=5)


def test_staying_signed_in_needs_a_live_session_and_a_csrf_token(
    app: Flask, client: FlaskClient, login: Any, csrf_client: Callable[..., FlaskClient]
) -> None:
    assert client.post("/auth/keep-alive").status_code in (302, 401)  # a stranger is sent to sign in
    login(Role.AUDITOR, "")
    with app.app_context():
        row = db.session.scalars(db.select(UserSession)).one()
        row.last_seen_at = utcnow() - timedelta(minutes=16)  # idle too long already
        db.session.commit()
    assert client.post("/auth/keep-alive").status_code in (302, 401)
    assert csrf_client(Role.ADVOCATE, "CAF").post("/auth/keep-alive").status_code == 400


def test_a_page_left_open_gets_the_new_sessions_token_once_signed_in_again(
    client: FlaskClient, make_user: Any, csrf_client: Callable[..., FlaskClient]
) -> None:
    """The token the page's script asks for after signing in again in another tab: only for a
    signed-in session, never cached, and with it the page's form is sent as it was typed."""
    assert client.get("/auth/fresh-token").status_code in (302, 401)
    user = make_user(Role.ADVOCATE, "CAF")
    guarded = csrf_client(user)
    page = guarded.get("/vat/allegations/new").get_data(as_text=True)
    assert 'data-token-url="/auth/fresh-token"' in page
    typed = {
        "reference": "0001/26",
        "country_code": "CAF",
        **dict.fromkeys(
            ("perpetrator_country", "entity_category", "investigating_entity", "investigation_status"), ""
        ),
        "personnel_category": "unknown",
        "type": "unknown",
        "urgency": "normal",
        "outcome": "pending",
        "csrf_token": csrf_token_in(page),
    }
    with guarded.session_transaction() as session:  # signed out while idle, as `identify` does
        session.clear()
    assert guarded.get("/auth/fresh-token").status_code in (302, 401)
    sign_in(guarded.application, guarded, user)  # in another tab: the same cookies
    assert guarded.post("/vat/allegations/new", data=typed).status_code == 400  # the page's old token
    answer = guarded.get("/auth/fresh-token")
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    sent = guarded.post("/vat/allegations/new", data={**typed, "csrf_token": answer.get_json()["csrf_token"]})
    assert sent.status_code == 302 and "/vat/allegations/" in sent.location
