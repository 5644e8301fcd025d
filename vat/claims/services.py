"""The claims service: the one state machine for paternity and child-support claims, the
member-state correspondence clock, child-support schedules and arrears.

Victims are read through the victims service (scope, consents, communications); the alleged
father's identity is decrypted only here, and every reading is audited.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from itertools import groupby
from typing import Any

import pycountry
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, case, exists, func, or_, select, true
from sqlalchemy.orm import aliased, contains_eager, selectinload

from vat import audit
from vat.allegations.models import PersonnelCategory
from vat.allegations.services import add_months
from vat.auth.policy import in_scope
from vat.claims.models import (
    Claim,
    ClaimEvent,
    ClaimStep,
    ClosingReason,
    DnaResult,
    Frequency,
    Letter,
    LetterChannel,
    LetterDirection,
    PaternityBasis,
    Payment,
    PaymentRoute,
    SupportOrder,
)
from vat.db import db
from vat.errors import Conflict, DomainError
from vat.inputs import InvalidField, choice, clean_text, country, past_date, today
from vat.kept import KeptValues, list_figure
from vat.victims import services as victims
from vat.victims.models import ConsentPurpose, RecipientKind, Victim

S = ClaimStep

# The state machine: from each step, the steps the law and the procedure allow next. Skips are
# deliberate: an acknowledgment of paternity needs no DNA test, so paternity can be established
# from any step after the referral; an inconclusive DNA result can be retested. PAYING is reached
# by recording the first payment; a new order (a variation) takes a paying claim back to
# SUPPORT_ORDERED until a payment under it arrives; a closed claim leaves CLOSED only by `reopen`.
TRANSITIONS: dict[ClaimStep, frozenset[ClaimStep]] = {
    S.RECORDED: frozenset({S.CONSENT_OBTAINED, S.CLOSED}),
    S.CONSENT_OBTAINED: frozenset({S.REFERRED, S.CLOSED}),
    S.REFERRED: frozenset({S.DNA_REQUESTED, S.PATERNITY_ESTABLISHED, S.CLOSED}),
    S.DNA_REQUESTED: frozenset({S.SAMPLES_TAKEN, S.PATERNITY_ESTABLISHED, S.CLOSED}),
    S.SAMPLES_TAKEN: frozenset({S.DNA_RESULT, S.PATERNITY_ESTABLISHED, S.CLOSED}),
    S.DNA_RESULT: frozenset({S.DNA_REQUESTED, S.PATERNITY_ESTABLISHED, S.CLOSED}),
    S.PATERNITY_ESTABLISHED: frozenset({S.SUPPORT_ORDERED, S.CLOSED}),
    S.SUPPORT_ORDERED: frozenset({S.PAYING, S.CLOSED}),
    S.PAYING: frozenset({S.SUPPORT_ORDERED, S.CLOSED}),
    S.CLOSED: frozenset(),
}

# Steps an advocate moves to from the claim page (PAYING follows from recording a payment).
MANUAL_STEPS = [s for s in ClaimStep if s not in (S.RECORDED, S.PAYING)]

WAITING_FLAGS = (180, 90, 30)
AGE_BUCKETS = ((90, "up to 90 days"), (180, "91–180 days"), (365, "181–365 days"), (730, "1–2 years"))
MAX_AMOUNT = Decimal("1e12")


class IllegalMove(DomainError):
    """A step the state machine does not allow from where the claim stands."""


# --- scope: every claim query starts here -----------------------------------------------------


def claim_in_scope(user: Any, *victim_conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    """The claim's victim is in the user's scope (the victims service owns that rule) and meets
    `victim_conditions`: checked claim by claim in a correlated subquery, so PostgreSQL looks up
    each claim's victim by key instead of scanning every victim to join them (at 100,000 victims
    and 5,000 claims, the scan was most of the list's time)."""
    return (
        select(true())
        .where(Victim.id == Claim.victim_id, victims.in_scope_condition(user), *victim_conditions)
        .correlate(Claim)
        .scalar_subquery()
    )


def claims_in_scope(user: Any, *columns: Any) -> Select[Any]:
    """`columns` over the claims of victims in the user's scope (join the victim for its own
    columns)."""
    return select(*columns).select_from(Claim).where(claim_in_scope(user))


def visible_claims(user: Any) -> Select[tuple[Claim]]:
    """Claims of victims in the user's scope, each with its victim."""
    return claims_in_scope(user, Claim).join(Claim.victim).options(contains_eager(Claim.victim))


def get_claim(user: Any, claim_id: int, *, for_update: bool = False) -> Claim | None:
    """One claim in the user's scope; `for_update` locks its row until the transaction ends, so
    two people moving the same claim at once take turns (PostgreSQL; SQLite writes serially)."""
    query = visible_claims(user).where(Claim.id == claim_id)
    if for_update:
        query = query.with_for_update(of=Claim)
    return db.session.scalar(
        query.options(
            selectinload(Claim.letters),
            selectinload(Claim.orders),
            selectinload(Claim.payments),
            selectinload(Claim.events).selectinload(ClaimEvent.recorded_by),
            selectinload(Claim.children),
        )
    )


