"""The accountability cycle after the report: record its dated steps and the letters exchanged
with the member state about an allegation. The letters are the claims' member-state letters (one
log, one days-waiting: vat.claims.correspondence); the cycle's clock is vat.allegations.cycle."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from vat import audit
from vat.allegations import cycle_counts
from vat.allegations.cycle import cycle
from vat.allegations.cycle_models import MEASURES, NOT_REFERRED, AccountabilityStep, CycleStep, StepPerson
from vat.allegations.models import Allegation
from vat.allegations.services import about, visible_allegations
from vat.auth.actor import Actor
from vat.claims.correspondence import Waiting, new_letter, unanswered
from vat.claims.models import Claim, Letter
from vat.db import db
from vat.errors import DomainError
from vat.inputs import InvalidField, choice, clean_text, past_date, today
from vat.victims.identity import in_scope_condition
from vat.victims.models import Victim

# Steps that concern the member state: its country must be known to record them.
TO_MEMBER_STATE = (CycleStep.MEMBER_STATE_REFERRAL, CycleStep.CRIMINAL_REFERRAL)
# A step that answers another cannot be dated before it.
ANSWERS = {
    CycleStep.MEMBER_STATE_OUTCOME: CycleStep.MEMBER_STATE_REFERRAL,
    CycleStep.CRIMINAL_RESPONSE: CycleStep.CRIMINAL_REFERRAL,
}


def steps_of(allegation: Allegation) -> list[AccountabilityStep]:
    return list(
        db.session.scalars(
            select(AccountabilityStep)
            .where(AccountabilityStep.allegation_id == allegation.id)
            .order_by(AccountabilityStep.dated_on, AccountabilityStep.id)
        )
    )


def record_step(
    *,
    actor: Actor,
    allegation: Allegation,
    step: str,
    measure: str,
    dated_on: date | None,
    ends_on: date | None = None,
    reference: str | None = None,
    note: str | None = None,
    persons: str | None = None,
) -> AccountabilityStep:
    """One dated step of the cycle (the caller has loaded the allegation within the actor's scope),
    concerning the alleged perpetrators numbered in `persons` ("1, 3"; blank: all of them)."""
    kind = CycleStep(choice("step", step, CycleStep))
    cleaned_measure = (measure or "").strip()
    if cleaned_measure not in MEASURES[kind]:
        raise InvalidField("measure", _l("Choose a measure listed for this step."))
    when = past_date("dated_on", dated_on, required=True) or today()
    if allegation.received_on is not None and when < allegation.received_on:
        raise InvalidField("dated_on", _l("This step cannot come before the allegation was received."))
    answered = ANSWERS.get(kind)
    if answered is not None:
        referrals = [
            s.dated_on for s in steps_of(allegation) if s.step == answered and s.measure != NOT_REFERRED
        ]
        if not referrals:
            raise InvalidField("step", _l("Record the referral this answers first."))
        if when < min(referrals):
            raise InvalidField("dated_on", _l("This answer cannot come before the referral."))
    if kind in TO_MEMBER_STATE and cleaned_measure != NOT_REFERRED and not allegation.perpetrator_country:
        raise DomainError(_l("Record the alleged perpetrator's country on the allegation first."))
    if ends_on is not None and (kind != CycleStep.INTERIM_MEASURE or ends_on < when):
        raise InvalidField("ends_on", _l("Only an interim measure ends, and not before it starts."))
    concerned = _persons(allegation, persons)
    row = AccountabilityStep(
        allegation_id=allegation.id,
        step=kind.value,
        measure=cleaned_measure,
        dated_on=when,
        ends_on=ends_on,
        reference=clean_text("reference", reference, max_length=100),
        note=clean_text("note", note, max_length=2000),
        recorded_by_id=actor.id,
        persons=[StepPerson(person=n) for n in concerned],
    )
    with cycle_counts.recounting([allegation.id]):
        recorded = audit.add_audited(
            row,
            "allegation.cycle_step",
            actor=actor,
            detail=lambda step: {
                "step": kind.value,
                "measure": cleaned_measure,
                "id": step.id,
                "persons": concerned,
            },
            **about(allegation),
        )
    return recorded


def _persons(allegation: Allegation, text: str | None) -> list[int]:
    """The alleged perpetrators' numbers in `text`, each from 1 to the allegation's number of
    alleged perpetrators (1 when it is not recorded); blank: every one of them."""
    most = allegation.perpetrators or 1
    words = (text or "").replace(",", " ").split()
    if not words:
        return list(range(1, most + 1))
    if not all(word.isdigit() and 1 <= int(word) <= most for word in words):
        raise InvalidField(
            "persons",
            _l("Give numbers from 1 to %(most)s (the allegation's alleged perpetrators).", most=most),
        )
    return sorted({int(word) for word in words})


# --- member-state correspondence about an allegation -------------------------------------------


def letters_of(allegation: Allegation) -> list[Letter]:
    return list(
        db.session.scalars(
            select(Letter).where(Letter.allegation_id == allegation.id).order_by(Letter.dated_on, Letter.id)
        )
    )


def record_letter(*, actor: Actor, allegation: Allegation, **letter: Any) -> Letter:
    """A letter to or from the allegation's member state; `letter` holds the claims' letter fields
    (direction, dated_on, channel, reference, summary: vat.claims.correspondence.new_letter)."""
    if not allegation.perpetrator_country:
        raise DomainError(_l("Record the alleged perpetrator's country on the allegation first."))
    received = allegation.received_on
    before = _l("This letter cannot be dated before the allegation was received.")
    row = new_letter(actor=actor, not_before=(received, before) if received else None, **letter)
    row.allegation_id = allegation.id
    return audit.add_audited(
        row,
        "allegation.letter",
        actor=actor,
        detail=lambda letter: {"letter": letter.id, "direction": letter.direction},
        **about(allegation),
    )


def waiting(allegation: Allegation, letters: list[Letter], on: date | None = None) -> Waiting | None:
    if not allegation.perpetrator_country:
        return None
    return unanswered(allegation.perpetrator_country, letters, on)


@dataclass(frozen=True)
class LogLine:
    """One letter of a member state's log: about a claim (its code) or an allegation (its reference)."""

    letter: Letter
    subject: str
    claim_id: int | None
    allegation_id: int | None


def member_state_log(user: Actor, member_state: str) -> list[LogLine]:
    """Every letter to or from `member_state` about the claims and allegations in the user's
    scope, newest first: one log for paternity and accountability (summaries are not read)."""
    code = member_state.strip().upper()[:3]
    claim_letters = db.session.execute(
        select(Letter, Claim)
        .join(Claim, Claim.id == Letter.claim_id)
        .join(Victim, Victim.id == Claim.victim_id)
        .where(Claim.member_state == code, in_scope_condition(user))
    ).all()
    allegations = visible_allegations(user).where(Allegation.perpetrator_country == code).subquery()
    allegation_letters = db.session.execute(
        select(Letter, allegations.c.id, allegations.c.reference).join(
            allegations, allegations.c.id == Letter.allegation_id
        )
    ).all()
    lines = [LogLine(letter, claim.code, claim.id, None) for letter, claim in claim_letters]
    lines += [LogLine(letter, reference, None, i) for letter, i, reference in allegation_letters]
    return sorted(lines, key=lambda line: (line.letter.dated_on, line.letter.id), reverse=True)


def cycle_page(allegation: Allegation) -> dict[str, object]:
    """What the allegation's page shows of the cycle: each limited step where it stands, the steps
    recorded, the letters exchanged with the member state and how long it has not answered."""
    steps = steps_of(allegation)
    letters = letters_of(allegation)
    return {
        "cycle": cycle(allegation, steps),
        "cycle_steps": steps,
        "letters": letters,
        "waiting": waiting(allegation, letters),
    }
