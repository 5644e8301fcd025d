"""Signing in and out through the real forms: passwords, the second factor, limits, sessions."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import time_machine
from sqlalchemy import select

from tests.conftest import PASSWORD, post_login, sign_in
from vat.audit import AuditEvent
from vat.auth.models import Role, User, UserSession
from vat.db import db, utcnow

NEW = "a brand new passphrase 7"


def totp_for(app, user):
    with app.app_context():
        return pyotp.TOTP(db.session.get(User, user.id).totp_secret)


def test_login_then_dashboard_then_logout(client, make_user):
    user = make_user(Role.FUND_MANAGER, "")
    response = post_login(client, user.username)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    response = client.post("/auth/logout")
    assert response.status_code == 302
    assert "cookies" in response.headers["Clear-Site-Data"]
    assert client.get("/").status_code == 302


def test_wrong_password_and_unknown_user_get_identical_answers(client, make_user):
    user = make_user(Role.FUND_MANAGER, "")
    wrong = post_login(client, user.username, "wrong password here!")
    unknown = post_login(client, "nobody-at-all", "wrong password here!")
    assert wrong.status_code == unknown.status_code == 200
    assert wrong.get_data(as_text=True).replace(user.username, "NAME") == unknown.get_data(
        as_text=True
    ).replace("nobody-at-all", "NAME")
    assert b"Invalid username or password." in wrong.get_data()


def test_account_locks_after_repeated_failures_even_with_the_right_password(client, make_user):
    user = make_user(Role.FUND_MANAGER, "")
    for _ in range(5):
        post_login(client, user.username, "not the password!!")
    response = post_login(client, user.username)
    assert response.status_code == 429
    assert client.get("/").status_code == 302
    with time_machine.travel(utcnow() + timedelta(minutes=16)):
        assert post_login(client, user.username).status_code == 302


def test_address_is_limited_across_accounts(app, client, make_user):
    app.config["VAT_LOGIN_MAX_FAILURES_PER_ADDRESS"] = 6
    for n in range(6):
        post_login(client, f"someone{n}", "not the password!!")
    user = make_user(Role.FUND_MANAGER, "")
    assert post_login(client, user.username).status_code == 429


def test_copied_cookie_does_not_work_after_logout(app, client, make_user):
    user = make_user(Role.FUND_MANAGER, "")
    post_login(client, user.username)
    stolen = client.get_cookie("vat_session").value
    client.post("/auth/logout")
    thief = app.test_client()
    thief.set_cookie("vat_session", stolen)
    assert thief.get("/").status_code == 302


def test_deactivation_and_password_change_end_sessions(app, client, make_user):
    user = make_user(Role.FUND_MANAGER, "")
    post_login(client, user.username)
    other = app.test_client()
    post_login(other, user.username)
    response = client.post(
        "/auth/password",
        data={"current": PASSWORD, "new": "a brand new passphrase 7", "confirm": "a brand new passphrase 7"},
    )
    assert response.status_code == 302
    assert other.get("/").status_code == 302
    assert post_login(other, user.username, "a brand new passphrase 7").status_code == 302
    with app.app_context():
        db.session.get(User, user.id).active = False
        db.session.commit()
    assert other.get("/").status_code == 302


def test_a_sign_in_and_a_password_change_are_audited_a_wrong_current_password_refused(app, client, make_user):
    user = make_user(Role.FUND_MANAGER, "")
    post_login(client, user.username)
    wrong = client.post("/auth/password", data={"current": "not the password", "new": NEW, "confirm": NEW})
    assert wrong.status_code == 200 and "The current password is wrong." in wrong.get_data(as_text=True)
    assert post_login(app.test_client(), user.username, NEW).status_code == 200  # nothing changed
    changed = client.post("/auth/password", data={"current": PASSWORD, "new": NEW, "confirm": NEW})
    assert changed.status_code == 302
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.actor_id == user.id).order_by(AuditEvent.id)
        ).all()
    assert actions[0] == "auth.login" and actions[-1] == "user.password_change"


def test_common_and_short_passwords_are_refused(client, make_user):
    user = make_user(Role.FUND_MANAGER, "")
    post_login(client, user.username)
    for weak in ("short pass", "password1234", "qwertyuiopas"):
        response = client.post("/auth/password", data={"current": PASSWORD, "new": weak, "confirm": weak})
        assert response.status_code == 200, weak
    assert client.get("/").status_code == 200  # still signed in: nothing changed


def test_idle_and_absolute_expiry(app, client, make_user):
    user = make_user(Role.FUND_MANAGER, "")
    post_login(client, user.username)
    with time_machine.travel(utcnow() + timedelta(minutes=16)):
        assert client.get("/").status_code == 302
    post_login(client, user.username)
    start = utcnow()
    for minutes in range(10, 12 * 60 + 10, 10):  # active all day, never idle
        with time_machine.travel(start + timedelta(minutes=minutes)):
            status = client.get("/").status_code
    assert status == 302


def test_second_factor_is_required_and_codes_work_once(app, client, make_user):
    user = make_user(Role.ADVOCATE, "CAF")
    totp = totp_for(app, user)
    response = post_login(client, user.username)
    assert response.headers["Location"] == "/auth/login/code"
    assert client.get("/").status_code == 302  # not signed in yet
    code = totp.now()
    assert client.post("/auth/login/code", data={"code": code}).status_code == 302
    assert client.get("/").status_code == 200
    client.post("/auth/logout")
    post_login(client, user.username)
    replay = client.post("/auth/login/code", data={"code": code})
    assert replay.status_code == 200 and b"already used" in replay.get_data()
    assert client.get("/").status_code == 302


def test_stale_codes_are_refused(app, client, make_user):
    user = make_user(Role.ADVOCATE, "CAF")
    old = totp_for(app, user).at(utcnow() - timedelta(seconds=90))
    post_login(client, user.username)
    assert client.post("/auth/login/code", data={"code": old}).status_code == 200
    assert client.get("/").status_code == 302


def test_identity_roles_must_enrol_before_anything_else(app, client, make_user):
    user = make_user(Role.SENIOR_ADVOCATE, "CAF", totp=False)
    post_login(client, user.username)
    assert client.get("/").headers["Location"] == "/auth/second-factor"
    page = client.get("/auth/second-factor").get_data(as_text=True)
    secret = page.split('id="totp-secret">')[1].split("<")[0]
    code = pyotp.TOTP(secret).now()
    response = client.post("/auth/second-factor", data={"password": PASSWORD, "code": code})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(User, user.id).totp_secret == secret
    sign_in_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Second factor enrolled. Sign in again; the code you just used works once" in sign_in_page
    post_login(client, user.username)
    again = client.post("/auth/login/code", data={"code": code})
    assert "That code was already used: wait for your authenticator to show the next one." in again.get_data(
        as_text=True
    )


def test_next_redirects_only_to_local_paths(client, make_user):
    user = make_user(Role.ADMIN, "")
    for hostile in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"):
        client.get("/auth/login", query_string={"next": hostile})
        response = post_login(client, user.username)
        assert response.headers["Location"] == "/", hostile
        client.post("/auth/logout")
    client.get("/auth/login", query_string={"next": "/admin/users"})
    assert post_login(client, user.username).headers["Location"] == "/admin/users"


def test_login_issues_a_new_session_identifier(app, client, make_user):
    user = make_user(Role.FUND_MANAGER, "")
    with client.session_transaction() as session:
        session["sid"] = "attacker-chosen"
    post_login(client, user.username)
    with client.session_transaction() as session:
        assert session["sid"] != "attacker-chosen"
    with app.app_context():
        rows = db.session.scalars(select(UserSession).where(UserSession.user_id == user.id)).all()
        assert len(rows) == 1 and rows[0].token_hash != "attacker-chosen"


def test_sensitive_actions_need_a_fresh_login(app, client, make_user):
    admin = make_user(Role.ADMIN, "")
    sign_in(app, client, admin)
    assert client.get("/admin/users/new").status_code == 200
    with time_machine.travel(utcnow() + timedelta(minutes=11)):
        client.get("/")  # keep the session alive
    with time_machine.travel(utcnow() + timedelta(minutes=12)):
        response = client.get("/admin/users/new")
        assert response.status_code == 302 and "/auth/reauthenticate" in response.headers["Location"]
        client.post("/auth/reauthenticate?next=/admin/users/new", data={"password": PASSWORD})
        assert client.get("/admin/users/new").status_code == 200