def _audit(action: str, *, actor: Any, claim: Claim, **detail: Any) -> None:
    audit.record(
        action,
        actor=actor,
        object_type="claim",
        object_id=claim.code,
        country_code=claim.victim.country_code,
        detail={"victim": claim.victim.case_code, **detail},
    )


def read_father_identity(*, actor: Any, claim: Claim) -> dict[str, str | None]:
    """Decrypt the alleged father's identity for the actor, and record that they saw it."""
    _audit("claim.view_identity", actor=actor, claim=claim)
    return {
        "father_name": claim.father_name,
        "father_service_number": claim.father_service_number,
        "father_unit": claim.father_unit,
    }


# --- validation -------------------------------------------------------------------------------


def money(field_name: str, value: Any) -> Decimal:
    if value is None or value == "":
        raise InvalidField(field_name, _l("Give an amount."))
    if isinstance(value, float):
        raise InvalidField(field_name, _l("Give the amount as a decimal number."))
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation as error:
        raise InvalidField(field_name, _l("Give the amount as a number, e.g. 120.50.")) from error
    if not amount.is_finite() or amount <= 0:
        raise InvalidField(field_name, _l("The amount must be more than zero."))
    if amount != amount.quantize(Decimal("0.01")):
        raise InvalidField(field_name, _l("Give the amount to the cent at most (two decimals)."))
    if amount >= MAX_AMOUNT:
        raise InvalidField(field_name, _l("This amount is too large."))
    return amount.quantize(Decimal("0.01"))


def currency(field_name: str, value: str | None) -> str:
    code = (value or "").strip().upper()
    if not code or pycountry.currencies.get(alpha_3=code) is None:
        raise InvalidField(field_name, _l("Use an ISO 4217 currency code (e.g. USD, XAF, CDF, HTG)."))
    return code


def country_name(code: str) -> str:
    found = pycountry.countries.get(alpha_3=code)
    return getattr(found, "name", code) if found else code


def _step_date(claim: Claim, field_name: str, value: date | None) -> date:
    when = past_date(field_name, value) or today()
    if when < claim.step_on:
        raise InvalidField(
            field_name,
            _l(
                "This step cannot be dated before the current step (%(step)s, %(date)s).",
                step=claim.current_step.label,
                date=claim.step_on.isoformat(),
            ),
        )
    return when


def _share_consent(victim: Victim, member_state: str) -> Any:
    """The victim's consent to share with this member state (named by code or name, or unnamed)."""
    for recipient in (member_state, country_name(member_state)):
        consent = victims.active_consent(victim, ConsentPurpose.SHARE_MEMBER_STATE, recipient)
        if consent is not None:
            return consent
    return None


# --- open a claim -----------------------------------------------------------------------------


def open_claim(
    *,
    actor: Any,
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
    with_consent: bool = False,
) -> Claim:
    """Open a claim for a victim (already loaded through the actor's scope) and her/his children.
    With `with_consent`, the victim's consent to share with the member state is taken as given
    now and the claim moves on to "consent obtained" at once."""
    if not in_scope(actor, victim.country_code, victim.mission):
        raise DomainError(_l("This victim is outside your scope."))
    nationality = country("father_nationality", father_nationality, required=False)
    state = country("member_state", member_state, required=False) or nationality
    if state is None:
        raise InvalidField("member_state", _l("Give the member state (or the alleged father's nationality)."))
    wanted = {int(i) for i in child_ids}
    children = [c for c in victim.children if c.id in wanted]
    if len(children) != len(wanted):
        raise InvalidField("child_ids", _l("Choose only this victim's children."))
    if not children:
        raise InvalidField("child_ids", _l("Choose at least one child the claim is for."))
    if allegation_id is not None and all(a.id != allegation_id for a in victim.allegations):
        raise InvalidField("allegation_id", _l("Choose one of this victim's allegations."))
    opened = past_date("opened_on", opened_on) or today()
    claim = Claim(
        victim=victim,
        allegation_id=allegation_id,
        member_state=state,
        father_nationality=nationality,
        father_category=choice("father_category", father_category, PersonnelCategory, default="unknown"),
        father_name=clean_text("father_name", father_name, max_length=200),
        father_service_number=clean_text("father_service_number", father_service_number, max_length=100),
        father_unit=clean_text("father_unit", father_unit, max_length=200),
        step=S.RECORDED,
        step_on=opened,
        step_recorded_on=today(),
        opened_on=opened,
        created_by_id=getattr(actor, "id", None),
        children=children,
    )
    db.session.add(claim)
    db.session.flush()
    db.session.add(
        ClaimEvent(
            claim=claim, to_step=S.RECORDED, occurred_on=opened, recorded_by_id=getattr(actor, "id", None)
        )
    )
    db.session.flush()
    _audit(
        "claim.open",
        actor=actor,
        claim=claim,
        children=[c.id for c in children],
        member_state=state,
    )
    if with_consent:
        advance(actor=actor, claim=claim, to=S.CONSENT_OBTAINED, on=opened)
    return claim


