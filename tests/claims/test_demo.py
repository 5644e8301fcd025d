"""The demo data holds claims at every step, each written through the services."""

from __future__ import annotations

from seeding.demo_claims import FRAMEWORKS, seed_claims
from vat.auth.models import Role
from vat.claims import frameworks, listing
from vat.claims.models import ClaimStep
from vat.db import db


def test_demo_claims_cover_every_step(app, make_user):
    for username, scope in (("amina.advocate", "CAF"), ("jean.advocate", "COD, HTI")):
        make_user(Role.ADVOCATE, scope, username=username)
    make_user(Role.SENIOR_ADVOCATE, "CAF, COD, HTI", username="grace.senior")
    with app.app_context():
        claims = seed_claims()
        db.session.commit()
        # the member-state frameworks each claim with a father of that nationality shows
        assert {f.member_state for f in frameworks.all_frameworks()} == {s for s, *_ in FRAMEWORKS}
        assert any(frameworks.framework_for(c.father_nationality or "") for c in claims)
        assert {c.current_step for c in claims} == set(ClaimStep)
        assert {c.closing_reason for c in claims} >= {"father_excluded", "resolved"}
        assert any(e.kind == "reopen" for c in claims for e in c.events)
        summary = listing.dashboard(claims[0].created_by)  # amina: CAF
        assert summary.waiting_flags[180] >= 1
        assert summary.update_owed >= 1 and summary.no_update >= 1
        assert any(b.arrears > 0 for b in summary.arrears)
