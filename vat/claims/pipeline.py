"""A claim's pipeline: opening it, the one state machine that moves it step by step (each step
recording what it needs: consents, the referral, DNA, paternity, the support order), closing and
reopening.

Victims are read through the victims service (scope, consents, disclosures); the alleged
father's identity is decrypted only here, and every reading is audited.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l

from vat.allegations.models import PersonnelCategory
from vat.auth.actor import Actor
from vat.auth.policy import in_scope
from vat.claims import waits
from vat.claims.history import IllegalMove, audit_claim, change_claim, country_name, enter_step, step_date
from vat.claims.models import (
    COURT_BASES,
    Claim,
    ClaimEvent,
    ClaimStep,
    ClosingReason,
    DnaResult,
    FatherObstacle,
    Forum,
    Letter,
    LetterChannel,
    LetterDirection,
    PaternityBasis,
)
from vat.claims.support import new_order
from vat.db import db
from vat.errors import DomainError
from vat.inputs import InvalidField, choice, clean_text, country, country_label, past_date, today
from vat.victims import consents
from vat.victims.models import Consent, ConsentPurpose, RecipientKind, Victim

S = ClaimStep

# The state machine: from each step, the steps the law and the procedure allow next. Skips are
# deliberate: an acknowledgment of paternity, or a court deciding on a presumption, needs no DNA
# test, so paternity can be established from any step after the referral (which basis is allowed
# where: `_basis_refusal`); an inconclusive DNA result can be retested. Before the samples are taken
# the alleged father may turn out unavailable (refuses sampling, cannot be traced, has left
# service): a traced or willing father is sampled after all, a court may decide on his refusal,
# or the claim closes. PAYING is reached by recording the first payment; a new order (a variation)
# takes a paying claim back to SUPPORT_ORDERED until a payment under it arrives; a closed claim
# leaves CLOSED only by `reopen`.
TRANSITIONS: dict[ClaimStep, frozenset[ClaimStep]] = {
    S.RECORDED: frozenset({S.CONSENT_OBTAINED, S.CLOSED}),
    S.CONSENT_OBTAINED: frozenset({S.REFERRED, S.CLOSED}),
    S.REFERRED: frozenset({S.DNA_REQUESTED, S.FATHER_UNAVAILABLE, S.PATERNITY_ESTABLISHED, S.CLOSED}),
    S.DNA_REQUESTED: frozenset({S.SAMPLES_TAKEN, S.FATHER_UNAVAILABLE, S.PATERNITY_ESTABLISHED, S.CLOSED}),
    S.SAMPLES_TAKEN: frozenset({S.DNA_RESULT, S.PATERNITY_ESTABLISHED, S.CLOSED}),
    S.FATHER_UNAVAILABLE: frozenset({S.DNA_REQUESTED, S.PATERNITY_ESTABLISHED, S.CLOSED}),
    S.DNA_RESULT: frozenset({S.DNA_REQUESTED, S.PATERNITY_ESTABLISHED, S.CLOSED}),
    S.PATERNITY_ESTABLISHED: frozenset({S.SUPPORT_ORDERED, S.CLOSED}),
    S.SUPPORT_ORDERED: frozenset({S.PAYING, S.CLOSED}),
    S.PAYING: frozenset({S.SUPPORT_ORDERED, S.CLOSED}),
    S.CLOSED: frozenset(),
}


def read_father_identity(*, actor: Actor, claim: Claim) -> dict[str, str | None]:
    """Decrypt the alleged father's identity for the actor, and record that they saw it."""
    audit_claim("claim.view_identity", actor=actor, claim=claim)
    return {
        "father_name": claim.father_name,
        "father_service_number": claim.father_service_number,
        "father_unit": claim.father_unit,
    }


def _share_consent(victim: Victim, member_state: str) -> Consent | None:
    """The victim's consent to share with this member state (named by code or name, or unnamed)."""
    for recipient in (member_state, country_name(member_state)):
        consent = consents.active_consent(victim, ConsentPurpose.SHARE_MEMBER_STATE, recipient)
        if consent is not None:
            return consent
    return None


# --- open a claim -----------------------------------------------------------------------------