def update_father(
    *,
    actor: Any,
    claim: Claim,
    father_name: str | None,
    father_service_number: str | None,
    father_unit: str | None,
    father_nationality: str | None,
    father_category: str | None,
) -> Claim:
    cleaned = {
        "father_name": clean_text("father_name", father_name, max_length=200),
        "father_service_number": clean_text("father_service_number", father_service_number, max_length=100),
        "father_unit": clean_text("father_unit", father_unit, max_length=200),
        "father_nationality": country("father_nationality", father_nationality, required=False),
        "father_category": choice("father_category", father_category, PersonnelCategory, default="unknown"),
    }
    changed = sorted(k for k, v in cleaned.items() if getattr(claim, k) != v)
    for key, value in cleaned.items():
        setattr(claim, key, value)
    db.session.flush()
    _audit("claim.update_father", actor=actor, claim=claim, fields=changed)
    return claim


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


def _consents_in_force(claim: Claim) -> Any:
    """The consent to share with the member state, if the victim has also consented to the
    disclosure of the paternity claim; otherwise a refusal that says what is missing."""
    share = _share_consent(claim.victim, claim.member_state)
    disclosure = victims.active_consent(claim.victim, ConsentPurpose.PATERNITY_DISCLOSURE)
    missing = [
        label
        for label, consent in (
            (_l("to share with %(country)s", country=country_name(claim.member_state)), share),
            (_l("to paternity disclosure"), disclosure),
        )
        if consent is None
    ]
    if missing:
        raise IllegalMove(
            _l(
                "The victim's consent is not in force (%(consents)s): record it on the victim's page first.",
                consents="; ".join(str(label) for label in missing),
            )
        )
    return share


def _to_consent(actor: Any, claim: Claim, on: date, details: dict[str, Any]) -> str | None:
    claim.share_consent_id = _consents_in_force(claim).id
    return None


def _to_referred(actor: Any, claim: Claim, on: date, details: dict[str, Any]) -> str | None:
    consent = _consents_in_force(claim)
    channel = choice("channel", details.get("channel"), LetterChannel, default="permanent_mission")
    reference = clean_text("reference", details.get("reference"), max_length=100)
    claim.referral_channel, claim.referral_reference, claim.referred_on = channel, reference, on
    claim.letters.append(
        Letter(
            direction=LetterDirection.SENT,
            dated_on=on,
            channel=channel,
            reference=reference,
            summary="Referral of the paternity claim",
            recorded_by_id=getattr(actor, "id", None),
        )
    )
    victims.record_disclosure(
        actor=actor,
        victim=claim.victim,
        recipient_kind=RecipientKind.MEMBER_STATE,
        recipient=consent.recipient or country_name(claim.member_state),
        purpose=f"Paternity claim {claim.code}",
        shared_on=on,
    )
    return channel


def _to_dna_requested(actor: Any, claim: Claim, on: date, details: dict[str, Any]) -> str | None:
    if claim.current_step is S.DNA_RESULT and claim.dna_result != DnaResult.INCONCLUSIVE:
        raise illegal_move(claim, S.DNA_REQUESTED, _l("Only an inconclusive DNA result can be retested."))
    if victims.active_consent(claim.victim, ConsentPurpose.DNA_TESTING) is None:
        raise IllegalMove(_l("Record the victim's consent to DNA testing first (on the victim's page)."))
    claim.dna_requested_on = on
    claim.mother_child_sampled_on = claim.father_sampled_on = None
    claim.dna_result = claim.dna_result_on = None
    return None


def _to_samples(actor: Any, claim: Claim, on: date, details: dict[str, Any]) -> str | None:
    father_on = _step_date(claim, "father_sampled_on", details.get("father_sampled_on") or on)
    claim.mother_child_sampled_on = on
    claim.father_sampled_on = father_on
    return None


def _to_dna_result(actor: Any, claim: Claim, on: date, details: dict[str, Any]) -> str | None:
    if not details.get("result"):
        raise InvalidField("result", _l("Give the DNA result."))
    result = choice("result", details.get("result"), DnaResult)
    claim.dna_result, claim.dna_result_on = result, on
    return result


def _to_paternity(actor: Any, claim: Claim, on: date, details: dict[str, Any]) -> str | None:
    if not details.get("basis"):
        raise InvalidField("basis", _l("Say how paternity was established."))
    basis = choice("basis", details.get("basis"), PaternityBasis)
    if claim.current_step is S.DNA_RESULT and claim.dna_result == DnaResult.EXCLUSION:
        raise illegal_move(
            claim, S.PATERNITY_ESTABLISHED, _l("The DNA result excluded the alleged father: close the claim.")
        )
    if claim.current_step is not S.DNA_RESULT and basis != PaternityBasis.ACKNOWLEDGMENT:
        raise illegal_move(
            claim,
            S.PATERNITY_ESTABLISHED,
            _l("Without a DNA result, only the alleged father's acknowledgment establishes paternity."),
        )
    claim.paternity_basis, claim.paternity_established_on = basis, on
    return basis


