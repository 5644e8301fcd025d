"""Every page each role may open on the demo data compiles its statements on its first views
only: from the second view on, each finds every statement in SQLAlchemy's compiled cache. A
subquery shared by several statements of a page must be a Core select: compiling one statement
set the ORM's compile options on an ORM select inside it, which changed the cache keys of the
others, so they were compiled again, on every view or on the next few (`glass_granted`,
`ledger.balances._postings_on`). Here, not in tests/bench: the demo data reaches the branches an
empty database skips, and a senior advocate holds a broken-glass grant."""

from __future__ import annotations

from typing import Any

import pytest

from tests.security.conftest import FIXED_ARGUMENTS, IN_SCOPE, Clients, in_address, seeded_objects
from tests.security.test_every_page_in_every_language import _RoleOnly
from vat.auth.models import Role
from vat.auth.policy import can, declared_permission
from vat.db import db

SKIPPED = frozenset({"static", "ledger.static", "main.health"})


@pytest.mark.parametrize("role", [Role.SENIOR_ADVOCATE, Role.ADVOCATE, Role.FUND_MANAGER, Role.AUDITOR])
def test_a_page_viewed_again_compiles_nothing(app: Any, make_user: Any, role: Role) -> None:
    values = {**seeded_objects(app, IN_SCOPE), **FIXED_ARGUMENTS}
    client = Clients(app, make_user).signed_in(role)
    with app.app_context():
        cache = db.engine._compiled_cache
    assert cache is not None
    recompiled, viewed = {}, 0
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        permission = declared_permission(app, rule.endpoint)
        if "GET" not in rule.methods or rule.endpoint in SKIPPED or permission.value == "public":
            continue
        if not can(_RoleOnly(role), permission):
            continue
        url = rule.build({name: values[name] for name in in_address(rule)}, append_unknown=False)[1]
        sizes = []
        for _ in range(4):
            response = client.get(url)
            response.close()
            if response.status_code != 200:
                break
            sizes.append(len(cache))
        if len(sizes) == 4:
            viewed += 1
            if not sizes[1] == sizes[2] == sizes[3]:
                recompiled[url] = sizes
    assert recompiled == {}
    assert viewed > 40
    assert len(cache) < cache.capacity  # nothing evicted: a size that stayed means nothing compiled
