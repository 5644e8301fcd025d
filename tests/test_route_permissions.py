"""Every page without URL parameters, requested by every role: those the role lacks the permission
for answer 403, the others do not. New routes join this test automatically."""

from __future__ import annotations

import pytest

from vat.auth.models import Role
from vat.auth.policy import Permission, can, declared_permission


class _RoleOnly:
    is_authenticated = True

    def __init__(self, role: Role) -> None:
        self.role = role


def parameterless_get_routes(app):
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.arguments and rule.endpoint != "static":
            yield rule.rule, declared_permission(app, rule.endpoint)


@pytest.mark.parametrize("role", list(Role))
def test_every_page_answers_by_its_declared_permission(app, client, login, role):
    login(role, "CAF")
    checked = 0
    for path, permission in parameterless_get_routes(app):
        if permission is Permission.PUBLIC:
            continue
        status = client.get(path).status_code
        if can(_RoleOnly(role), permission):
            assert status != 403 and status < 500, (role, path, status)
        else:
            assert status == 403, (role, path, status)
        checked += 1
    assert checked >= 5