def _to_support(actor: Any, claim: Claim, on: date, details: dict[str, Any]) -> str | None:
    frequency = choice("frequency", details.get("frequency"), Frequency, default="monthly")
    starts_on = details.get("starts_on") or on
    ends_on = details.get("ends_on")
    if ends_on is not None and ends_on < starts_on:
        raise InvalidField("ends_on", _l("The order cannot end before it starts."))
    if starts_on.year < 1900 or starts_on > on + timedelta(days=3660):
        raise InvalidField("starts_on", _l("Give the date the order starts."))
    latest = max((o.starts_on for o in claim.orders), default=None)
    if latest is not None and starts_on <= latest:
        raise InvalidField(
            "starts_on",
            _l("A new order must start after the one in force (from %(date)s).", date=latest.isoformat()),
        )
    order = SupportOrder(
        ordered_on=on,
        amount=money("amount", details.get("amount")),
        currency=currency("currency", details.get("currency")),
        frequency=frequency,
        starts_on=starts_on,
        ends_on=ends_on,
        recorded_by_id=getattr(actor, "id", None),
    )
    claim.orders.append(order)
    return f"{order.amount} {order.currency}"


def _to_paying(actor: Any, claim: Claim, on: date, details: dict[str, Any]) -> str | None:
    if not claim.payments:
        raise illegal_move(
            claim, S.PAYING, _l("Record the first payment: the claim moves to “Payments” with it.")
        )
    return None


def _to_closed(actor: Any, claim: Claim, on: date, details: dict[str, Any]) -> str | None:
    if not details.get("reason"):
        raise InvalidField("reason", _l("Say why the claim is closed."))
    reason = choice("reason", details.get("reason"), ClosingReason)
    if reason == ClosingReason.FATHER_EXCLUDED and claim.dna_result != DnaResult.EXCLUSION:
        raise illegal_move(
            claim, S.CLOSED, _l("Only a DNA result that excludes him closes a claim as “father excluded”.")
        )
    if reason == ClosingReason.RESOLVED and claim.paternity_established_on is None:
        raise illegal_move(claim, S.CLOSED, _l("A claim is resolved only once paternity is established."))
    claim.step_before_close, claim.closing_reason, claim.closed_on = claim.step, reason, on
    return reason


ENTER: dict[ClaimStep, Callable[[Any, Claim, date, dict[str, Any]], str | None]] = {
    S.CONSENT_OBTAINED: _to_consent,
    S.REFERRED: _to_referred,
    S.DNA_REQUESTED: _to_dna_requested,
    S.SAMPLES_TAKEN: _to_samples,
    S.DNA_RESULT: _to_dna_result,
    S.PATERNITY_ESTABLISHED: _to_paternity,
    S.SUPPORT_ORDERED: _to_support,
    S.PAYING: _to_paying,
    S.CLOSED: _to_closed,
}


def advance(*, actor: Any, claim: Claim, to: str, on: date | None = None, **details: Any) -> ClaimEvent:
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
    when = _step_date(claim, "on", on)
    note = ENTER[target](actor, claim, when, details)
    return _enter(actor=actor, claim=claim, target=target, on=when, note=note, kind="step")


def _enter(
    *, actor: Any, claim: Claim, target: ClaimStep, on: date, note: str | None, kind: str
) -> ClaimEvent:
    before = claim.step
    claim.step, claim.step_on, claim.step_recorded_on = target, on, today()
    event = ClaimEvent(
        claim=claim,
        from_step=before,
        to_step=target,
        occurred_on=on,
        kind=kind,
        note=note,
        recorded_by_id=getattr(actor, "id", None),
    )
    db.session.add(event)
    db.session.flush()
    _audit(f"claim.{kind}", actor=actor, claim=claim, step_from=before, step_to=target.value, on=on)
    return event


def reopen(*, actor: Any, claim: Claim, on: date | None = None) -> ClaimEvent:
    """A closed claim returns to the step it was closed from; the closing stays in its history."""
    if claim.current_step is not S.CLOSED:
        raise IllegalMove(_l("Only a closed claim can be reopened."))
    when = _step_date(claim, "on", on)
    target = ClaimStep(claim.step_before_close or S.RECORDED)
    reason = claim.closing_reason
    claim.closing_reason = claim.closed_on = claim.step_before_close = None
    return _enter(
        actor=actor,
        claim=claim,
        target=target,
        on=when,
        note=reason,
        kind="reopen",
    )


# --- member-state correspondence --------------------------------------------------------------


