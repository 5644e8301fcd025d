"""Login limits that cannot be turned against a user: a delay per account that doubles after the
free attempts (capped), a hard limit per address, and a device that signed in before keeps its
own count, so that someone who knows only a username cannot keep its owner out."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from tests.conftest import post_login
from vat.audit import AuditEvent
from vat.auth.models import Role
from vat.db import db


def checked_passwords(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).where(AuditEvent.action == "auth.login_failed"))


def test_a_burst_of_wrong_passwords_then_the_right_one_does_not_sign_in(app, make_user):
    user = make_user(Role.FUND_MANAGER, "")
    client = app.test_client()
    statuses = [post_login(client, user.username, f"guess number {n}!").status_code for n in range(11)]
    assert statuses == [200] * 5 + [429] * 6
    assert post_login(client, user.username).status_code == 429
    assert client.get("/").status_code == 302
    assert checked_passwords(app) == 5


def test_the_wait_doubles_and_is_capped(app, clock, make_user):
    user = make_user(Role.FUND_MANAGER, "")
    client = app.test_client()
    for n in range(5):
        post_login(client, user.username, f"guess {n}!!")
    for wait in (30, 60, 120, 240, 480, 900, 900):
        clock.shift(wait - 1)
        assert post_login(client, user.username, "still guessing").status_code == 429, wait
        clock.shift(1)
        assert post_login(client, user.username, "still guessing").status_code == 200, wait
    clock.shift(900)
    assert post_login(client, user.username).status_code == 302


def test_the_owner_signs_in_from_a_known_device_while_strangers_are_throttled(app, make_user):
    user = make_user(Role.FUND_MANAGER, "")
    owner = app.test_client()
    assert post_login(owner, user.username, address="192.0.2.10").status_code == 302
    owner.post("/auth/logout")
    assert owner.get_cookie("vat_device") is not None
    for n in range(20):  # someone who knows only the username, from many addresses
        post_login(app.test_client(), user.username, f"guess {n}!!", address=f"198.51.100.{n}")
    assert post_login(app.test_client(), user.username, address="192.0.2.10").status_code == 429
    assert post_login(owner, user.username, address="192.0.2.10").status_code == 302


def test_a_device_cookie_of_another_account_gives_no_count_of_its_own(app, make_user):
    user, target = make_user(Role.FUND_MANAGER, ""), make_user(Role.FUND_MANAGER, "")
    attacker = app.test_client()
    assert post_login(attacker, user.username).status_code == 302
    attacker.post("/auth/logout")
    statuses = [post_login(attacker, target.username, f"guess {n}!!").status_code for n in range(6)]
    assert statuses == [200] * 5 + [429]


def test_a_forged_device_cookie_is_ignored(app, make_user):
    user = make_user(Role.FUND_MANAGER, "")
    client = app.test_client()
    client.set_cookie("vat_device", "eyJ1c2VyIjoxLCJkZXZpY2UiOiJ4In0.forged.signature")
    statuses = [post_login(client, user.username, f"guess {n}!!").status_code for n in range(6)]
    assert statuses == [200] * 5 + [429]


def test_failures_are_forgotten_after_a_day(app, clock, make_user):
    user = make_user(Role.FUND_MANAGER, "")
    for n in range(5):
        post_login(app.test_client(), user.username, f"guess {n}!!")
    clock.shift(timedelta(hours=24, seconds=1))
    for n in range(4):
        assert post_login(app.test_client(), user.username, f"guess {n}!!").status_code == 200
    assert post_login(app.test_client(), user.username).status_code == 302


def test_a_success_does_not_count_against_the_address(app, make_user):
    app.config["VAT_LOGIN_MAX_FAILURES_PER_ADDRESS"] = 3
    user = make_user(Role.FUND_MANAGER, "")
    for _ in range(10):
        client = app.test_client()
        assert post_login(client, user.username, address="203.0.113.5").status_code == 302


def test_the_address_limit_holds_for_the_right_password(app, make_user):
    app.config["VAT_LOGIN_MAX_FAILURES_PER_ADDRESS"] = 3
    users = [make_user(Role.FUND_MANAGER, "") for _ in range(3)]
    for user in users:
        post_login(app.test_client(), user.username, "wrong password!", address="203.0.113.6")
    assert post_login(app.test_client(), users[0].username, address="203.0.113.6").status_code == 429
    assert post_login(app.test_client(), users[0].username, address="203.0.113.7").status_code == 302
