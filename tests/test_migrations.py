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

from vat.auth.models import Role, User
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


def test_amounts_move_between_cents_and_their_currency_minor_units(app, make_user):
    """Migration 0900 rescales victim-side amounts stored in cents to their currency's own minor
    units (JPY 0, KWD 3), and its downgrade puts them back."""
    from tests.vat.conftest import register
    from vat.victims import assistance

    user = make_user(Role.ADVOCATE, "CAF")
    with app.app_context():
        actor = db.session.get(User, user.id)
        victim = register(actor, consents=["services"])
        for cost, currency in (("12.340", "KWD"), ("1200", "JPY"), ("85.50", "USD")):
            assistance.record_assistance(
                actor=actor,
                victim=victim,
                service_type="medical",
                status="completed",
                referral_date=victim.registered_on,
                start_date=victim.registered_on,
                end_date=victim.registered_on,
                cost=cost,
                currency=currency,
            )
        db.session.commit()
        stored = "SELECT currency, cost FROM vat_assistance ORDER BY currency"
        at_head = db.session.execute(text(stored)).all()
        db.session.commit()
        downgrade(revision="0800")
        in_cents = db.session.execute(text(stored)).all()
        db.session.commit()
        upgrade(revision="head")
        assert [tuple(r) for r in at_head] == [("JPY", 1200), ("KWD", 12340), ("USD", 8550)]
        assert [tuple(r) for r in in_cents] == [("JPY", 120000), ("KWD", 1234), ("USD", 8550)]
        assert db.session.execute(text(stored)).all() == at_head


def test_fields_that_can_carry_identity_are_encrypted_at_rest_and_back(app, make_user):
    """Migration 1070 encrypts the rows already there; its downgrade puts the clear text back."""
    from datetime import date

    from tests.vat.conftest import register
    from vat.victims import consents, family
    from vat.victims.models import Child, Disclosure

    user = make_user(Role.ADVOCATE, "CAF")
    with app.app_context():
        actor = db.session.get(User, user.id)
        victim = register(actor)
        family.add_child(actor=actor, victim=victim, birth_date=date(2019, 4, 2), sex="female")
        consents.record_disclosure(
            actor=actor,
            victim=victim,
            recipient_kind="provider",
            recipient="Clinique Sainte-Anne",
            purpose="Follow-up of the pregnancy",
            shared_on=None,
        )
        db.session.commit()
        stored = "SELECT birth_date, recipient, purpose FROM vat_child, vat_disclosure"
        at_head = db.session.execute(text(stored)).one()
        assert all(str(value).startswith("v1:") for value in at_head), "clear text at rest"
        assert db.session.query(Child).one().birth_date == date(2019, 4, 2)
        assert db.session.query(Disclosure).one().recipient == "Clinique Sainte-Anne"
        db.session.commit()
        downgrade(revision="0980")
        clear = db.session.execute(text(stored)).one()
        db.session.commit()
        upgrade(revision="heads")
        assert [str(value) for value in clear] == [
            "2019-04-02",
            "Clinique Sainte-Anne",
            "Follow-up of the pregnancy",
        ]
        db.session.expunge_all()
        assert db.session.query(Child).one().birth_date == date(2019, 4, 2)
        assert db.session.query(Disclosure).one().purpose == "Follow-up of the pregnancy"