def record_letter(
    *,
    actor: Any,
    claim: Claim,
    direction: str,
    dated_on: date | None,
    channel: str | None,
    reference: str | None = None,
    summary: str | None = None,
) -> Letter:
    if claim.current_step is S.CLOSED:
        raise DomainError(_l("This claim is closed: reopen it to record more."))
    when = past_date("dated_on", dated_on, required=True) or today()
    if when < claim.opened_on:
        raise InvalidField("dated_on", _l("This letter cannot be dated before the claim was opened."))
    letter = Letter(
        direction=choice("direction", direction, LetterDirection),
        dated_on=when,
        channel=choice("channel", channel, LetterChannel, default="permanent_mission"),
        reference=clean_text("reference", reference, max_length=100),
        summary=clean_text("summary", summary, max_length=2000),
        recorded_by_id=getattr(actor, "id", None),
    )
    claim.letters.append(letter)
    db.session.flush()
    _audit("claim.letter", actor=actor, claim=claim, letter=letter.id, direction=letter.direction)
    return letter


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
    """Since the first letter the member state has not answered (None: nothing unanswered)."""
    if claim.current_step is S.CLOSED:
        return None
    since: date | None = None
    for letter in sorted(claim.letters, key=lambda x: (x.dated_on, x.id or 0)):
        if letter.direction == LetterDirection.RECEIVED:
            since = None
        elif since is None:
            since = letter.dated_on
    if since is None:
        return None
    return Waiting(claim.member_state, since, max(((on or today()) - since).days, 0))


# --- schedules and arrears --------------------------------------------------------------------


@dataclass
class Instalment:
    due_on: date
    amount: Decimal
    currency: str
    paid: Decimal = Decimal("0.00")

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.paid


@dataclass
class Balance:
    currency: str
    due: Decimal = Decimal("0.00")
    received: Decimal = Decimal("0.00")

    @property
    def arrears(self) -> Decimal:
        return self.due - self.received


@dataclass
class Schedule:
    instalments: list[Instalment] = field(default_factory=list)
    balances: list[Balance] = field(default_factory=list)
    next_due: Instalment | None = None


def _order_periods(orders: Sequence[Any]) -> list[tuple[Any, date | None]]:
    """Each order with the last day it runs (None: open-ended): a later order ends the one
    before it. `orders` are support orders or rows with the same columns."""
    ordered = sorted(orders, key=lambda o: (o.starts_on, o.ordered_on))
    periods = []
    for position, order in enumerate(ordered):
        end = order.ends_on
        if position + 1 < len(ordered):
            cut = ordered[position + 1].starts_on - timedelta(days=1)
            end = cut if end is None else min(end, cut)
        periods.append((order, end))
    return periods


def instalments(orders: Sequence[SupportOrder], until: date) -> tuple[list[Instalment], Instalment | None]:
    """The payments due under the orders up to `until` (each on the first day of its period),
    and the next one after it. A later order ends the one before it."""
    due: list[Instalment] = []
    upcoming: Instalment | None = None
    for order, end in _order_periods(orders):
        frequency = Frequency(order.frequency)
        index = 0
        while True:
            if frequency is Frequency.ONCE:
                due_on = order.starts_on if index == 0 else None
            else:
                due_on = add_months(order.starts_on, index * frequency.months)
            if due_on is None or (end is not None and due_on > end):
                break
            if due_on > until:
                if upcoming is None or due_on < upcoming.due_on:
                    upcoming = Instalment(due_on, order.amount, order.currency)
                break
            due.append(Instalment(due_on, order.amount, order.currency))
            index += 1
    return due, upcoming


def instalments_due(starts_on: date, frequency: Frequency, last_day: date) -> int:
    """How many instalments `instalments` lists from `starts_on` up to `last_day`, counted
    without listing them: one every N months on the start's day of the month, clamped to the
    end of shorter months (so a month's last day reaches any later day of the month)."""
    if starts_on > last_day:
        return 0
    if frequency is Frequency.ONCE:
        return 1
    months = (last_day.year - starts_on.year) * 12 + last_day.month - starts_on.month
    month_ends = last_day.day == calendar.monthrange(last_day.year, last_day.month)[1]
    if starts_on.day > last_day.day and not month_ends:
        months -= 1
    return months // frequency.months + 1 if months >= 0 else 0


def amounts_due(orders: Sequence[Any], until: date) -> dict[str, Decimal]:
    """What fell due under one claim's orders up to `until`, per currency (the sum of
    `instalments`' amounts); currencies with nothing due yet are left out."""
    due: dict[str, Decimal] = {}
    for order, end in _order_periods(orders):
        last_day = until if end is None else min(until, end)
        count = instalments_due(order.starts_on, Frequency(order.frequency), last_day)
        if count:
            due[order.currency] = due.get(order.currency, Decimal("0.00")) + order.amount * count
    return due


