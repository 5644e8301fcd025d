"""Models and migrations agree, there is one head, and migrations build this backend from empty
(the suite's template database is built by them, on SQLite and, in the second pass, PostgreSQL)."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import CheckConstraint, inspect, text
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


def test_baseline_downgrades_to_empty_and_builds_again(app):
    """The 1073 baseline (the squashed history) drops everything it made, triggers and functions
    included, and builds the same schema and reference rows again."""
    with app.app_context():
        downgrade(revision="base")
        with db.engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
        upgrade(revision="head")
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, db.metadata) == []
            currencies = connection.execute(text("SELECT count(*) FROM ledger_currency")).scalar()
            accounts = connection.execute(text("SELECT count(*) FROM ledger_account")).scalar()
            rules = connection.execute(text("SELECT count(*) FROM vat_clock_rule")).scalar()
        assert (currencies, accounts, rules) == (21, 12, 5)


def test_fields_that_can_carry_identity_are_encrypted_at_rest(app, make_user):
    """Children's birth dates and disclosures' recipients and purposes are stored as ciphertext
    (text columns since the former migration 1070, now in the baseline) and read back clear."""
    from datetime import date

    from tests.vat.conftest import register, share
    from vat.auth.models import Role, User
    from vat.victims import family
    from vat.victims.models import Child, Disclosure

    user = make_user(Role.ADVOCATE, "CAF")
    with app.app_context():
        actor = db.session.get(User, user.id)
        victim = register(actor)
        family.add_child(actor=actor, victim=victim, birth_date=date(2019, 4, 2), sex="female")
        share(actor, victim, "Clinique Sainte-Anne", "Follow-up of the pregnancy")
        db.session.commit()
        stored = db.session.execute(
            text("SELECT birth_date, recipient, purpose FROM vat_child, vat_disclosure")
        ).one()
        assert all(str(value).startswith("v1:") for value in stored), "clear text at rest"
        db.session.expunge_all()
        assert db.session.query(Child).one().birth_date == date(2019, 4, 2)
        assert db.session.query(Disclosure).one().recipient == "Clinique Sainte-Anne"
