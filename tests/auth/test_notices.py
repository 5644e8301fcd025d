"""Users are told of suspicious sign-in attempts and of changes to how they sign in (ASVS 6.3.5,
6.3.7): a notice per event, kept per user, audited, shown on every page until marked seen."""

from __future__ import annotations

import json

import pyotp
from sqlalchemy import select

from tests.auth.test_login import NEW, totp_for
from tests.conftest import PASSWORD, post_login, sign_in
from tests.statements import counting
from vat.audit import AuditEvent
from vat.auth import resets, services
from vat.auth.models import NoticeKind, Role, SecurityNotice, User
from vat.db import db

BANNER = "Notices on your account to read"


def kinds(app, user) -> list[str]:
    with app.app_context():
        query = (
            select(SecurityNotice.kind).where(SecurityNotice.user_id == user.id).order_by(SecurityNotice.id)
        )
        return list(db.session.scalars(query))


def audited_kinds(app, user) -> list[str]:
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "auth.notice", AuditEvent.object_id == str(user.id))
        )
        return [json.loads(row.detail)["kind"] for row in rows]


def sign_in_with_code(app, client, user):
    assert post_login(client, user.username).status_code == 302
    return client.post("/auth/login/code", data={"code": totp_for(app, user).now()})


def test_wrong_passwords_are_shown_to_the_owner_at_the_next_sign_in(app, client, make_user):
    user = make_user(Role.FUND_MANAGER, "")
    stranger = app.test_client()
    for _ in range(2):
        post_login(stranger, user.username, "not the password!!", address="203.0.113.9")
    assert kinds(app, user) == ["failed_password", "failed_password"]
    post_login(client, user.username)
    page = client.get("/").get_data(as_text=True)
    assert BANNER in page and ": 3<" in page  # two wrong passwords and this new device
    notices = client.get("/auth/notices").get_data(as_text=True)
    assert notices.count("A wrong password was given for your account.") == 2
    assert "203.0.113.9" in notices
    assert audited_kinds(app, user) == ["failed_password", "failed_password", "new_device"]


def test_a_right_password_with_a_wrong_code_warns_that_the_password_is_known(app, client, make_user):
    user = make_user(Role.ADVOCATE, "CAF")
    post_login(client, user.username)
    client.post("/auth/login/code", data={"code": "000000"})
    assert kinds(app, user) == ["failed_code"]
    assert sign_in_with_code(app, client, user).status_code == 302
    assert "someone may know it" in client.get("/auth/notices").get_data(as_text=True)


def test_a_new_device_is_noticed_a_known_one_is_not(app, client, make_user):
    user = make_user(Role.FUND_MANAGER, "")
    post_login(client, user.username, headers={"User-Agent": "Firefox on the office laptop"})
    client.post("/auth/logout")
    post_login(client, user.username)  # the same browser: its device cookie names the account
    assert kinds(app, user) == ["new_device"]
    assert "Firefox on the office laptop" in client.get("/auth/notices").get_data(as_text=True)
    post_login(app.test_client(), user.username)
    assert kinds(app, user) == ["new_device", "new_device"]


def test_changes_to_how_a_user_signs_in_are_noticed(app, client, make_user, login):
    user = login(Role.FUND_MANAGER, "")
    client.post("/auth/password", data={"current": PASSWORD, "new": NEW, "confirm": NEW})
    with app.app_context():
        account = db.session.get_one(User, user.id)
        services.unlock_account(actor=None, user=account)
        resets.reset_password(actor=None, user=account)
        db.session.commit()
    sign_in(app, client, user)
    page = client.get("/auth/notices").get_data(as_text=True)
    for text in (
        "Your password was changed.",
        "An administrator unlocked your account.",
        "An administrator reset your password.",
    ):
        assert text in page
    with app.app_context():
        resets.reset_second_factor(actor=None, user=db.session.get_one(User, user.id))
        db.session.commit()
    assert kinds(app, user) == [
        "password_changed",
        "account_unlocked",
        "password_reset",
        "second_factor_reset",
    ]


def test_replacing_the_authenticator_is_noticed(app, make_user):
    user = make_user(Role.FUND_MANAGER, "", totp=False)
    with app.app_context():
        account = db.session.get_one(User, user.id)
        secret = services.start_totp_enrolment(user=account)
        services.confirm_totp_enrolment(
            user=account,
            password=PASSWORD,
            current_code="",
            code=pyotp.TOTP(secret).now(),
            address=None,
            device=None,
        )
        db.session.commit()
    assert kinds(app, user) == [NoticeKind.SECOND_FACTOR_SET]


def test_marking_seen_needs_the_token_clears_the_banner_and_is_audited(app, client, make_user, login):
    user = login(Role.FUND_MANAGER, "")
    post_login(app.test_client(), user.username, "not the password!!")
    assert BANNER in client.get("/").get_data(as_text=True)
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post("/auth/notices/seen").status_code == 400
    app.config["WTF_CSRF_ENABLED"] = False
    assert client.post("/auth/notices/seen").status_code == 302
    assert BANNER not in client.get("/").get_data(as_text=True)
    assert "A wrong password was given" in client.get("/auth/notices").get_data(as_text=True)  # still listed
    with app.app_context():
        seen = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "auth.notices_seen"))
        assert seen is not None and json.loads(seen.detail) == {"count": 1}


def test_a_user_sees_only_their_own_notices(app, client, make_user, login):
    other = make_user(Role.FUND_MANAGER, "")
    post_login(app.test_client(), other.username, "not the password!!", address="198.51.100.7")
    login(Role.FUND_MANAGER, "")
    page = client.get("/auth/notices").get_data(as_text=True)
    assert "198.51.100.7" not in page and "No notices." in page
    client.post("/auth/notices/seen")
    assert kinds(app, other) == ["failed_password"]
    with app.app_context():
        assert db.session.scalars(select(SecurityNotice.seen_at)).all() == [None]


def test_nobody_signed_in_is_sent_to_sign_in(client):
    assert client.get("/auth/notices").status_code == 302
    assert client.post("/auth/notices/seen").status_code in (302, 400)


def test_an_unknown_username_makes_no_notice(app, client):
    post_login(client, "nobody-at-all", "not the password!!")
    with app.app_context():
        assert db.session.scalars(select(SecurityNotice)).all() == []


def test_the_banner_and_the_queues_cost_no_statement_of_their_own(app, client, login):
    """The unseen count is read with the session (one statement), and the queues waiting for the
    user are counted once although the navigation and the dashboard both show them."""
    user = login(Role.FUND_MANAGER, "")
    post_login(app.test_client(), user.username, "not the password!!")
    with counting(app) as sent:
        page = client.get("/").get_data(as_text=True)
    assert BANNER in page and ": 1<" in page
    notices = [s for s in sent if "auth_security_notice" in s]
    assert len(notices) == 1 and "auth_session" in notices[0]  # folded into the session's lookup
    assert sum("ledger_outflow" in s for s in sent) == 1  # disbursements to approve, counted once
    with counting(app) as sent:
        client.get("/auth/notices")
    assert sum("count(" in s.lower() and "auth_security_notice" in s for s in sent) == 1