def schedule(orders: Sequence[SupportOrder], payments: Sequence[Payment], on: date | None = None) -> Schedule:
    """What was due, what was received, and the arrears per currency; payments settle the oldest
    instalment first."""
    due, upcoming = instalments(orders, on or today())
    balances: dict[str, Balance] = {}
    for item in due:
        balances.setdefault(item.currency, Balance(item.currency)).due += item.amount
    credit: dict[str, Decimal] = defaultdict(Decimal)
    for payment in payments:
        balances.setdefault(payment.currency, Balance(payment.currency)).received += payment.amount
        credit[payment.currency] += payment.amount
    for item in due:
        item.paid = min(item.amount, credit[item.currency])
        credit[item.currency] -= item.paid
    return Schedule(due, sorted(balances.values(), key=lambda b: b.currency), upcoming)


def record_payment(
    *,
    actor: Any,
    claim: Claim,
    amount: Any,
    currency_code: str | None,
    received_on: date | None,
    route: str | None,
    reference: str | None = None,
    token: str | None = None,
) -> Payment:
    """Record money received for the child. The same `token` twice books once. The first payment
    moves the claim to "Payments"."""
    token = (token or "").strip()[:64] or None
    if token is not None:
        existing = db.session.scalar(select(Payment).where(Payment.token == token))
        if existing is not None:
            if existing.claim_id != claim.id:
                raise Conflict(_l("This form was already used for another claim; open it again."))
            return existing
    if claim.current_step not in (S.SUPPORT_ORDERED, S.PAYING):
        raise IllegalMove(_l("Payments are recorded once a child-support order is set (and before closing)."))
    code = currency("currency_code", currency_code)
    if code not in {o.currency for o in claim.orders}:
        currencies = ", ".join(sorted({o.currency for o in claim.orders}))
        raise InvalidField(
            "currency_code",
            _l("Record the payment in the order's currency (%(currencies)s).", currencies=currencies),
        )
    when = past_date("received_on", received_on, required=True) or today()
    first_order = min(o.ordered_on for o in claim.orders)
    if when < first_order:
        raise InvalidField("received_on", _l("A payment cannot be received before the order was made."))
    payment = Payment(
        amount=money("amount", amount),
        currency=code,
        received_on=when,
        route=choice("route", route, PaymentRoute, default="other"),
        reference=clean_text("reference", reference, max_length=100),
        token=token,
        recorded_by_id=getattr(actor, "id", None),
    )
    claim.payments.append(payment)
    db.session.flush()
    _audit(
        "claim.payment", actor=actor, claim=claim, payment=payment.id, amount=payment.amount, currency=code
    )
    if claim.current_step is S.SUPPORT_ORDERED:
        _enter(actor=actor, claim=claim, target=S.PAYING, on=max(when, claim.step_on), note=None, kind="step")
    return payment


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
    return ((on or today()) - since).days >= victims.no_update_days()


def update_text(claim: Claim) -> str:
    """A suggested summary of the update owed to the victim (no names)."""
    state = country_name(claim.member_state)
    order = claim.orders[-1] if claim.orders else None
    basis = (claim.paternity_basis or "").replace("_", " ")
    texts = {
        S.RECORDED: "recorded.",
        S.CONSENT_OBTAINED: f"consent recorded; the claim can now be referred to {state}.",
        S.REFERRED: f"referred to {state}.",
        S.DNA_REQUESTED: "DNA sampling requested.",
        S.SAMPLES_TAKEN: "DNA samples taken.",
        S.DNA_RESULT: f"DNA result received ({claim.dna_result}).",
        S.PATERNITY_ESTABLISHED: f"paternity established ({basis}).",
        S.SUPPORT_ORDERED: (
            f"child-support order made: {order.amount} {order.currency} {order.frequency} "
            f"from {order.starts_on.isoformat()}."
            if order
            else "child-support order made."
        ),
        S.PAYING: "payments have started.",
        S.CLOSED: f"closed ({claim.closing_reason.replace('_', ' ')})."
        if claim.closing_reason
        else "closed.",
    }
    return f"Paternity claim {claim.code}, {claim.step_on.isoformat()}: {texts[claim.current_step]}"


def inform_victim(
    *,
    actor: Any,
    claim: Claim,
    occurred_on: date | None,
    channel: str,
    summary: str | None,
    language: str | None = None,
) -> Any:
    """Record the case update given to the victim, through the victims service."""
    communication = victims.log_communication(
        actor=actor,
        victim=claim.victim,
        occurred_on=occurred_on,
        channel=channel,
        summary=summary,
        case_update_given=True,
        language=language,
    )
    _audit("claim.victim_informed", actor=actor, claim=claim, communication=communication.id)
    return communication


# --- lists and the dashboard ------------------------------------------------------------------
#
# Both are computed in SQL over the claims in scope: the list reads one page of claims (ordered
# and cut in SQL) and works out each row's waiting time, flags and balances from that page's
# letters, orders and payments only; the dashboard's counts are grouped in SQL. Days are compared
# as dates computed in Python (`on - 90 days`), so no SQL needs a dialect's date arithmetic.


@dataclass
class ClaimRow:
    claim: Claim
    waiting: Waiting | None
    age_days: int
    update_owed: bool
    no_update: bool
    balances: list[Balance]

    @property
    def arrears(self) -> list[Balance]:
        return [b for b in self.balances if b.arrears]