def open_claim(
    *,
    actor: Actor,
    victim: Victim,
    child_ids: Iterable[int] = (),
    allegation_id: int | None = None,
    father_name: str | None = None,
    father_service_number: str | None = None,
    father_unit: str | None = None,
    father_nationality: str | None = None,
    father_category: str | None = None,
    member_state: str | None = None,
    opened_on: date | None = None,
    expected_birth_on: date | None = None,
    with_consent: bool = False,
) -> Claim:
    """Open a claim for a victim (already loaded through the actor's scope) and her/his children,
    or, during pregnancy, for the child expected on `expected_birth_on` (linked when born:
    `vat.claims.legal.link_child`). With `with_consent`, the victim's consent to share with the
    member state is taken as given now and the claim moves on to "consent obtained" at once."""
    if not in_scope(actor, victim.country_code, victim.mission):
        raise DomainError(_l("This victim is outside your scope."))
    father = _father(father_name, father_service_number, father_unit, father_nationality, father_category)
    state = country("member_state", member_state, required=False) or father["father_nationality"]
    if state is None:
        raise InvalidField("member_state", _l("Give the member state (or the alleged father's nationality)."))
    wanted = {int(i) for i in child_ids}
    children = [c for c in victim.children if c.id in wanted]
    if len(children) != len(wanted):
        raise InvalidField("child_ids", _l("Choose only this victim's children."))
    opened = past_date("opened_on", opened_on) or today()
    expected = _expected_birth(expected_birth_on, opened)
    if children and expected is not None:
        raise InvalidField(
            "expected_birth_on",
            _l("A claim is for children born or for a pregnancy: link the child once born."),
        )
    if not children and expected is None:
        raise InvalidField(
            "child_ids", _l("Choose at least one child the claim is for, or give the expected birth date.")
        )
    if allegation_id is not None and all(a.id != allegation_id for a in victim.allegations):
        raise InvalidField("allegation_id", _l("Choose one of this victim's allegations."))
    claim = Claim(
        victim=victim,
        allegation_id=allegation_id,
        member_state=state,
        **father,
        step=S.RECORDED,
        step_on=opened,
        step_recorded_on=today(),
        opened_on=opened,
        expected_birth_on=expected,
        created_by_id=actor.id,
        children=children,
    )
    db.session.add(claim)
    db.session.flush()
    db.session.add(ClaimEvent(claim=claim, to_step=S.RECORDED, occurred_on=opened, recorded_by_id=actor.id))
    db.session.flush()
    audit_claim(
        "claim.open",
        actor=actor,
        claim=claim,
        children=[c.id for c in children],
        expecting=expected is not None,
        member_state=state,
    )
    if with_consent:
        advance(actor=actor, claim=claim, to=S.CONSENT_OBTAINED, on=opened)
    return claim


def _father(
    name: str | None,
    service_number: str | None,
    unit: str | None,
    nationality: str | None,
    category: str | None,
) -> dict[str, Any]:
    """The alleged father's columns as a claim keeps them, whether given at its opening or later."""
    return {
        "father_name": clean_text("father_name", name, max_length=200),
        "father_service_number": clean_text("father_service_number", service_number, max_length=100),
        "father_unit": clean_text("father_unit", unit, max_length=200),
        "father_nationality": country("father_nationality", nationality, required=False),
        "father_category": choice("father_category", category, PersonnelCategory, default="unknown"),
    }


# A pregnancy lasts about 280 days; a birth expected more than ten months after the claim is
# opened, or more than a month before it, is a typing mistake.
LATEST_BIRTH_DAYS, EARLIEST_BIRTH_DAYS = 300, 31


def _expected_birth(value: date | None, opened: date) -> date | None:
    when = value
    if when is None:
        return None
    if not opened - timedelta(days=EARLIEST_BIRTH_DAYS) <= when <= opened + timedelta(days=LATEST_BIRTH_DAYS):
        raise InvalidField(
            "expected_birth_on",
            _l("The expected birth date must fall within ten months of the claim's opening."),
        )
    return when


def update_father(
    *,
    actor: Actor,
    claim: Claim,
    father_name: str | None,
    father_service_number: str | None,
    father_unit: str | None,
    father_nationality: str | None,
    father_category: str | None,
) -> Claim:
    father = _father(father_name, father_service_number, father_unit, father_nationality, father_category)
    return change_claim("claim.update_father", actor=actor, claim=claim, values=father)


# --- the state machine ------------------------------------------------------------------------


def allowed_steps(claim: Claim) -> list[ClaimStep]:
    """Where the claim may go next, in pipeline order (for the claim page's buttons)."""
    return [s for s in ClaimStep if s in TRANSITIONS[claim.current_step]]


def illegal_move(claim: Claim, target: ClaimStep, why: str | None = None) -> IllegalMove:
    allowed = ", ".join(f"“{s.label}”" for s in allowed_steps(claim)) or _l("none (reopen it first)")
    reason = why or _l(
        "A claim at “%(current)s” cannot move to “%(target)s”.",
        current=claim.current_step.label,
        target=target.label,
    )
    return IllegalMove(_l("%(reason)s Allowed next: %(allowed)s.", reason=reason, allowed=allowed))


