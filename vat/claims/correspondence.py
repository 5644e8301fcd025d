"""Who waits on whom: the letters exchanged with the member state (and how long it has not
answered), the case updates owed to the victim and the letter telling them a claim's step."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from vat.auth.actor import Actor
from vat.claims import waits
from vat.claims.history import audit_claim
from vat.claims.models import Claim, ClaimStep, Letter, LetterChannel, LetterDirection
from vat.errors import DomainError
from vat.inputs import InvalidField, choice, clean_text, country_label, past_date, today
from vat.victims import family, letters
from vat.victims import listing as victim_listing
from vat.victims.labels import vat_label
from vat.victims.letter_templates import LETTER_LANGUAGES
from vat.victims.models import Communication
from vat.victims.outcomes import INFORM_CLAIM_STEP

S = ClaimStep
WAITING_FLAGS = (180, 90, 30)


# --- member-state correspondence --------------------------------------------------------------


def record_letter(*, actor: Actor, claim: Claim, **letter: Any) -> Letter:
    """A letter about the claim; `letter` holds new_letter's fields (direction, dated_on...)."""
    if claim.current_step is S.CLOSED:
        raise DomainError(_l("This claim is closed: reopen it to record more."))
    before = _l("This letter cannot be dated before the claim was opened.")
    row = new_letter(actor=actor, not_before=(claim.opened_on, before), **letter)
    waits.add_letter(claim, row)
    audit_claim("claim.letter", actor=actor, claim=claim, letter=row.id, direction=row.direction)
    return row


def new_letter(
    *,
    actor: Actor,
    direction: str,
    dated_on: date | None,
    channel: str | None,
    reference: str | None = None,
    summary: str | None = None,
    not_before: tuple[date, Any] | None = None,
) -> Letter:
    """A letter to or from a member state, checked, not yet attached to its claim or allegation
    (vat.allegations.accountability records the allegations' letters in the same log)."""
    when = past_date("dated_on", dated_on, required=True) or today()
    if not_before is not None and when < not_before[0]:
        raise InvalidField("dated_on", not_before[1])
    return Letter(
        direction=choice("direction", direction, LetterDirection),
        dated_on=when,
        channel=choice("channel", channel, LetterChannel, default="permanent_mission"),
        reference=clean_text("reference", reference, max_length=100),
        summary=clean_text("summary", summary, max_length=2000),
        recorded_by_id=actor.id,
    )


@dataclass(frozen=True)
class Waiting:
    member_state: str
    since: date
    days: int

    @property
    def flag(self) -> int:
        """30, 90 or 180: the longest threshold passed without a reply (0: none yet)."""
        return next((f for f in WAITING_FLAGS if self.days >= f), 0)

    @property
    def text(self) -> str:
        return f"waiting on {self.member_state} for {self.days} day{'s' if self.days != 1 else ''}"


def waiting(claim: Claim, on: date | None = None) -> Waiting | None:
    """Since the first letter the member state has not answered, as the claim keeps it (None:
    nothing unanswered, or the claim is closed)."""
    if claim.current_step is S.CLOSED:
        return None
    return waiting_since(claim.member_state, claim.waiting_since, on)


def unanswered(member_state: str, letters: Iterable[Letter], on: date | None = None) -> Waiting | None:
    """The wait on `member_state` over these letters: since the first one sent after its last reply
    (by date, then by the order recorded)."""
    return waiting_since(member_state, waits.first_unanswered(letters), on)


def waiting_since(member_state: str, since: date | None, on: date | None = None) -> Waiting | None:
    """The wait on `member_state` that began on `since` (None: no wait), as of `on`."""
    if since is None:
        return None
    return Waiting(member_state, since, max(((on or today()) - since).days, 0))


# --- victim updates ---------------------------------------------------------------------------


def victim_update_owed(claim: Claim) -> bool:
    """The claim reached its current step and the victim has had no case update since."""
    last = claim.victim.last_update_on
    return last is None or last < claim.step_on


def victim_without_update(claim: Claim, on: date | None = None) -> bool:
    """No case update to the victim for the configured number of days (default 90)."""
    if claim.current_step is S.CLOSED:
        return False
    since = claim.victim.last_update_on or claim.opened_on
    return ((on or today()) - since).days >= victim_listing.no_update_days()


def update_text(claim: Claim) -> str:
    """A suggested summary of the update owed to the victim (no names), in the writer's language."""
    state = country_label(claim.member_state)
    order = claim.orders[-1] if claim.orders else None
    basis = vat_label(claim.paternity_basis)
    texts = {
        S.RECORDED: _("recorded."),
        S.CONSENT_OBTAINED: _("consent recorded; the claim can now be referred to %(state)s.", state=state),
        S.REFERRED: _("referred to %(state)s.", state=state),
        S.DNA_REQUESTED: _("DNA sampling requested."),
        S.SAMPLES_TAKEN: _("DNA samples taken."),
        S.DNA_RESULT: _("DNA result received (%(result)s).", result=vat_label(claim.dna_result)),
        S.PATERNITY_ESTABLISHED: _("paternity established (%(basis)s).", basis=basis),
        S.SUPPORT_ORDERED: (
            _(
                "child-support order made: %(amount)s %(currency)s %(frequency)s from %(start)s.",
                amount=order.amount,
                currency=order.currency,
                frequency=vat_label(order.frequency),
                start=order.starts_on.isoformat(),
            )
            if order
            else _("child-support order made.")
        ),
        S.PAYING: _("payments have started."),
        S.CLOSED: _("closed (%(reason)s).", reason=vat_label(claim.closing_reason))
        if claim.closing_reason
        else _("closed."),
    }
    return _(
        "Paternity claim %(code)s, %(date)s: %(step)s",
        code=claim.code,
        date=claim.step_on.isoformat(),
        step=texts[claim.current_step],
    )


def step_letter(*, actor: Actor, claim: Claim, language: str) -> list[str]:
    """The letter telling the victim the step their claim reached, from the template in use in
    `language` (the step named in that language); written and audited by the victims service."""
    with force_locale(language if language in LETTER_LANGUAGES else "en"):
        step = str(claim.current_step.label)
        member_state = country_label(claim.member_state)
    values = {
        "claim": claim.code,
        "step": step,
        "step_code": claim.current_step.value,
        "step_on": claim.step_on,
        "member_state": member_state,
    }
    return letters.write_letter(
        actor=actor, victim=claim.victim, kind="claim_step", language=language, values=values, claim=claim.id
    )


def steps_to_tell(claim: Claim, on: date | None = None) -> list[letters.OutcomeToTell]:
    """The claim's steps the victim is owed, open first: the deadline, and when, how and by whom
    the victim was told."""
    rows = letters.outcomes_to_tell(claim.victim, on, kind=INFORM_CLAIM_STEP)
    return [row for row in rows if row.task.claim_id == claim.id]


def inform_victim(
    *,
    actor: Actor,
    claim: Claim,
    occurred_on: date | None,
    channel: str,
    summary: str | None,
    language: str | None = None,
    by_whom: str | None = None,
) -> Communication:
    """Record the case update given to the victim, through the victims service; it tells the
    victim the claim's step, so it closes the claim's open task to tell it."""
    communication = family.log_communication(
        actor=actor,
        victim=claim.victim,
        occurred_on=occurred_on,
        channel=channel,
        summary=summary,
        case_update_given=True,
        language=language,
        by_whom=by_whom,
        closes_task_ids=[row.task.id for row in steps_to_tell(claim) if row.task.closed_at is None],
    )
    audit_claim("claim.victim_informed", actor=actor, claim=claim, communication=communication.id)
    return communication
