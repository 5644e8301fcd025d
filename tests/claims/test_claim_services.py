"""Correspondence waiting times, victim updates, identity audit, lists and the dashboard."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from tests.claims.conftest import S, claim_at, new_victim, open_claim, pay
from vat.audit import AuditEvent
from vat.auth.models import Role, User
from vat.claims import correspondence, listing, pipeline
from vat.db import db
from vat.errors import DomainError


def letter(actor, claim, direction, dated_on, channel="email"):
    return correspondence.record_letter(
        actor=actor, claim=claim, direction=direction, dated_on=dated_on, channel=channel
    )


def test_waiting_on_the_member_state_and_its_flags(advocate, today):
    claim = claim_at(advocate, S.CONSENT_OBTAINED)
    assert correspondence.waiting(claim) is None
    pipeline.advance(actor=advocate, claim=claim, to=S.REFERRED, on=today - timedelta(days=95))
    waiting = correspondence.waiting(claim)
    assert (waiting.member_state, waiting.days, waiting.flag) == ("BGD", 95, 90)
    assert waiting.text == "waiting on BGD for 95 days"
    letter(advocate, claim, "sent", today - timedelta(days=40), channel="note_verbale")
    assert correspondence.waiting(claim).days == 95  # still waiting since the first unanswered letter
    letter(advocate, claim, "received", today - timedelta(days=10))
    assert correspondence.waiting(claim) is None
    letter(advocate, claim, "sent", today)
    assert correspondence.waiting(claim).days == 0 and correspondence.waiting(claim).flag == 0
    assert correspondence.waiting(claim, today + timedelta(days=200)).flag == 180
    assert correspondence.waiting(claim, today + timedelta(days=31)).flag == 30


def test_letters_refused_before_opening_and_on_closed_claims(advocate, today):
    claim = claim_at(advocate, S.REFERRED)
    with pytest.raises(DomainError, match="before the claim was opened"):
        letter(advocate, claim, "sent", today - timedelta(days=1000))
    pipeline.advance(actor=advocate, claim=claim, to=S.CLOSED, reason="withdrawn")
    with pytest.raises(DomainError, match="closed"):
        letter(advocate, claim, "sent", today)


def test_each_step_change_owes_the_victim_an_update(advocate, today):
    claim = claim_at(advocate, S.CONSENT_OBTAINED)
    assert correspondence.victim_update_owed(claim)
    correspondence.inform_victim(
        actor=advocate,
        claim=claim,
        occurred_on=today - timedelta(days=5),
        channel="in_person",
        summary=correspondence.update_text(claim),
    )
    assert not correspondence.victim_update_owed(claim)
    assert claim.victim.last_update_on == today - timedelta(days=5)
    pipeline.advance(actor=advocate, claim=claim, to=S.REFERRED, on=today)
    assert correspondence.victim_update_owed(claim)
    correspondence.inform_victim(
        actor=advocate, claim=claim, occurred_on=today, channel="phone", summary=None
    )
    assert not correspondence.victim_update_owed(claim)


def test_no_update_for_90_days_is_flagged(advocate, today):
    claim = claim_at(advocate, S.REFERRED)
    assert correspondence.victim_without_update(claim)  # never informed, opened 100 days ago
    correspondence.inform_victim(
        actor=advocate, claim=claim, occurred_on=today - timedelta(days=89), channel="phone", summary=None
    )
    assert not correspondence.victim_without_update(claim)
    assert correspondence.victim_without_update(claim, today + timedelta(days=1))


def test_informing_needs_the_contact_consent(advocate, today):
    victim = new_victim(advocate, consents=("share_member_state",))
    claim = open_claim(advocate, victim)
    with pytest.raises(DomainError, match="consent"):
        correspondence.inform_victim(
            actor=advocate, claim=claim, occurred_on=today, channel="phone", summary=None
        )


def test_father_identity_is_encrypted_and_every_reading_audited(advocate):
    claim = claim_at(advocate, S.RECORDED)
    db.session.flush()
    raw = db.session.execute(
        text("SELECT father_name, father_service_number, father_unit FROM vat_claim WHERE id = :id"),
        {"id": claim.id},
    ).one()
    assert all(value.startswith("v1:") for value in raw)
    assert "Example" not in "".join(raw)
    identity = pipeline.read_father_identity(actor=advocate, claim=claim)
    assert identity["father_name"] == "Sgt Example"
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "claim")).all()
    assert [e.action for e in events][-1] == "claim.view_identity"
    assert all("Example" not in e.detail and "SN-1234" not in e.detail for e in events)
    assert {json.loads(e.detail)["victim"] for e in events} == {claim.victim.case_code}


def test_update_father(advocate):
    claim = claim_at(advocate, S.RECORDED)
    father = {
        "father_name": "Cpl Другой",
        "father_service_number": None,
        "father_unit": "2nd",
        "father_nationality": "NPL",
        "father_category": "formed_police",
    }
    pipeline.update_father(actor=advocate, claim=claim, **father)
    assert (claim.father_name, claim.father_nationality, claim.father_category) == (
        "Cpl Другой",
        "NPL",
        "formed_police",
    )
    with pytest.raises(DomainError, match="ISO 3166"):
        pipeline.update_father(actor=advocate, claim=claim, **{**father, "father_nationality": "ZZZ"})


def test_lists_stay_in_scope_sort_oldest_waiting_first_and_sum_up(ctx, make_user, today):
    first, second = make_user(Role.ADVOCATE, "CAF"), make_user(Role.ADVOCATE, "COD")
    advocate, other = db.session.get(User, first.id), db.session.get(User, second.id)
    old = claim_at(advocate, S.CONSENT_OBTAINED, opened_on=today - timedelta(days=300))
    pipeline.advance(actor=advocate, claim=old, to=S.REFERRED, on=today - timedelta(days=200))
    recent = claim_at(advocate, S.CONSENT_OBTAINED)
    pipeline.advance(actor=advocate, claim=recent, to=S.REFERRED, on=today - timedelta(days=40))
    paying = claim_at(advocate, S.SUPPORT_ORDERED)
    pay(advocate, paying, "10.00")
    closed = claim_at(advocate, S.CLOSED)
    hidden = claim_at(other, S.RECORDED, victim=new_victim(other, country="COD"))

    def listed(**filters: str) -> list[int]:
        page = listing.claims_page(advocate, listing.ClaimFilters(**filters))
        return [r.claim.id for r in page.items]

    assert listed() == [old.id, paying.id, recent.id, closed.id]  # paying: 100 days
    assert hidden.id not in listed()
    assert listing.get_claim(advocate, hidden.id) is None
    assert listed(step="paying") == [paying.id]
    assert listed(country_code="COD") == []
    assert len(listed(member_state="BGD")) == 4

    summary = listing.dashboard(advocate)
    assert summary.total == 4
    assert dict(summary.by_step)[S.REFERRED] == 2
    assert summary.by_member_state == [("BGD", 3, 200)]
    assert summary.waiting_flags == {180: 1, 90: 1, 30: 1}
    assert summary.arrears[0].currency == "USD"
    assert summary.arrears[0].received == 10
    assert summary.arrears[0].arrears == summary.arrears[0].due - 10


def test_key_rotation_moves_the_fathers_identity_and_letters_to_the_new_key(app, database_url, make_user):
    from tests.conftest import make_app
    from vat.claims.models import Claim
    from vat.cli import rotate_all
    from vat.crypto import generate_key_entry

    user = make_user(Role.ADVOCATE, "CAF")
    with app.app_context():
        claim = claim_at(db.session.get(User, user.id), S.REFERRED)
        db.session.commit()
        claim_id, old_key = claim.id, app.config["VAT_DATA_KEY"]
    new_entry = generate_key_entry()
    rotated = make_app(database_url, VAT_DATA_KEY=f"{new_entry},{old_key}")
    with rotated.app_context():
        rotate_all()
        db.session.commit()
    only_new = make_app(database_url, VAT_DATA_KEY=new_entry)
    with only_new.app_context():
        claim = db.session.get(Claim, claim_id)
        assert claim.father_name == "Sgt Example" and claim.father_unit == "3rd Battalion"
        assert claim.letters[0].summary == "Referral of the paternity claim"
