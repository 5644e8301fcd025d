"""Sessions under the user's control: their own sessions listed (device, address, last seen) with
"end" on each; an administrator ends all of a user's sessions."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from tests.conftest import PASSWORD, post_login, sign_in, signed_in_client
from vat.audit import AuditEvent
from vat.auth.models import Role, UserSession
from vat.db import db, utcnow

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
PHONE = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36"


@pytest.fixture
def two_devices(app, make_user):
    """A fund manager signed in on a laptop and on a phone: both clients and the phone's session id."""
    user = make_user(Role.FUND_MANAGER, "")
    laptop, phone = app.test_client(), app.test_client()
    post_login(laptop, user.username, address="192.0.2.1", headers={"User-Agent": FIREFOX})
    post_login(phone, user.username, address="198.51.100.7", headers={"User-Agent": PHONE})
    with app.app_context():
        phone_session = db.session.scalar(select(UserSession.id).where(UserSession.user_agent == PHONE))
    return laptop, phone, phone_session


def session_ids(page):
    return [int(n) for n in re.findall(r'name="session_id" value="(\d+)"', page)]


def test_ending_another_session_needs_a_fresh_sign_in(app, two_devices):
    laptop, phone, phone_session = two_devices
    later = utcnow() + timedelta(minutes=app.config["VAT_FRESH_MINUTES"] + 1)
    with time_machine.travel(later, tick=False):
        laptop.get("/auth/sessions")  # still active: the session is not idle, only not fresh
        refused = laptop.post("/auth/sessions/end", data={"session_id": phone_session})
        assert refused.status_code == 302
        assert refused.headers["Location"].startswith("/auth/reauthenticate?next=/auth/sessions")
        assert phone.get("/").status_code == 200  # the other device is still signed in
        confirmed = laptop.post("/auth/reauthenticate", data={"password": PASSWORD})
        assert confirmed.status_code == 302
        assert laptop.post("/auth/sessions/end", data={"session_id": phone_session}).status_code == 302
        assert phone.get("/").status_code == 302


def test_a_user_sees_their_own_sessions_with_device_address_and_last_seen(app, make_user):
    user, other = make_user(Role.FUND_MANAGER, ""), make_user(Role.FUND_MANAGER, "")
    laptop, phone, stranger = app.test_client(), app.test_client(), app.test_client()
    post_login(laptop, user.username, address="192.0.2.1", headers={"User-Agent": FIREFOX})
    post_login(phone, user.username, address="198.51.100.7", headers={"User-Agent": PHONE})
    post_login(stranger, other.username, address="203.0.113.9", headers={"User-Agent": FIREFOX})
    page = laptop.get("/auth/sessions").get_data(as_text=True)
    assert FIREFOX in page and PHONE in page
    assert "192.0.2.1" in page and "198.51.100.7" in page and "203.0.113.9" not in page
    assert len(session_ids(page)) == 2
    assert page.count("this session") == 1


def test_ending_another_session_signs_that_device_out(app, two_devices):
    laptop, phone, phone_session = two_devices
    response = laptop.post("/auth/sessions/end", data={"session_id": phone_session})
    assert response.status_code == 302 and response.headers["Location"] == "/auth/sessions"
    assert phone.get("/").status_code == 302
    assert laptop.get("/").status_code == 200
    assert session_ids(laptop.get("/auth/sessions").get_data(as_text=True)) != [phone_session]
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(AuditEvent.action == "auth.session_ended")) == 1


def test_ending_the_current_session_signs_out(app, make_user):
    user = make_user(Role.FUND_MANAGER, "")
    client = app.test_client()
    post_login(client, user.username, address="192.0.2.1", headers={"User-Agent": FIREFOX})
    (mine,) = session_ids(client.get("/auth/sessions").get_data(as_text=True))
    response = client.post("/auth/sessions/end", data={"session_id": mine})
    assert response.headers["Location"] == "/auth/login"
    assert client.get("/").status_code == 302


def test_another_users_session_cannot_be_ended(app, make_user):
    user, victim = make_user(Role.FUND_MANAGER, ""), make_user(Role.FUND_MANAGER, "")
    attacker, target = app.test_client(), app.test_client()
    post_login(attacker, user.username, address="192.0.2.1", headers={"User-Agent": FIREFOX})
    post_login(target, victim.username, address="198.51.100.7", headers={"User-Agent": PHONE})
    (theirs,) = session_ids(target.get("/auth/sessions").get_data(as_text=True))
    assert attacker.post("/auth/sessions/end", data={"session_id": theirs}).status_code == 404
    assert target.get("/").status_code == 200


def test_hostile_session_ids_are_refused_with_400(app, make_user):
    client = signed_in_client(app, make_user(Role.FUND_MANAGER, ""))
    for hostile in ("99999999999999999999", "-1", "0", "x", "1e3", ""):
        assert client.post("/auth/sessions/end", data={"session_id": hostile}).status_code == 400, hostile
    assert client.post("/auth/sessions/end", data={"session_id": "١٢٣٤٥"}).status_code == 404


def test_ending_a_session_without_a_csrf_token_is_refused(make_user, csrf_client):
    user = make_user(Role.FUND_MANAGER, "")
    laptop, phone = csrf_client(user), csrf_client(user)
    ids = session_ids(laptop.get("/auth/sessions").get_data(as_text=True))
    for session_id in ids:
        assert laptop.post("/auth/sessions/end", data={"session_id": session_id}).status_code == 400
    assert phone.get("/").status_code == 200


def test_strangers_are_sent_to_sign_in(client):
    assert client.get("/auth/sessions").headers["Location"].startswith("/auth/login")
    assert (
        client.post("/auth/sessions/end", data={"session_id": 1})
        .headers["Location"]
        .startswith("/auth/login")
    )


# --- administrators ------------------------------------------------------------------------------


def test_an_administrator_ends_all_of_a_users_sessions(app, make_user):
    user = make_user(Role.FUND_MANAGER, "")
    devices = [app.test_client() for _ in range(3)]
    for device in devices:
        sign_in(app, device, user)
    admin = signed_in_client(app, make_user(Role.ADMIN, ""))
    assert "End all sessions" in admin.get(f"/admin/users/{user.id}").get_data(as_text=True)
    response = admin.post(f"/admin/users/{user.id}/sessions/end")
    assert response.status_code == 302
    assert all(device.get("/").status_code == 302 for device in devices)
    assert admin.get("/").status_code == 200
    with app.app_context():
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "auth.sessions_ended_by_admin")
        )
        assert event is not None and event.object_id == str(user.id)


def test_only_administrators_end_a_users_sessions(app, make_user):
    user = make_user(Role.FUND_MANAGER, "")
    device = signed_in_client(app, user)
    for role in (Role.ADVOCATE, Role.SENIOR_ADVOCATE, Role.FUND_MANAGER, Role.AUDITOR):
        other = signed_in_client(app, make_user(role, "CAF"))
        assert other.post(f"/admin/users/{user.id}/sessions/end").status_code == 403, role
    assert device.get("/").status_code == 200


def test_ending_a_users_sessions_without_a_csrf_token_is_refused(make_user, csrf_client):
    user = make_user(Role.FUND_MANAGER, "")
    device, admin = csrf_client(user), csrf_client(Role.ADMIN, "")
    assert admin.post(f"/admin/users/{user.id}/sessions/end").status_code == 400
    assert device.get("/").status_code == 200
