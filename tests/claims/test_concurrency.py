"""Two advocates moving the same claim at once take turns: the step is recorded once."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from tests.claims.conftest import S, taking_turns
from vat.auth.models import User
from vat.claims import pipeline
from vat.claims.models import Claim, ClaimEvent
from vat.db import db


def test_two_referrals_at_once_record_one_step(app, make_user):
    outcomes: list[str] = []

    def refer(actor: User, claim: Claim) -> None:
        pipeline.advance(actor=actor, claim=claim, to=S.REFERRED, on=date.today(), channel="email")
        outcomes.append(claim.step)

    claim_id = taking_turns(app, make_user, S.CONSENT_OBTAINED, refer, refer)

    assert outcomes == ["referred", "referred"]
    with app.app_context():
        referrals = db.session.scalar(
            select(func.count(ClaimEvent.id)).where(
                ClaimEvent.claim_id == claim_id, ClaimEvent.to_step == "referred"
            )
        )
        assert referrals == 1
