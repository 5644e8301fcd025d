"""A full disk and a locked database get a clear answer, and nothing is half-saved."""

from __future__ import annotations

import sqlite3

import pycountry
import pytest
from sqlalchemy import event

from tests.conftest import BACKEND, PASSWORD, row_count
from vat.audit import AuditEvent
from vat.auth.models import Role, User
from vat.db import db

pytestmark = pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite-specific fault injection")


def test_full_database_refuses_the_write_cleanly(app, client, login):
    login(Role.ADMIN, "")
    before = (row_count(app, User), row_count(app, AuditEvent))
    with app.app_context():
        engine = db.engine
        engine.dispose()
        raw = sqlite3.connect(engine.url.database, isolation_level=None)
        # Small pages and no free ones: the user's hundred scope rows must take new pages.
        raw.execute("PRAGMA journal_mode=DELETE")
        raw.execute("PRAGMA page_size=512")
        raw.execute("VACUUM")
        raw.close()

        @event.listens_for(engine, "connect")
        def cap_size(dbapi_connection, record):
            pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
            dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    many_countries = ", ".join(sorted(c.alpha_3 for c in pycountry.countries)[:99])
    # An auditor's account is created at once (a privileged one would wait for a second admin).
    form = {"username": "new.person", "password": PASSWORD, "role": "auditor", "scope": many_countries}
    response = client.post("/admin/users/new", data=form)
    assert response.status_code == 507, response.headers.get("Location")
    assert b"Nothing was saved" in response.get_data()
    with app.app_context():
        event.remove(db.engine, "connect", cap_size)
        db.engine.dispose()
    assert (row_count(app, User), row_count(app, AuditEvent)) == before


def test_locked_database_answers_try_again_and_writes_nothing(app, client, make_user):
    user = make_user(Role.FUND_MANAGER, "")
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    blocker = sqlite3.connect(path, timeout=1, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another writer holds the lock past our busy timeout
    try:
        with app.app_context():
            db.engine.dispose()

            @event.listens_for(db.engine, "connect")
            def short_timeout(dbapi_connection, record):
                dbapi_connection.execute("PRAGMA busy_timeout = 200")

        response = client.post("/auth/login", data={"username": user.username, "password": PASSWORD})
        assert response.status_code == 503
        assert b"Nothing was saved" in response.get_data()
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert (
        client.post("/auth/login", data={"username": user.username, "password": PASSWORD}).status_code == 302
    )
