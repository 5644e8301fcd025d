"""Two advocates moving the same claim at once take turns: the step is recorded once."""

from __future__ import annotations

import threading
import time
from datetime import date

from sqlalchemy import func, select

from tests.claims.conftest import S, claim_at
from vat.auth.models import Role, User
from vat.claims import listing, pipeline
from vat.claims.models import ClaimEvent
from vat.db import db


def test_two_referrals_at_once_record_one_step(app, make_user):
    first, second = make_user(Role.ADVOCATE, "CAF"), make_user(Role.ADVOCATE, "CAF")
    with app.app_context():
        claim_id = claim_at(db.session.get(User, first.id), S.CONSENT_OBTAINED).id
        db.session.commit()

    holding = threading.Event()
    outcomes: list[str] = []

    def refer(user_id: int, hold: bool) -> None:
        with app.app_context():
            actor = db.session.get(User, user_id)
            claim = listing.get_claim(actor, claim_id, for_update=True)
            pipeline.advance(actor=actor, claim=claim, to=S.REFERRED, on=date.today(), channel="email")
            if hold:
                holding.set()
                time.sleep(0.5)  # the other request arrives while this one holds the claim
            db.session.commit()
            outcomes.append(claim.step)

    first_thread = threading.Thread(target=refer, args=(first.id, True))
    first_thread.start()
    holding.wait(5)
    second_thread = threading.Thread(target=refer, args=(second.id, False))
    second_thread.start()
    first_thread.join(10)
    second_thread.join(10)

    assert outcomes == ["referred", "referred"]
    with app.app_context():
        referrals = db.session.scalar(
            select(func.count(ClaimEvent.id)).where(
                ClaimEvent.claim_id == claim_id, ClaimEvent.to_step == "referred"
            )
        )
        assert referrals == 1