@dataclass(frozen=True)
class ClaimFilters:
    country_code: str = ""
    step: str = ""
    member_state: str = ""
    victim_id: int | None = None


def _waiting_starts() -> Any:
    """Per claim with an unanswered letter: the date of the first sent letter that no reply
    follows (by date, then by the order recorded), as `waiting` finds it letter by letter."""
    sent, reply = aliased(Letter), aliased(Letter)
    later_reply = exists().where(
        reply.claim_id == sent.claim_id,
        reply.direction == LetterDirection.RECEIVED.value,
        or_(reply.dated_on > sent.dated_on, and_(reply.dated_on == sent.dated_on, reply.id > sent.id)),
    )
    return (
        select(sent.claim_id.label("claim_id"), func.min(sent.dated_on).label("since"))
        .where(sent.direction == LetterDirection.SENT.value, ~later_reply)
        .group_by(sent.claim_id)
        .subquery("waiting_starts")
    )


def _matching(user: Any, filters: ClaimFilters) -> list[ColumnElement[bool]]:
    """Conditions on the claim alone: in scope, and matching the filters."""
    country = [Victim.country_code == filters.country_code] if filters.country_code else []
    conditions = [claim_in_scope(user, *country)]
    if filters.step:
        conditions.append(Claim.step == filters.step)
    if filters.member_state:
        conditions.append(Claim.member_state == filters.member_state)
    if filters.victim_id is not None:
        conditions.append(Claim.victim_id == filters.victim_id)
    return conditions


def claim_row(claim: Claim, on: date) -> ClaimRow:
    """A list row: the claim with what it waits for and owes (its letters, orders and payments
    loaded)."""
    plan = schedule(claim.orders, claim.payments, on) if claim.orders else Schedule()
    return ClaimRow(
        claim=claim,
        waiting=waiting(claim, on),
        age_days=(on - claim.opened_on).days,
        update_owed=victim_update_owed(claim),
        no_update=victim_without_update(claim, on),
        balances=plan.balances,
    )


def _load_for_rows(user: Any, ids: Sequence[int]) -> list[Claim]:
    """The claims with these ids, in this order, each with its victim, letters, orders and
    payments (what a list row shows)."""
    if not ids:
        return []
    loaded = db.session.scalars(
        visible_claims(user)
        .where(Claim.id.in_(ids))
        .options(selectinload(Claim.letters), selectinload(Claim.orders), selectinload(Claim.payments))
    ).all()
    by_id = {claim.id: claim for claim in loaded}
    return [by_id[claim_id] for claim_id in ids if claim_id in by_id]  # gone meanwhile: left out


MAX_PAGE = 100_000  # a page number past any list (keeps the offset within the database's range)

_kept_counts = KeptValues()


def claims_page(
    user: Any,
    filters: ClaimFilters,
    *,
    page: int = 1,
    per_page: int = 50,
    on: date | None = None,
    kept_as: Hashable | None = None,
) -> victims.Page:
    """One page of the claims in scope matching the filters: open claims first, the longest
    waiting on a member state first, then the oldest opened. Ordered and cut in SQL; only the
    page's claims are loaded with their letters, orders and payments. With `kept_as` (the list
    and who views it), the total is counted at most once per `VAT_LIST_COUNT_SECONDS`, as the
    victim list's is; the rows, and whether more follow, are always read."""
    on = on or today()
    page = min(max(page, 1), MAX_PAGE)
    matching = _matching(user, filters)
    starts = _waiting_starts()
    closed = Claim.step == S.CLOSED.value
    since = case((closed, None), (starts.c.since > on, on), else_=starts.c.since)
    window = db.session.scalars(
        select(Claim.id)
        .where(*matching)
        .outerjoin(starts, starts.c.claim_id == Claim.id)
        .order_by(
            case((closed, 1), else_=0),
            case((since.is_(None), 1), else_=0),
            since,
            Claim.opened_on,
            Claim.id,
        )
        .limit(per_page + 1)
        .offset((page - 1) * per_page)
    ).all()
    claims = _load_for_rows(user, window[:per_page])

    def count() -> int:
        return db.session.scalar(select(func.count(Claim.id)).where(*matching)) or 0

    total = list_figure(_kept_counts, kept_as, count)
    return victims.Page(
        items=[claim_row(claim, on) for claim in claims],
        page=page,
        per_page=per_page,
        total=max(total, (page - 1) * per_page + len(claims) if claims else 0),  # a kept total may lag
        more=len(window) > per_page,
    )


@dataclass
class Dashboard:
    by_step: list[tuple[ClaimStep, int]]
    by_member_state: list[tuple[str, int, int]]  # state, open claims, longest wait in days
    by_age: list[tuple[str, int]]
    waiting_flags: dict[int, int]
    update_owed: int
    no_update: int
    arrears: list[Balance]
    total: int


OLDEST_AGE = "over 2 years"
AGE_LABELS = [label for _, label in AGE_BUCKETS] + [OLDEST_AGE]

