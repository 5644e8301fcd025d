"""The demo data holds claims at every step, each written through the services."""

from __future__ import annotations

from seeding.demo_claims import seed_claims
from vat.auth.models import Role
from vat.claims import listing
from vat.claims.models import ClaimStep
from vat.db import db


def test_demo_claims_cover_every_step(app, make_user):
    for username, scope in (("amina.advocate", "CAF"), ("jean.advocate", "COD, HTI")):
        make_user(Role.ADVOCATE, scope, username=username)
    with app.app_context():
        claims = seed_claims()
        db.session.commit()
        assert {c.current_step for c in claims} == set(ClaimStep)
        assert {c.closing_reason for c in claims} >= {"father_excluded", "resolved"}
        assert any(e.kind == "reopen" for c in claims for e in c.events)
        summary = listing.dashboard(claims[0].created_by)  # amina: CAF
        assert summary.waiting_flags[180] >= 1
        assert summary.update_owed >= 1 and summary.no_update >= 1
        assert any(b.arrears > 0 for b in summary.arrears)
