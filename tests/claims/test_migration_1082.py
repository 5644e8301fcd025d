"""Migration 1082 (paternity as it really goes) down and up again: the claims already there keep
their steps, children, orders and payments; the new step and bases are refused below it and
accepted above it; the new columns and tables come back empty."""

from __future__ import annotations

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from tests.claims.conftest import S, claim_at, pay
from vat.auth.models import Role, User
from vat.db import db

CLAIMS = "SELECT id, step, paternity_basis FROM vat_claim ORDER BY id"
PAYMENTS = "SELECT claim_id, amount, currency FROM vat_claim_payment ORDER BY id"


def test_1082_down_and_up_keeps_claims_and_checks_the_new_values(app, make_user):
    user = make_user(Role.ADVOCATE, "CAF")
    with app.app_context():
        actor = db.session.get(User, user.id)
        paying = claim_at(actor, S.PAYING)
        pay(actor, paying, "50.00")
        claim_at(actor, S.REFERRED)
        db.session.commit()
        claims, payments = db.session.execute(text(CLAIMS)).all(), db.session.execute(text(PAYMENTS)).all()
        db.session.commit()

        downgrade(revision="1080")
        columns = {c["name"] for c in inspect(db.engine).get_columns("vat_claim_payment")}
        assert "reverses_id" not in columns
        assert not inspect(db.engine).has_table("vat_claim_framework")
        assert db.session.execute(text(CLAIMS)).all() == claims
        with pytest.raises(IntegrityError):
            db.session.execute(text("UPDATE vat_claim SET step = 'father_unavailable'"))
        db.session.rollback()

        upgrade(revision="heads")
        assert db.session.execute(text(CLAIMS)).all() == claims
        assert db.session.execute(text(PAYMENTS)).all() == payments
        db.session.execute(
            text("UPDATE vat_claim SET step = 'father_unavailable', paternity_basis = 'court_refusal'")
        )
        db.session.rollback()
        for bad in (
            "forum = 'moon'",
            "dna_cost_paid_by = 'nobody'",
            "father_obstacle = 'asleep'",
            "dna_cost = 0",
        ):
            with pytest.raises(IntegrityError):
                db.session.execute(text(f"UPDATE vat_claim SET {bad}"))  # noqa: S608 - fixed test values
            db.session.rollback()
        confirmed = (
            db.session.execute(text("SELECT confirmed_unusual FROM vat_claim_payment")).scalars().all()
        )
        assert confirmed and not any(confirmed)
