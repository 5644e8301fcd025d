"""The second factor holds: wrong codes count per account whatever the password did, five lock
the account, malformed codes are counted failures (4xx), a code opens one session, and replacing
the authenticator takes the password and a current code, with the new secret kept server-side."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import func, select, text

from tests.conftest import PASSWORD, post_login, sign_in, signed_in_client
from vat.audit import AuditEvent
from vat.auth.models import Role, TotpEnrolment, User, UserSession
from vat.db import db, utcnow


def post_code(client, code):
    return client.post("/auth/login/code", data={"code": code})


def read(app, user):
    with app.app_context():
        return db.session.get(User, user.id)


def wrong_code(app, user):
    """A well-formed code that is not the current one (nor either neighbour)."""
    totp = pyotp.TOTP(read(app, user).totp_secret)
    now = utcnow()
    valid = {totp.at(now + timedelta(seconds=30 * drift)) for drift in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)


def events(app, action):
    with app.app_context():
        return db.session.scalar(select(func.count()).where(AuditEvent.action == action))


def test_a_right_password_does_not_reset_the_count_of_wrong_codes(app, client, make_user):
    user = make_user(Role.ADVOCATE, "CAF")
    bad = wrong_code(app, user)
    for _ in range(3):
        post_login(client, user.username)
        assert post_code(client, bad).status_code == 200
    post_login(client, user.username)
    assert read(app, user).totp_failures == 3
    post_code(client, bad)
    assert read(app, user).locked_at is None
    post_code(client, bad)  # the fifth
    assert read(app, user).locked_at is not None
    response = post_code(client, pyotp.TOTP(read(app, user).totp_secret).now())
    assert response.status_code == 403 and b"locked" in response.get_data()
    assert client.get("/").status_code == 302
    assert events(app, "auth.totp_failed") == 5 and events(app, "auth.account_locked") == 1
    # The password alone now says so (only to someone who knows it), and opens nothing.
    assert post_login(client, user.username).status_code == 403


def test_a_right_code_resets_the_count(app, client, make_user):
    user = make_user(Role.ADVOCATE, "CAF")
    post_login(client, user.username)
    post_code(client, wrong_code(app, user))
    assert read(app, user).totp_failures == 1
    assert post_code(client, pyotp.TOTP(read(app, user).totp_secret).now()).status_code == 302
    assert read(app, user).totp_failures == 0


@pytest.mark.parametrize(
    "code", ["١٢٣٤٥٦", "12345", "1234567", "abcdef", "12345x", "１２３４５６", "9" * 5000, "", "12\r\n34"]
)
def test_a_malformed_code_is_a_counted_audited_failure_not_an_error(app, client, make_user, code):
    user = make_user(Role.ADVOCATE, "CAF")
    post_login(client, user.username)
    response = post_code(client, code)
    assert response.status_code == 400
    assert read(app, user).totp_failures == 1
    assert events(app, "auth.totp_failed") == 1
    assert client.get("/").status_code == 302


def test_five_malformed_codes_lock_the_account(app, client, make_user):
    user = make_user(Role.ADVOCATE, "CAF")
    post_login(client, user.username)
    for _ in range(5):
        assert post_code(client, "١٢٣٤٥٦").status_code == 400
    assert read(app, user).locked_at is not None


def test_a_malformed_code_when_confirming_it_is_you_is_a_4xx(app, client, make_user):
    user = make_user(Role.ADVOCATE, "CAF")
    sign_in(app, client, user)
    response = client.post("/auth/reauthenticate", data={"password": PASSWORD, "code": "١٢٣٤٥٦"})
    assert response.status_code == 400
    assert read(app, user).totp_failures == 1


def test_a_code_used_twice_is_refused_but_not_counted_as_a_guess(app, make_user):
    user = make_user(Role.ADVOCATE, "CAF")
    code = pyotp.TOTP(read(app, user).totp_secret).now()
    first, second = app.test_client(), app.test_client()
    post_login(first, user.username)
    post_login(second, user.username)
    assert post_code(first, code).status_code == 302
    assert post_code(second, code).status_code == 200
    assert second.get("/").status_code == 302
    assert read(app, user).totp_failures == 0
    assert events(app, "auth.totp_replayed") == 1


def test_an_administrator_unlocks_a_locked_account(app, client, make_user):
    user = make_user(Role.ADVOCATE, "CAF")
    post_login(client, user.username)
    for _ in range(5):
        post_code(client, "abcdef")
    admin_client = signed_in_client(app, make_user(Role.ADMIN, ""))
    page = admin_client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "Unlock" in page
    assert admin_client.post(f"/admin/users/{user.id}/unlock").status_code == 302
    assert read(app, user).locked_at is None and read(app, user).totp_failures == 0
    assert events(app, "auth.account_unlocked") == 1
    post_login(client, user.username)
    assert post_code(client, pyotp.TOTP(read(app, user).totp_secret).now()).status_code == 302


def test_only_an_administrator_unlocks(app, make_user):
    user = make_user(Role.ADVOCATE, "CAF")
    for role in (Role.ADVOCATE, Role.SENIOR_ADVOCATE, Role.FUND_MANAGER, Role.AUDITOR):
        other = signed_in_client(app, make_user(role, "CAF"))
        assert other.post(f"/admin/users/{user.id}/unlock").status_code == 403, role


# --- replacing the authenticator ---------------------------------------------------------------


def new_secret(client):
    page = client.get("/auth/second-factor").get_data(as_text=True)
    return page.split('id="totp-secret">')[1].split("<")[0]


def test_replacing_the_authenticator_needs_the_password_and_a_current_code(app, client, make_user):
    user = make_user(Role.ADVOCATE, "CAF")
    old = read(app, user).totp_secret
    sign_in(app, client, user)
    secret = new_secret(client)
    new_code = pyotp.TOTP(secret).now()
    current = pyotp.TOTP(old).now()
    attempts = [
        {"code": new_code},  # neither
        {"code": new_code, "current_code": current},  # no password
        {"code": new_code, "password": PASSWORD},  # no current code
        {"code": new_code, "password": "not the password!", "current_code": current},
        {"code": new_code, "password": PASSWORD, "current_code": wrong_code(app, user)},
    ]
    for data in attempts:
        response = client.post("/auth/second-factor", data=data)
        assert response.status_code in (200, 400), data
        assert read(app, user).totp_secret == old, data
    response = client.post(
        "/auth/second-factor", data={"code": new_code, "password": PASSWORD, "current_code": current}
    )
    assert response.status_code == 302
    assert read(app, user).totp_secret == secret
    assert client.get("/").status_code == 302  # every session ended: sign in with the new one
    with app.app_context():
        assert db.session.get(TotpEnrolment, user.id) is None


def test_the_enrolment_secret_never_travels_in_the_cookie(app, client, make_user):
    user = make_user(Role.SENIOR_ADVOCATE, "CAF", totp=False)
    sign_in(app, client, user)
    secret = new_secret(client)
    cookie = client.get_cookie("vat_session").value
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    assert secret not in str(serializer.loads(cookie))
    with app.app_context():
        stored = db.session.execute(
            text("SELECT secret FROM auth_totp_enrolment WHERE user_id = :id"), {"id": user.id}
        ).scalar_one()
    assert secret not in stored  # encrypted at rest
    assert new_secret(client) == secret  # the page again shows the same pending key


def test_enrolment_without_csrf_token_is_refused(app, make_user, csrf_client):
    user = make_user(Role.SENIOR_ADVOCATE, "CAF", totp=False)
    client = csrf_client(user)
    secret = new_secret(client)
    response = client.post(
        "/auth/second-factor", data={"password": PASSWORD, "code": pyotp.TOTP(secret).now()}
    )
    assert response.status_code == 400
    assert read(app, user).totp_secret is None


def test_one_code_opens_one_session(app, make_user):
    user = make_user(Role.ADVOCATE, "CAF")
    clients = [app.test_client() for _ in range(3)]
    for client in clients:
        post_login(client, user.username)
    code = pyotp.TOTP(read(app, user).totp_secret).now()
    statuses = [post_code(client, code).status_code for client in clients]
    assert sorted(statuses) == [200, 200, 302]
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(UserSession.user_id == user.id)) == 1


def test_malformed_codes_when_replacing_the_authenticator_are_4xx(app, client, make_user):
    user = make_user(Role.ADVOCATE, "CAF")
    sign_in(app, client, user)
    new_secret(client)
    response = client.post(
        "/auth/second-factor", data={"password": PASSWORD, "current_code": "١٢٣٤٥٦", "code": "123456"}
    )
    assert response.status_code == 400
    assert read(app, user).totp_failures == 1
    current = pyotp.TOTP(read(app, user).totp_secret).now()
    response = client.post(
        "/auth/second-factor", data={"password": PASSWORD, "current_code": current, "code": "١٢٣٤٥٦"}
    )
    assert response.status_code == 200 and b"does not match" in response.get_data()
    assert read(app, user).totp_secret != new_secret(client)
