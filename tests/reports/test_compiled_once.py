"""Pages whose statements each read the viewer's reach are compiled on a process's first view
only: each view after it finds every statement in SQLAlchemy's compiled cache. One condition may
serve several statements of a page: the senior advocate's broken-glass grants inside it are a Core
subquery (`vat.auth.policy.glass_granted`). As an ORM subquery, the first statement's compile
changed the others' cache keys, and one of them was compiled again on every view (~5-10 ms of CPU
a view at 100,000 victims): the UN report and its figures pack, the claims report, the
needs-attention page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from vat.auth.models import Role
from vat.db import db

PAGES = [
    "/reports/un-report",
    "/reports/un-report/figures-pack.zip?period=year&year=2017",
    "/reports/claims",
    "/vat/attention",
    "/vat/attention?all=1",
]


@pytest.mark.parametrize("page", PAGES)
def test_a_repeat_view_compiles_no_statement(
    app: Flask, client: FlaskClient, login: Callable[..., Any], page: str
) -> None:
    login(Role.SENIOR_ADVOCATE, "CAF")
    with app.app_context():
        cache = db.engine._compiled_cache
    assert cache is not None
    sizes = []
    for _ in range(4):
        assert client.get(page).status_code == 200
        sizes.append(len(cache))
    assert sizes[1] == sizes[2] == sizes[3], sizes
