"""Deny by default: every endpoint declares a permission, and each role reaches only its pages."""

from __future__ import annotations

import pytest
from sqlalchemy import String, literal, select

from vat.auth.models import Role, User
from vat.auth.policy import GRANTS, Permission, declared_permission, in_scope, scope_filter
from vat.db import db


def test_every_endpoint_declares_a_permission(app):
    undeclared = [
        rule.endpoint for rule in app.url_map.iter_rules() if declared_permission(app, rule.endpoint) is None
    ]
    assert undeclared == []


def test_an_undeclared_endpoint_is_refused(database_url, login):
    from tests.conftest import make_app, sign_in

    app = make_app(database_url)
    app.add_url_rule("/forgotten", "forgotten", lambda: "should never be seen")
    client = app.test_client()
    from vat.auth.services import create_user

    with app.app_context():
        user = create_user(
            actor=None, username="admin9", password="correct horse battery staple", role=Role.ADMIN
        )
        db.session.commit()
        uid = user.id
    from tests.conftest import TestUser

    sign_in(app, client, TestUser(uid, "admin9", Role.ADMIN))
    assert client.get("/forgotten").status_code == 403


FOUNDATION_PAGES = {
    "/": Permission.SIGNED_IN,
    "/auth/password": Permission.SIGNED_IN,
    "/admin/users": Permission.MANAGE_USERS,
    "/admin/users/new": Permission.MANAGE_USERS,
    "/admin/audit": Permission.READ_AUDIT,
    "/ledger/": Permission.READ_LEDGER,
}


@pytest.mark.parametrize("role", list(Role))
def test_each_role_reaches_only_its_pages(client, login, role):
    login(role, "CAF")
    for path, permission in FOUNDATION_PAGES.items():
        allowed = permission is Permission.SIGNED_IN or role in GRANTS[permission]
        status = client.get(path).status_code
        assert status == (200 if allowed else 403), (role, path, status)


def test_strangers_are_sent_to_login(client):
    for path in FOUNDATION_PAGES:
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")


def test_scope_filter_and_in_scope_agree(app, make_user):
    advocate = make_user(Role.ADVOCATE, "CAF, COD/MONUSCO")
    cases = {
        ("CAF", None): True,
        ("CAF", "MINUSCA"): True,
        ("COD", "MONUSCO"): True,
        ("COD", "OTHER"): False,
        ("HTI", None): False,
    }
    with app.app_context():
        user = db.session.get(User, advocate.id)
        for (country, mission), expected in cases.items():
            condition = scope_filter(user, literal(country), literal(mission, String))
            assert bool(db.session.scalar(select(condition))) is expected, (country, mission)
            assert in_scope(user, country, mission) is expected, (country, mission)


def test_roles_outside_the_case_work_see_no_scoped_rows(app, make_user):
    admin = make_user(Role.ADMIN, "")
    manager = make_user(Role.FUND_MANAGER, "")
    with app.app_context():
        assert in_scope(db.session.get(User, admin.id), "CAF", None) is False
        assert in_scope(db.session.get(User, manager.id), "CAF", None) is True
