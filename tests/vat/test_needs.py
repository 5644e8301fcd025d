"""Needs and feedback, called directly: assessing, the rule that keeps a need current when a
service is recorded, the victims with a need not met, feedback on a service or a case update."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from tests.vat.conftest import assist, contact, register
from vat import audit
from vat.auth.models import User
from vat.db import db
from vat.errors import DomainError
from vat.inputs import InvalidField
from vat.victims import assistance, listing, needs, timeline
from vat.victims.models import Assistance, Need, NeedStatus, Victim


def _events(victim: Victim) -> list[tuple[str, dict]]:
    rows = db.session.scalars(
        select(audit.AuditEvent)
        .where(audit.AuditEvent.object_id == victim.case_code)
        .order_by(audit.AuditEvent.id)
    )
    return [(e.action, json.loads(e.detail)) for e in rows]


def _status(victim: Victim, kind: str) -> tuple[str, str | None]:
    need = db.session.scalar(select(Need).where(Need.victim_id == victim.id, Need.need_type == kind))
    assert need is not None
    return need.status, need.reason


def test_a_need_is_assessed_then_reassessed_in_one_row_and_audited(actor: User, ago: date) -> None:
    victim = register(actor)
    first = needs.assess_need(
        actor=actor,
        victim=victim,
        need_type="medical",
        status="unmet",
        reason="waiting_list",
        assessed_on=ago,
    )
    again = needs.assess_need(actor=actor, victim=victim, need_type="Medical", status="declined")
    assert again.id == first.id and again.status == "declined" and again.reason is None
    assert again.assessed_by_id == actor.id
    actions = [action for action, _detail in _events(victim)]
    assert "victim.need_create" in actions and "victim.need_update" in actions


def test_bad_assessments_are_refused_with_the_field_named(actor: User, today: date) -> None:
    victim = register(actor)
    cases = [
        ({"need_type": "food", "status": "unmet"}, "need_type"),
        ({"need_type": "legal", "status": "fine"}, "status"),
        ({"need_type": "legal", "status": "met", "reason": "no_funds"}, "reason"),
        ({"need_type": "legal", "status": "unmet", "reason": "bad luck"}, "reason"),
        ({"need_type": "legal", "status": "unmet", "assessed_on": today + timedelta(days=1)}, "assessed_on"),
        ({"need_type": "legal", "status": "unmet", "note": "x" * 2001}, "note"),
    ]
    for values, field in cases:
        with pytest.raises(InvalidField) as refused:
            needs.assess_need(actor=actor, victim=victim, **values)
        assert refused.value.field == field, values


def test_the_database_refuses_a_reason_for_a_need_met(actor: User) -> None:
    victim = register(actor)
    needs.assess_need(actor=actor, victim=victim, need_type="legal", status="met")
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.execute(text("UPDATE vat_need SET reason = 'no_funds'"))
    db.session.rollback()
    with pytest.raises(IntegrityError):
        db.session.execute(text("UPDATE vat_need SET status = 'bogus'"))
    db.session.rollback()


def test_the_note_is_encrypted_at_rest(actor: User) -> None:
    victim = register(actor)
    needs.assess_need(
        actor=actor, victim=victim, need_type="shelter", status="unmet", note="Lives with her uncle"
    )
    db.session.commit()
    stored = db.session.execute(text("SELECT note FROM vat_need")).scalar_one()
    assert stored.startswith("v1:") and "uncle" not in stored


def test_services_keep_the_need_of_their_type_current(actor: User, ago: date, today: date) -> None:
    victim = register(actor)
    for kind in ("medical", "legal", "psychosocial", "shelter"):
        needs.assess_need(actor=actor, victim=victim, need_type=kind, status="unmet", assessed_on=ago)
    needs.assess_need(actor=actor, victim=victim, need_type="education", status="no_longer_needed")

    def serve(kind: str, status: str, service: Assistance | None = None) -> Assistance:
        """A service of `kind` recorded (or `service` updated) with `status`, dated `ago`."""
        if service is None:
            return assist(actor, victim, status, ago, service_type=kind)
        dates = {"referral_date": ago, "start_date": ago, "end_date": today}
        return assistance.update_assistance(
            actor=actor, victim=victim, service=service, service_type=kind, status=status, **dates
        )

    # In progress: partly met. Completed with none other open: met.
    medical = serve("medical", "in_progress")
    assert _status(victim, "medical") == (NeedStatus.PARTLY_MET, None)
    serve("medical", "completed", medical)
    assert _status(victim, "medical") == (NeedStatus.MET, None)

    # Completed while another of the type is still referred: partly met.
    serve("legal", "referred")
    serve("legal", "completed")
    assert _status(victim, "legal") == (NeedStatus.PARTLY_MET, None)

    # Not available: the unmet need takes "no provider" as its reason; referred changes nothing.
    serve("psychosocial", "not_available")
    assert _status(victim, "psychosocial") == (NeedStatus.UNMET, "no_provider")
    serve("shelter", "referred")
    assert _status(victim, "shelter") == (NeedStatus.UNMET, None)

    # A need no longer needed stays so; a type never assessed creates no need.
    serve("education", "in_progress")
    assert _status(victim, "education") == (NeedStatus.NO_LONGER_NEEDED, None)
    serve("livelihood", "in_progress")
    assert db.session.scalar(select(Need).where(Need.need_type == "livelihood")) is None
    changes = [detail for action, detail in _events(victim) if action == "victim.need_update"]
    assert {"need": "medical", "status": "met", "reason": None, "assistance": medical.id} in changes


def test_a_refused_service_leaves_the_need_as_it_was(actor: User, ago: date) -> None:
    victim = register(actor, consents=[])
    needs.assess_need(actor=actor, victim=victim, need_type="medical", status="unmet")
    db.session.commit()
    with pytest.raises(DomainError):
        assist(actor, victim, "in_progress", ago)
    db.session.rollback()
    assert _status(victim, "medical") == (NeedStatus.UNMET, None)


def test_victims_with_a_need_not_met_are_listed_and_need_attention(actor: User) -> None:
    met, unmet, partly, none = (register(actor) for _ in range(4))
    needs.assess_need(actor=actor, victim=met, need_type="medical", status="met")
    needs.assess_need(actor=actor, victim=unmet, need_type="legal", status="unmet", reason="no_funds")
    needs.assess_need(actor=actor, victim=partly, need_type="shelter", status="partly_met")
    listed = listing.victims_page(actor, listing.VictimFilters(needs_not_met=True), page=1, per_page=20)
    assert {row.case_code for row in listed.items} == {unmet.case_code, partly.case_code}
    assert listed.total == 2  # counted from the needs' set, listed victim by victim: the same two
    attention = listing.attention(actor, mine_only=False)
    assert {(code, kind, status, reason) for _i, code, kind, status, reason in attention.needs_not_met} == {
        (unmet.case_code, "legal", "unmet", "no_funds"),
        (partly.case_code, "shelter", "partly_met", None),
    }
    timeline.load_victim_file(unmet)
    assert "need" in {item.kind for item in timeline.open_items(unmet, [])}
    assert none.needs == []


def test_feedback_on_a_service_and_on_a_case_update(actor: User, ago: date, today: date) -> None:
    victim = register(actor)
    service = assist(actor, victim, provider="Clinique A")
    update = contact(actor, victim, ago)
    on_service = needs.record_feedback(
        actor=actor,
        victim=victim,
        service=service,
        satisfaction="not_satisfied",
        complaint=True,
        complaint_text="Waited all day",
        follow_up_needed=True,
        follow_up_on=today + timedelta(days=7),
    )
    on_update = needs.record_feedback(
        actor=actor, victim=victim, communication=update, satisfaction="satisfied"
    )
    db.session.commit()
    assert needs.feedback_by_record(victim) == {
        ("service", service.id): [on_service],
        ("update", update.id): [on_update],
    }
    stored = db.session.execute(text("SELECT complaint_text FROM vat_feedback WHERE complaint")).scalar_one()
    assert stored.startswith("v1:") and "Waited" not in stored
    audited = [detail for action, detail in _events(victim) if action == "victim.feedback_create"]
    assert audited[0]["satisfaction"] == "not_satisfied" and "Waited" not in str(audited)


def test_bad_feedback_is_refused(actor: User, today: date) -> None:
    victim, other = register(actor), register(actor)
    service, others = assist(actor, victim), assist(actor, other)
    with pytest.raises(DomainError):
        needs.record_feedback(actor=actor, victim=victim, service=others, satisfaction="satisfied")
    with pytest.raises(DomainError):
        needs.record_feedback(actor=actor, victim=victim, satisfaction="satisfied")
    cases = [
        ({"satisfaction": "happy"}, "satisfaction"),
        ({"satisfaction": "unsure", "complaint_text": "Rude"}, "complaint"),
        ({"satisfaction": "unsure", "follow_up_on": today}, "follow_up_needed"),
        ({"satisfaction": "unsure", "given_on": today + timedelta(days=1)}, "given_on"),
        (
            {"satisfaction": "unsure", "follow_up_needed": True, "follow_up_on": today - timedelta(days=1)},
            "follow_up_on",
        ),
    ]
    for values, field in cases:
        with pytest.raises(InvalidField) as refused:
            needs.record_feedback(actor=actor, victim=victim, service=service, **values)
        assert refused.value.field == field, values