def _consents_in_force(claim: Claim) -> Consent:
    """The consent to share with the member state, if the victim has also consented to the
    disclosure of the paternity claim; otherwise a refusal that says what is missing."""
    share = _share_consent(claim.victim, claim.member_state)
    disclosure = consents.active_consent(claim.victim, ConsentPurpose.PATERNITY_DISCLOSURE)
    missing = [
        label
        for label, consent in (
            (_l("to share with %(country)s", country=country_label(claim.member_state)), share),
            (_l("to paternity disclosure"), disclosure),
        )
        if consent is None
    ]
    if missing or share is None:
        raise IllegalMove(
            _l(
                "The victim's consent is not in force (%(consents)s): record it on the victim's page first.",
                consents="; ".join(str(label) for label in missing),
            )
        )
    return share


def _to_consent(actor: Actor, claim: Claim, on: date, details: dict[str, Any]) -> str | None:
    claim.share_consent_id = _consents_in_force(claim).id
    return None


def _to_referred(actor: Actor, claim: Claim, on: date, details: dict[str, Any]) -> str | None:
    consent = _consents_in_force(claim)
    channel = choice("channel", details.get("channel"), LetterChannel, default="permanent_mission")
    reference = clean_text("reference", details.get("reference"), max_length=100)
    claim.referral_channel, claim.referral_reference, claim.referred_on = channel, reference, on
    waits.add_letter(
        claim,
        Letter(
            direction=LetterDirection.SENT,
            dated_on=on,
            channel=channel,
            reference=reference,
            summary="Referral of the paternity claim",
            recorded_by_id=actor.id,
        ),
    )
    consents.record_disclosure(
        actor=actor,
        victim=claim.victim,
        recipient_kind=RecipientKind.MEMBER_STATE,
        recipient=consent.recipient or country_name(claim.member_state),
        purpose=f"Paternity claim {claim.code}",
        shared_on=on,
    )
    return channel


def _required_choice(details: dict[str, Any], field: str, enum: type[Any], missing: Any) -> str:
    """The step's detail `field`, one of `enum`'s values; `missing` says what to give."""
    if not details.get(field):
        raise InvalidField(field, missing)
    return choice(field, details.get(field), enum)


def _to_dna_requested(actor: Actor, claim: Claim, on: date, details: dict[str, Any]) -> str | None:
    if claim.current_step is S.DNA_RESULT and claim.dna_result != DnaResult.INCONCLUSIVE:
        raise illegal_move(claim, S.DNA_REQUESTED, _l("Only an inconclusive DNA result can be retested."))
    if consents.active_consent(claim.victim, ConsentPurpose.DNA_TESTING) is None:
        raise IllegalMove(_l("Record the victim's consent to DNA testing first (on the victim's page)."))
    claim.dna_requested_on = on
    claim.mother_child_sampled_on = claim.father_sampled_on = None
    claim.dna_result = claim.dna_result_on = None
    return None


def _needs_child(claim: Claim, target: ClaimStep) -> None:
    if claim.expecting:
        raise illegal_move(claim, target, _l("The child is not born yet: link the child to the claim first."))


def _to_samples(actor: Actor, claim: Claim, on: date, details: dict[str, Any]) -> str | None:
    _needs_child(claim, S.SAMPLES_TAKEN)
    father_on = step_date(claim, "father_sampled_on", details.get("father_sampled_on") or on)
    claim.mother_child_sampled_on = on
    claim.father_sampled_on = father_on
    return None


def _to_dna_result(actor: Actor, claim: Claim, on: date, details: dict[str, Any]) -> str | None:
    result = _required_choice(details, "result", DnaResult, _l("Give the DNA result."))
    claim.dna_result, claim.dna_result_on = result, on
    return result


def _to_unavailable(actor: Actor, claim: Claim, on: date, details: dict[str, Any]) -> str | None:
    obstacle = _required_choice(
        details, "obstacle", FatherObstacle, _l("Say why the alleged father is unavailable.")
    )
    claim.father_obstacle, claim.father_obstacle_on = obstacle, on
    return obstacle


B = PaternityBasis


def _basis_refusal(claim: Claim, basis: PaternityBasis) -> Any:
    """Why `basis` cannot establish paternity from where the claim stands (None: it can).
    - a DNA result that excludes the alleged father: nothing establishes paternity;
    - a court decision on the DNA evidence: only after a DNA result;
    - a court decision on his refusal: only once he refused sampling (he is "unavailable");
    - a court decision on a presumption the law allows, or his acknowledgment: from any step
      after the referral (the state machine's TRANSITIONS);
    - any court decision: not when the forum recorded is an agreement between the parents."""
    if claim.current_step is S.DNA_RESULT and claim.dna_result == DnaResult.EXCLUSION:
        return _l("The DNA result excluded the alleged father: close the claim.")
    if basis is B.COURT_DECISION and claim.current_step is not S.DNA_RESULT:
        return _l(
            "A court decision on the DNA evidence needs a DNA result; without one, a court decides "
            "on a presumption or on the father's refusal, or the father acknowledges paternity."
        )
    if basis is B.COURT_REFUSAL and not (
        claim.current_step is S.FATHER_UNAVAILABLE
        and claim.father_obstacle == FatherObstacle.REFUSED_SAMPLING
    ):
        return _l("A court decides on the father's refusal only once his refusal of sampling is recorded.")
    if basis in COURT_BASES and claim.forum == Forum.AGREEMENT:
        return _l("The forum recorded is an agreement between the parents: record the forum first.")
    return None


