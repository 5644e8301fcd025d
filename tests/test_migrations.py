"""Models and migrations agree, there is one head, and migrations build this backend from empty
(the suite's template database is built by them, on SQLite and, in the second pass, PostgreSQL)."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import CheckConstraint, inspect
from sqlalchemy.exc import IntegrityError

from vat.db import db


def script_directory(app) -> ScriptDirectory:
    config = app.extensions["migrate"].migrate.get_config(app.extensions["migrate"].directory)
    return ScriptDirectory.from_config(config)


def test_single_head(app):
    with app.app_context():
        assert len(script_directory(app).get_heads()) == 1


def test_models_match_migrations(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []


def test_database_is_at_head(app):
    with app.app_context(), db.engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
        assert current == set(script_directory(app).get_heads())


def test_check_constraints_match_the_models(app):
    """Alembic does not compare CHECK constraints: every one the models declare is in the database."""
    with app.app_context(), db.engine.connect() as connection:
        inspector = inspect(connection)
        for table in db.metadata.sorted_tables:
            declared = {c.name for c in table.constraints if isinstance(c, CheckConstraint)}
            built = {c["name"] for c in inspector.get_check_constraints(table.name)}
            assert declared <= built, table.name


def test_enumerated_columns_and_signs_are_checked(app):
    with app.app_context(), db.engine.connect() as connection:
        for statement in (
            "UPDATE ledger_account SET type = 'bogus'",
            "UPDATE ledger_account SET controls = 'bogus' WHERE controls IS NOT NULL",
        ):
            with pytest.raises(IntegrityError), connection.begin():
                connection.exec_driver_sql(statement)
