"""Paternity as it really goes (issue 18): claims opened during pregnancy and the child linked when
born; the alleged father unavailable; courts deciding on presumption or on his refusal without
DNA; the law, the forum, the representation and the case's dates; the DNA cost and its payer;
interim support linked to the claim; the member states' frameworks."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from tests.claims.conftest import S, claim_at, new_victim, open_claim, refuse_move
from tests.vat.conftest import give_consents
from vat.audit import AuditEvent
from vat.auth.models import Role, User
from vat.claims import frameworks, legal, pipeline
from vat.claims.history import IllegalMove
from vat.claims.models import Claim, Framework
from vat.db import db
from vat.errors import DomainError
from vat.inputs import InvalidField
from vat.victims import assistance

pytestmark = pytest.mark.usefixtures("clock")  # the day stands still through each test


def days_from_today(days: int = 0) -> date:
    """Read when the test runs, never at import: a run may cross midnight."""
    return date.today() + timedelta(days=days)


def pregnancy_claim(advocate, expected: date | None = None) -> Claim:  # type: ignore[no-untyped-def]
    victim = new_victim(advocate, children=0)
    return open_claim(advocate, victim, child_ids=[], expected_birth_on=expected or days_from_today(90))


def walk(advocate, claim: Claim, *steps: tuple[S, dict]) -> Claim:  # type: ignore[no-untyped-def]
    for step, details in steps:
        pipeline.advance(actor=advocate, claim=claim, to=step, on=claim.step_on, **details)
    return claim


REFER = (S.REFERRED, {"channel": "note_verbale"})


# --- pregnancy ------------------------------------------------------------------------------------


def test_a_claim_opens_during_pregnancy_with_the_expected_birth(advocate):
    claim = pregnancy_claim(advocate, days_from_today(120))
    db.session.commit()
    db.session.expire_all()
    assert claim.expecting and claim.children == []
    assert claim.expected_birth_on == days_from_today(120)
    stored = db.session.execute(
        text(f"SELECT expected_birth_on FROM vat_claim WHERE id = {claim.id}")
    ).scalar()  # noqa: S608
    assert str(stored).startswith("v1:")  # it dates a birth: encrypted like a birth date


def test_a_claim_needs_children_or_an_expected_birth_not_both_nor_neither(advocate):
    victim = new_victim(advocate)
    with pytest.raises(InvalidField, match="or for a pregnancy"):
        open_claim(advocate, victim, expected_birth_on=days_from_today(30))
    with pytest.raises(InvalidField, match="or give the expected birth date"):
        open_claim(advocate, victim, child_ids=[])
    with pytest.raises(InvalidField, match="within ten months"):
        open_claim(
            advocate,
            victim,
            child_ids=[],
            opened_on=days_from_today(),
            expected_birth_on=days_from_today(400),
        )


def test_sampling_and_an_order_wait_for_the_child_then_the_child_is_linked(advocate):
    claim = walk(advocate, pregnancy_claim(advocate), (S.CONSENT_OBTAINED, {}), REFER, (S.DNA_REQUESTED, {}))
    refuse_move(advocate, claim, S.SAMPLES_TAKEN, "not born yet")
    child = legal.link_child(actor=advocate, claim=claim, birth_date=days_from_today(), sex="female")
    assert claim.children == [child] and child in claim.victim.children and not claim.expecting
    assert claim.expected_birth_on is not None  # the expectation stays as it was recorded
    pipeline.advance(actor=advocate, claim=claim, to=S.SAMPLES_TAKEN)
    assert claim.current_step is S.SAMPLES_TAKEN
    with pytest.raises(InvalidField, match="already linked"):
        legal.link_child(actor=advocate, claim=claim, child_id=child.id)
    with pytest.raises(InvalidField, match="date of birth"):
        legal.link_child(actor=advocate, claim=claim)


def test_paternity_acknowledged_before_birth_but_no_order_before_the_child(advocate):
    claim = walk(
        advocate,
        pregnancy_claim(advocate),
        (S.CONSENT_OBTAINED, {}),
        REFER,
        (S.PATERNITY_ESTABLISHED, {"basis": "acknowledgment"}),
    )
    with pytest.raises(IllegalMove, match="not born yet"):
        pipeline.advance(
            actor=advocate,
            claim=claim,
            to=S.SUPPORT_ORDERED,
            amount="50",
            currency="USD",
            frequency="monthly",
        )


def test_only_the_victims_own_child_is_linked(advocate):
    claim = pregnancy_claim(advocate)
    stranger = new_victim(advocate)
    with pytest.raises(InvalidField, match="this victim's children"):
        legal.link_child(actor=advocate, claim=claim, child_id=stranger.children[0].id)


# --- the alleged father unavailable, and courts without DNA ----------------------------------------


@pytest.mark.parametrize("obstacle", ["refused_sampling", "untraceable", "left_service"])
def test_the_father_unavailable_is_recorded_and_the_claim_can_go_on_or_close(advocate, obstacle):
    claim = claim_at(advocate, S.DNA_REQUESTED)
    pipeline.advance(actor=advocate, claim=claim, to=S.FATHER_UNAVAILABLE, obstacle=obstacle)
    assert (claim.current_step, claim.father_obstacle, claim.events[-1].note) == (
        S.FATHER_UNAVAILABLE,
        obstacle,
        obstacle,
    )
    assert pipeline.allowed_steps(claim) == [S.DNA_REQUESTED, S.PATERNITY_ESTABLISHED, S.CLOSED]


def test_unavailable_needs_a_reason(advocate):
    claim = claim_at(advocate, S.REFERRED)
    refuse_move(
        advocate, claim, S.FATHER_UNAVAILABLE, "why the alleged father is unavailable", error=InvalidField
    )


def test_a_court_decides_on_the_fathers_refusal_only_after_he_refused(advocate):
    claim = claim_at(advocate, S.REFERRED)
    refuse_move(
        advocate, claim, S.PATERNITY_ESTABLISHED, "refusal of sampling is recorded", basis="court_refusal"
    )
    pipeline.advance(actor=advocate, claim=claim, to=S.FATHER_UNAVAILABLE, obstacle="untraceable")
    refuse_move(
        advocate, claim, S.PATERNITY_ESTABLISHED, "refusal of sampling is recorded", basis="court_refusal"
    )
    refused = claim_at(advocate, S.FATHER_UNAVAILABLE)  # refused sampling
    pipeline.advance(actor=advocate, claim=refused, to=S.PATERNITY_ESTABLISHED, basis="court_refusal")
    assert (refused.paternity_basis, refused.judgment_on) == ("court_refusal", refused.step_on)


def test_a_court_decides_on_a_presumption_without_dna_but_not_against_an_exclusion(advocate):
    untraced = claim_at(advocate, S.REFERRED)
    pipeline.advance(actor=advocate, claim=untraced, to=S.FATHER_UNAVAILABLE, obstacle="untraceable")
    pipeline.advance(actor=advocate, claim=untraced, to=S.PATERNITY_ESTABLISHED, basis="court_presumption")
    assert untraced.paternity_basis == "court_presumption"
    excluded = claim_at(advocate, S.DNA_RESULT, dna_result="exclusion")
    with pytest.raises(IllegalMove, match="excluded the alleged father"):
        pipeline.advance(
            actor=advocate, claim=excluded, to=S.PATERNITY_ESTABLISHED, basis="court_presumption"
        )


def test_a_court_decision_on_dna_evidence_needs_a_result(advocate):
    claim = claim_at(advocate, S.FATHER_UNAVAILABLE)
    refuse_move(advocate, claim, S.PATERNITY_ESTABLISHED, "needs a DNA result", basis="court_decision")
    with_result = claim_at(advocate, S.DNA_RESULT)
    pipeline.advance(actor=advocate, claim=with_result, to=S.PATERNITY_ESTABLISHED, basis="court_decision")
    assert with_result.current_step is S.PATERNITY_ESTABLISHED


def test_no_court_basis_when_the_forum_is_an_agreement(advocate):
    claim = claim_at(advocate, S.REFERRED)
    legal.record_legal(actor=advocate, claim=claim, forum="agreement")
    refuse_move(
        advocate, claim, S.PATERNITY_ESTABLISHED, "agreement between the parents", basis="court_presumption"
    )
    pipeline.advance(actor=advocate, claim=claim, to=S.PATERNITY_ESTABLISHED, basis="acknowledgment")


def test_a_traced_father_is_sampled_after_all(advocate):
    claim = claim_at(advocate, S.FATHER_UNAVAILABLE)
    pipeline.advance(actor=advocate, claim=claim, to=S.DNA_REQUESTED)
    pipeline.advance(actor=advocate, claim=claim, to=S.SAMPLES_TAKEN)
    assert claim.current_step is S.SAMPLES_TAKEN


# --- the case at law, the DNA cost, interim support --------------------------------------------------


def test_law_forum_representation_and_dates(advocate):
    claim = claim_at(advocate, S.REFERRED)
    legal.record_legal(
        actor=advocate,
        claim=claim,
        applicable_law="bgd",
        forum="member_state_courts",
        representation="legal_aid",
        represented_by="Legal Aid Clinic, Dhaka (Ms R. Karim)",
        filed_on=days_from_today(-30),
        hearing_on=days_from_today(60),
    )
    db.session.commit()
    db.session.expire_all()
    assert (claim.applicable_law, claim.forum, claim.representation) == (
        "BGD",
        "member_state_courts",
        "legal_aid",
    )
    assert claim.represented_by == "Legal Aid Clinic, Dhaka (Ms R. Karim)"
    assert claim.hearing_on == days_from_today(60)  # a hearing may be ahead
    raw = db.session.execute(text(f"SELECT represented_by FROM vat_claim WHERE id = {claim.id}")).scalar()  # noqa: S608
    assert str(raw).startswith("v1:")
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "claim.legal")).one()
    assert "Karim" not in audit.detail


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"representation": "legal_aid"}, "represented_by"),
        ({"representation": "none", "represented_by": "Someone"}, "representation"),
        ({"filed_on": 0, "judgment_on": -1}, "judgment_on"),  # dates: days from the test's day
        ({"judgment_on": 1}, "judgment_on"),
        ({"hearing_on": 4000}, "hearing_on"),
        ({"forum": "the moon"}, "forum"),
    ],
)
def test_legal_details_refused(advocate, values, field):
    claim = claim_at(advocate, S.REFERRED)
    values = {name: days_from_today(v) if name.endswith("_on") else v for name, v in values.items()}
    with pytest.raises(InvalidField) as refused:
        legal.record_legal(actor=advocate, claim=claim, **values)
    assert refused.value.field == field


def test_the_dna_cost_keeps_its_currency_decimals_and_its_payer(advocate):
    claim = claim_at(advocate, S.SAMPLES_TAKEN)
    legal.record_dna_cost(actor=advocate, claim=claim, amount="180.500", currency="KWD", paid_by="trust_fund")
    db.session.commit()
    db.session.expire_all()
    assert (claim.dna_cost, claim.dna_cost_minor, claim.dna_cost_paid_by) == (
        Decimal("180.500"),
        180500,
        "trust_fund",
    )
    with pytest.raises(DomainError, match="XAF amounts"):
        legal.record_dna_cost(
            actor=advocate, claim=claim, amount="12.5", currency="XAF", paid_by="member_state"
        )
    with pytest.raises(InvalidField, match="who paid"):
        legal.record_dna_cost(actor=advocate, claim=claim, amount="100", currency="USD", paid_by="")


def test_interim_support_is_a_service_on_the_victims_file_linked_to_the_claim(advocate):
    claim = claim_at(advocate, S.REFERRED)
    give_consents(advocate, claim.victim, ("services",), given_on=days_from_today(-20), version="v1")
    service = assistance.record_assistance(
        actor=advocate,
        victim=claim.victim,
        service_type="material",
        status="referred",
        referral_date=days_from_today(-10),
    )
    assert legal.unlinked_services(claim) == [service]
    legal.link_support(actor=advocate, claim=claim, assistance_id=service.id)
    assert claim.interim_support == [service] and legal.unlinked_services(claim) == []
    with pytest.raises(InvalidField, match="already linked"):
        legal.link_support(actor=advocate, claim=claim, assistance_id=service.id)
    other = claim_at(advocate, S.REFERRED)
    with pytest.raises(InvalidField, match="this victim's services"):
        legal.link_support(actor=advocate, claim=other, assistance_id=service.id)


# --- frameworks ------------------------------------------------------------------------------------


def test_a_framework_per_member_state_is_saved_and_replaced(app, make_user):
    with app.app_context():
        senior = db.session.get(User, make_user(Role.SENIOR_ADVOCATE, "CAF").id)
        saved = frameworks.save_framework(
            actor=senior,
            member_state="bgd",
            focal_point="Col. A. Rahman, Permanent Mission",
            forum="member_state_courts",
            documents="Birth certificate; mother's statement",
            laboratory="Dhaka CMH laboratory",
            reply_days="45",
            dna_days=90,
        )
        again = frameworks.save_framework(actor=senior, member_state="BGD", decision_days=365)
        db.session.commit()
        assert again.id == saved.id and frameworks.framework_for("BGD") is saved
        assert (saved.focal_point, saved.reply_days, saved.decision_days) == (None, None, 365)
        frameworks.save_framework(actor=senior, member_state="BGD", focal_point="Col. A. Rahman")
        db.session.commit()
        raw = db.session.execute(text("SELECT focal_point FROM vat_claim_framework")).scalar()
        assert str(raw).startswith("v1:")
        with pytest.raises(InvalidField, match="number of days"):
            frameworks.save_framework(actor=senior, member_state="BGD", dna_days="soon")
        with pytest.raises(InvalidField, match="between 1 and"):
            frameworks.save_framework(actor=senior, member_state="BGD", dna_days=0)
        assert db.session.scalars(select(Framework)).all() == [saved]


def test_a_court_decided_claim_cannot_be_recorded_as_an_agreement(advocate):
    claim = claim_at(advocate, S.FATHER_UNAVAILABLE)
    pipeline.advance(actor=advocate, claim=claim, to=S.PATERNITY_ESTABLISHED, basis="court_presumption")
    with pytest.raises(InvalidField, match="the forum is a court"):
        legal.record_legal(actor=advocate, claim=claim, forum="agreement")
    legal.record_legal(actor=advocate, claim=claim, forum="host_state_courts")
    assert claim.forum == "host_state_courts"