_kept_dashboards = KeptValues()


def _count(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def dashboard(user: Any, on: date | None = None) -> Dashboard:
    """Every claim in scope summed up: by step; open claims by member state (with the longest
    wait), by age and by waiting flag; victims owed an update; child support due and received.
    Kept per viewer for `VAT_LIST_COUNT_SECONDS`, like a list's total (the page's main cost)."""
    return list_figure(_kept_dashboards, ("claims", user.id, on), lambda: _dashboard(user, on or today()))


def _dashboard(user: Any, on: date) -> Dashboard:
    groups = _claims_by_step_and_member_state(user, on)
    open_groups = [g for g in groups if g["step"] is not S.CLOSED]
    steps: dict[ClaimStep, int] = defaultdict(int)
    states: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for group in groups:
        steps[group["step"]] += group["claims"]
    for group in open_groups:
        state = states[group["member_state"]]
        state[0] += group["claims"]
        state[1] = max(state[1], group["longest"])
    ages = {label: sum(g[label] for g in open_groups) for label in AGE_LABELS}
    return Dashboard(
        by_step=[(s, steps[s]) for s in ClaimStep if steps[s]],
        by_member_state=sorted(
            ((k, n, days) for k, (n, days) in states.items()), key=lambda x: (-x[2], x[0])
        ),
        by_age=[(label, ages[label]) for label in AGE_LABELS if ages[label]],
        waiting_flags={f: sum(g[f] for g in open_groups) for f in WAITING_FLAGS},
        update_owed=sum(g["update_owed"] for g in groups),
        no_update=sum(g["no_update"] for g in open_groups),
        arrears=_support_totals(user, on),
        total=sum(steps.values()),
    )


def _claims_by_step_and_member_state(user: Any, on: date) -> list[dict[Any, Any]]:
    """One grouped statement: per step and member state, how many claims, how many victims owed
    an update, the longest wait in days, how many victims had no update for too long, and how
    many claims fall in each age bucket and at each waiting flag (meaningful for open claims)."""
    starts = _waiting_starts()
    since = starts.c.since

    def days_ago(days: int) -> date:
        return on - timedelta(days=days)

    age = case(
        *[(Claim.opened_on >= days_ago(limit), label) for limit, label in AGE_BUCKETS], else_=OLDEST_AGE
    )
    flag = case(*[(since <= days_ago(f), f) for f in WAITING_FLAGS], else_=0)
    rows = db.session.execute(
        claims_in_scope(
            user,
            Claim.step,
            Claim.member_state,
            func.count(Claim.id),
            _count(or_(Victim.last_update_on.is_(None), Victim.last_update_on < Claim.step_on)),
            func.min(since),
            _count(
                func.coalesce(Victim.last_update_on, Claim.opened_on) <= days_ago(victims.no_update_days())
            ),
            *[_count(age == label) for label in AGE_LABELS],
            *[_count(flag == f) for f in WAITING_FLAGS],
        )
        .join(Claim.victim)
        .outerjoin(starts, starts.c.claim_id == Claim.id)
        .group_by(Claim.step, Claim.member_state)
    ).all()
    groups = []
    for step, state, claims, owed, first_since, no_update, *counts in rows:
        longest = max((on - first_since).days, 0) if first_since is not None else 0
        group: dict[Any, Any] = {"step": ClaimStep(step), "member_state": state, "claims": int(claims)}
        group.update(update_owed=int(owed), longest=longest, no_update=int(no_update))
        group.update(zip([*AGE_LABELS, *WAITING_FLAGS], (int(n) for n in counts), strict=True))
        groups.append(group)
    return groups


def _support_totals(user: Any, on: date) -> list[Balance]:
    """Child support due (from every order in scope, read as plain rows in one statement) and
    received (summed in SQL), per currency, over the claims that have an order."""
    orders = db.session.execute(
        claims_in_scope(
            user,
            SupportOrder.claim_id,
            SupportOrder.starts_on,
            SupportOrder.ordered_on,
            SupportOrder.ends_on,
            SupportOrder.frequency,
            SupportOrder.amount,
            SupportOrder.currency,
        )
        .join(SupportOrder, SupportOrder.claim_id == Claim.id)
        .order_by(SupportOrder.claim_id)
    ).all()
    totals: dict[str, Balance] = {}
    for _, claim_orders in groupby(orders, key=lambda order: order.claim_id):
        for code, amount in amounts_due(list(claim_orders), on).items():
            totals.setdefault(code, Balance(code)).due += amount
    has_order = exists().where(SupportOrder.claim_id == Claim.id)
    received = db.session.execute(
        claims_in_scope(user, Payment.currency, func.sum(Payment.amount))
        .join(Payment, Payment.claim_id == Claim.id)
        .where(has_order)
        .group_by(Payment.currency)
    ).all()
    for code, amount in received:
        totals.setdefault(code, Balance(code)).received += amount
    return sorted(totals.values(), key=lambda b: b.currency)
