"""The state machine: every allowed move works, every other move is refused with a clear message."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.claims.conftest import (
    DETAILS,
    S,
    claim_at,
    new_victim,
    open_claim,
    order_support,
    pay,
    refuse_move,
)
from vat.claims import pipeline
from vat.claims.history import IllegalMove
from vat.claims.models import ClaimStep
from vat.claims.pipeline import TRANSITIONS
from vat.errors import DomainError

PAIRS = [(a, b) for a in ClaimStep for b in ClaimStep]


def _start(advocate, source: ClaimStep, target: ClaimStep):
    # From a DNA result, a retest needs an inconclusive result; everything else follows a match.
    result = "inconclusive" if (source, target) == (S.DNA_RESULT, S.DNA_REQUESTED) else "match"
    return claim_at(advocate, source, dna_result=result)


@pytest.mark.parametrize(("source", "target"), [p for p in PAIRS if p[1] in TRANSITIONS[p[0]]])
def test_every_allowed_move(advocate, source, target):
    claim = _start(advocate, source, target)
    if target is S.PAYING:
        pay(advocate, claim)
    else:
        pipeline.advance(actor=advocate, claim=claim, to=target, on=date.today(), **DETAILS[target])
    assert claim.current_step is target
    event = claim.events[-1]
    assert (event.from_step, event.to_step, event.recorded_by_id) == (source, target, advocate.id)


@pytest.mark.parametrize(("source", "target"), [p for p in PAIRS if p[1] not in TRANSITIONS[p[0]]])
def test_every_forbidden_move(advocate, source, target):
    claim = _start(advocate, source, target)
    events = len(claim.events)
    with pytest.raises(IllegalMove) as refused:
        pipeline.advance(actor=advocate, claim=claim, to=target, on=date.today(), **DETAILS.get(target, {}))
    assert f"cannot move to “{target.label}”" in str(refused.value)
    assert "Allowed next" in str(refused.value)
    assert claim.current_step is source
    assert len(claim.events) == events


def test_paying_needs_a_payment(advocate):
    claim = claim_at(advocate, S.SUPPORT_ORDERED)
    refuse_move(advocate, claim, S.PAYING, "first payment")


def test_acknowledgment_skips_dna_but_a_court_needs_a_result(advocate):
    claim = claim_at(advocate, S.REFERRED)
    refuse_move(advocate, claim, S.PATERNITY_ESTABLISHED, "needs a DNA result", basis="court_decision")
    pipeline.advance(actor=advocate, claim=claim, to=S.PATERNITY_ESTABLISHED, basis="acknowledgment")
    assert claim.current_step is S.PATERNITY_ESTABLISHED


def test_exclusion_closes_as_father_excluded_only(advocate):
    claim = claim_at(advocate, S.DNA_RESULT, dna_result="exclusion")
    refuse_move(advocate, claim, S.PATERNITY_ESTABLISHED, "excluded", basis="acknowledgment")
    refuse_move(advocate, claim, S.DNA_REQUESTED, "Only an inconclusive")
    refuse_move(advocate, claim, S.CLOSED, "resolved only once paternity", reason="resolved")
    pipeline.advance(actor=advocate, claim=claim, to=S.CLOSED, reason="father_excluded")
    assert claim.closing_reason == "father_excluded"


def test_father_excluded_needs_an_exclusion(advocate):
    claim = claim_at(advocate, S.DNA_RESULT, dna_result="match")
    refuse_move(advocate, claim, S.CLOSED, "excludes him", reason="father_excluded")


def test_reopen_returns_to_the_step_closed_from_and_is_recorded(advocate):
    claim = claim_at(advocate, S.DNA_REQUESTED)
    pipeline.advance(actor=advocate, claim=claim, to=S.CLOSED, reason="withdrawn")
    with pytest.raises(IllegalMove):
        pipeline.advance(actor=advocate, claim=claim, to=S.SAMPLES_TAKEN)
    pipeline.reopen(actor=advocate, claim=claim)
    assert claim.current_step is S.DNA_REQUESTED
    assert claim.closing_reason is None
    assert claim.events[-1].kind == "reopen"
    assert claim.events[-1].note == "withdrawn"
    with pytest.raises(IllegalMove, match="Only a closed claim"):
        pipeline.reopen(actor=advocate, claim=claim)


def test_consent_is_required_to_share_and_to_test(advocate):
    victim = new_victim(advocate, consents=("contact",))
    claim = open_claim(advocate, victim)
    refuse_move(advocate, claim, S.CONSENT_OBTAINED, "to share with Bangladesh; to paternity disclosure")
    from vat.victims import consents

    for purpose in ("share_member_state", "paternity_disclosure"):
        consents.record_consent(
            actor=advocate,
            victim=victim,
            purpose=purpose,
            given_on=date.today(),
            method="verbal",
            version="v1",
        )
    pipeline.advance(actor=advocate, claim=claim, to=S.CONSENT_OBTAINED)
    pipeline.advance(actor=advocate, claim=claim, to=S.REFERRED, channel="permanent_mission")
    assert victim.disclosures and victim.disclosures[-1].recipient_kind == "member_state"
    assert claim.letters[-1].direction == "sent"
    refuse_move(advocate, claim, S.DNA_REQUESTED, "DNA testing")


def test_steps_cannot_go_back_in_time_or_into_the_future(advocate):
    claim = claim_at(advocate, S.CONSENT_OBTAINED)
    refuse_move(
        advocate,
        claim,
        S.REFERRED,
        "before the current step",
        error=DomainError,
        on=claim.step_on - timedelta(days=1),
    )
    refuse_move(advocate, claim, S.REFERRED, "future", error=DomainError, on=date.today() + timedelta(days=1))


def test_open_with_consent_moves_on_and_checks_children(advocate):
    victim = new_victim(advocate, children=2)
    other = new_victim(advocate)
    with pytest.raises(DomainError, match="this victim's children"):
        open_claim(advocate, victim, child_ids=[other.children[0].id])
    with pytest.raises(DomainError, match="at least one child"):
        open_claim(advocate, victim, child_ids=[])
    claim = open_claim(advocate, victim, with_consent=True)
    assert claim.current_step is S.CONSENT_OBTAINED
    assert len(claim.children) == 2
    assert claim.member_state == "BGD"


def test_a_new_order_varies_the_support_and_the_next_payment_resumes(advocate):
    claim = claim_at(advocate, S.PAYING)
    with pytest.raises(DomainError, match="start after the one in force"):
        order_support(advocate, claim, amount="80", currency="USD", starts_on=claim.orders[0].starts_on)
    order_support(advocate, claim, on=date.today(), amount="80", currency="USD")
    assert claim.current_step is S.SUPPORT_ORDERED and len(claim.orders) == 2
    pay(advocate, claim, "80.00", received_on=date.today())
    assert claim.current_step is S.PAYING


def test_withdrawn_share_consent_stops_the_referral(advocate):
    from vat.victims import consents

    claim = claim_at(advocate, S.CONSENT_OBTAINED)
    consent = consents.active_consent(claim.victim, "share_member_state")
    consents.withdraw_consent(actor=advocate, victim=claim.victim, consent=consent)
    refuse_move(advocate, claim, S.REFERRED, "not in force")


def test_the_same_step_submitted_twice_is_recorded_once(advocate):
    claim = claim_at(advocate, S.CONSENT_OBTAINED)
    first = pipeline.advance(actor=advocate, claim=claim, to=S.REFERRED, on=date.today(), channel="email")
    again = pipeline.advance(actor=advocate, claim=claim, to=S.REFERRED, on=date.today(), channel="email")
    assert first is again
    assert [e.to_step for e in claim.events].count(S.REFERRED) == 1
    assert len(claim.letters) == 1