def _to_paternity(actor: Actor, claim: Claim, on: date, details: dict[str, Any]) -> str | None:
    basis = PaternityBasis(
        _required_choice(details, "basis", PaternityBasis, _l("Say how paternity was established."))
    )
    why = _basis_refusal(claim, basis)
    if why is not None:
        raise illegal_move(claim, S.PATERNITY_ESTABLISHED, why)
    claim.paternity_basis, claim.paternity_established_on = basis, on
    if basis in COURT_BASES and claim.judgment_on is None:
        claim.judgment_on = on
    return basis


def _to_support(actor: Actor, claim: Claim, on: date, details: dict[str, Any]) -> str | None:
    _needs_child(claim, S.SUPPORT_ORDERED)
    order = new_order(actor=actor, claim=claim, on=on, details=details)
    return f"{order.amount} {order.currency}"


def _to_paying(actor: Actor, claim: Claim, on: date, details: dict[str, Any]) -> str | None:
    if not claim.payments:
        raise illegal_move(
            claim, S.PAYING, _l("Record the first payment: the claim moves to “Payments” with it.")
        )
    return None


def _to_closed(actor: Actor, claim: Claim, on: date, details: dict[str, Any]) -> str | None:
    reason = _required_choice(details, "reason", ClosingReason, _l("Say why the claim is closed."))
    if reason == ClosingReason.FATHER_EXCLUDED and claim.dna_result != DnaResult.EXCLUSION:
        raise illegal_move(
            claim, S.CLOSED, _l("Only a DNA result that excludes him closes a claim as “father excluded”.")
        )
    if reason == ClosingReason.RESOLVED and claim.paternity_established_on is None:
        raise illegal_move(claim, S.CLOSED, _l("A claim is resolved only once paternity is established."))
    claim.step_before_close, claim.closing_reason, claim.closed_on = claim.step, reason, on
    return reason


ENTER: dict[ClaimStep, Callable[[Actor, Claim, date, dict[str, Any]], str | None]] = {
    S.CONSENT_OBTAINED: _to_consent,
    S.REFERRED: _to_referred,
    S.DNA_REQUESTED: _to_dna_requested,
    S.SAMPLES_TAKEN: _to_samples,
    S.FATHER_UNAVAILABLE: _to_unavailable,
    S.DNA_RESULT: _to_dna_result,
    S.PATERNITY_ESTABLISHED: _to_paternity,
    S.SUPPORT_ORDERED: _to_support,
    S.PAYING: _to_paying,
    S.CLOSED: _to_closed,
}


def advance(*, actor: Actor, claim: Claim, to: str, on: date | None = None, **details: Any) -> ClaimEvent:
    """Move the claim to step `to`, dated `on`, if the state machine allows it from where it
    stands. `details` carry what the step records (result, basis, order terms, reason...); the
    event keeps the code of what was recorded (a channel, result, basis, reason), never words."""
    try:
        target = ClaimStep(to)
    except ValueError as error:
        raise IllegalMove(_l("No such step.")) from error
    last = claim.events[-1] if claim.events else None
    if (
        last is not None
        and target is claim.current_step
        and last.to_step == target
        and last.occurred_on == (on or today())
    ):
        return last  # the same step submitted twice (a double click): recorded once
    if target not in TRANSITIONS[claim.current_step]:
        raise illegal_move(claim, target)
    when = step_date(claim, "on", on)
    note = ENTER[target](actor, claim, when, details)
    return enter_step(actor=actor, claim=claim, target=target, on=when, note=note, kind="step")


def reopen(*, actor: Actor, claim: Claim, on: date | None = None) -> ClaimEvent:
    """A closed claim returns to the step it was closed from; the closing stays in its history."""
    if claim.current_step is not S.CLOSED:
        raise IllegalMove(_l("Only a closed claim can be reopened."))
    when = step_date(claim, "on", on)
    target = ClaimStep(claim.step_before_close or S.RECORDED)
    reason = claim.closing_reason
    claim.closing_reason = claim.closed_on = claim.step_before_close = None
    return enter_step(
        actor=actor,
        claim=claim,
        target=target,
        on=when,
        note=reason,
        kind="reopen",
    )
