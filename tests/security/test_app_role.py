"""On PostgreSQL the application runs as a role that owns nothing (issue 15, item 6): with the
rights `flask grant-app-role` gives it, it books and verifies, but cannot change or remove a
ledger or audit row, empty their tables or disable their triggers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from typing import Any

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from ledger.verify import verify
from tests.conftest import BACKEND, PASSWORD, _admin_connection, _dispose_apps, make_app
from tests.ledger.conftest import Fund
from vat import audit
from vat.app_role import grants
from vat.auth import services as auth
from vat.auth.models import Role
from vat.db import db

pytestmark = pytest.mark.skipif(BACKEND != "postgres", reason="roles are PostgreSQL's")

ROLE = f"vat_app_test_{os.getpid()}"


@pytest.fixture
def app_role_url(runner: Any, database_url: str) -> Iterator[str]:
    with _admin_connection() as conn:
        conn.execute(f'DROP ROLE IF EXISTS "{ROLE}"')
        conn.execute(f'CREATE ROLE "{ROLE}" LOGIN')
    result = runner.invoke(args=["grant-app-role", ROLE])
    assert result.exit_code == 0, result.output
    yield make_url(database_url).set(username=ROLE, password=None).render_as_string(hide_password=False)
    _dispose_apps()
    owner_url = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute(f'DROP OWNED BY "{ROLE}"')  # its rights in this database
    with _admin_connection() as conn:
        conn.execute(f'DROP ROLE "{ROLE}"')


def test_the_app_role_books_and_verifies(app_role_url: str) -> None:
    app = make_app(app_role_url)
    with app.app_context():
        maker = auth.create_user(actor=None, username="approle1", password=PASSWORD, role=Role.FUND_MANAGER)
        Fund(maker).contribute("100", on=date.today())
        db.session.commit()
        assert verify().problem is None and audit.verify().problem is None


@pytest.mark.parametrize("table", ["ledger_entry", "ledger_posting", "audit_event"])
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE {table} SET id = id",
        "DELETE FROM {table}",
        "TRUNCATE {table} CASCADE",
        "ALTER TABLE {table} DISABLE TRIGGER ALL",
        "DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
    ],
)
def test_the_app_role_cannot_change_remove_or_unguard_chained_rows(
    app_role_url: str, table: str, statement: str
) -> None:
    app = make_app(app_role_url)
    with app.app_context(), pytest.raises(ProgrammingError, match="permission denied|must be owner"):
        db.session.execute(text(statement.format(table=table)))
    with app.app_context():
        db.session.rollback()


def test_the_grants_leave_the_migrations_table_read_only() -> None:
    revoked = [statement for statement in grants("r") if statement.startswith("REVOKE")]
    assert any("alembic_version" in statement for statement in revoked)
    assert any("ledger_entry" in statement and "audit_event" in statement for statement in revoked)
