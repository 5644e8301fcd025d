"""Races through the HTTP layer with real threads (run with VAT_TEST_BACKEND=postgres for
PostgreSQL; SQLite holds them with its write lock): one code opens one session, and parallel
guesses never check more than the limit nor answer 500."""

from __future__ import annotations

import pyotp
from sqlalchemy import func, select

from tests.conftest import all_at_once, post_login
from vat.audit import AuditEvent
from vat.auth.models import Role, User, UserSession
from vat.db import db


def count(app, statement):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(statement.subquery()))


def test_twelve_pending_logins_with_one_code_open_one_session(app, make_user):
    user = make_user(Role.ADVOCATE, "CAF")
    clients = [app.test_client() for _ in range(12)]
    for client in clients:
        assert post_login(client, user.username).headers["Location"] == "/auth/login/code"
    with app.app_context():
        code = pyotp.TOTP(db.session.get(User, user.id).totp_secret).now()
    statuses = all_at_once(
        [lambda c=client: c.post("/auth/login/code", data={"code": code}).status_code for client in clients]
    )
    assert sorted(statuses) == [200] * 11 + [302], statuses
    assert count(app, select(UserSession.id).where(UserSession.user_id == user.id)) == 1
    assert sum(client.get("/").status_code == 200 for client in clients) == 1
    with app.app_context():
        assert db.session.get(User, user.id).totp_failures == 0  # replays are not guesses


def test_twenty_simultaneous_wrong_passwords_check_no_more_than_the_limit(app, make_user):
    user = make_user(Role.FUND_MANAGER, "")
    statuses = all_at_once(
        [
            lambda n=n: post_login(app.test_client(), user.username, f"wrong guess {n}!").status_code
            for n in range(20)
        ]
    )
    assert sorted(statuses) == [200] * 5 + [429] * 15, statuses
    assert count(app, select(AuditEvent.id).where(AuditEvent.action == "auth.login_failed")) == 5
    assert post_login(app.test_client(), user.username).status_code == 429


def test_eleven_wrong_and_the_right_one_at_once_do_not_sign_in_later(app, make_user):
    user = make_user(Role.FUND_MANAGER, "")
    passwords = [f"wrong guess {n}!" for n in range(11)]
    statuses = all_at_once(
        [lambda p=p: post_login(app.test_client(), user.username, p).status_code for p in passwords]
    )
    assert sorted(statuses) == [200] * 5 + [429] * 6, statuses
    assert post_login(app.test_client(), user.username).status_code == 429


def test_twenty_simultaneous_wrong_codes_check_no_more_than_the_limit(app, make_user):
    user = make_user(Role.ADVOCATE, "CAF")
    clients = [app.test_client() for _ in range(20)]
    for client in clients:
        post_login(client, user.username)
    statuses = all_at_once(
        [
            lambda c=client: c.post("/auth/login/code", data={"code": "١٢٣٤٥٦"}).status_code
            for client in clients
        ]
    )
    assert sorted(statuses) == [400] * 5 + [403] * 15, statuses
    assert count(app, select(AuditEvent.id).where(AuditEvent.action == "auth.totp_failed")) == 5
    with app.app_context():
        assert db.session.get(User, user.id).locked_at is not None
