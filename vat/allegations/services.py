"""Allegations: record, update, link to victims, and compute the clock from rules kept as data."""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, false, or_, select

from vat import audit
from vat.allegations.models import (
    STEP_LABELS,
    SUB_TYPES,
    Allegation,
    AllegationType,
    ClockRule,
    Outcome,
    PersonnelCategory,
    Step,
    Urgency,
    VictimAllegation,
)
from vat.auth.policy import scope_filter
from vat.db import db
from vat.errors import DomainError
from vat.inputs import InvalidField, choice, clean_text, country, mission, past_date, today

# --- scope ----------------------------------------------------------------------------------


def visible_allegations(user: Any) -> Select[tuple[Allegation]]:
    """Every query for allegations starts here: the user's scope, in one place."""
    return select(Allegation).where(
        scope_filter(
            user,
            Allegation.country_code,
            Allegation.mission,
            record_type="allegation",
            id_column=Allegation.id,
        )
    )


def get_allegation(user: Any, allegation_id: int) -> Allegation | None:
    return db.session.scalar(visible_allegations(user).where(Allegation.id == allegation_id))


def find_by_reference(user: Any, reference: str) -> Allegation | None:
    return db.session.scalar(visible_allegations(user).where(Allegation.reference == reference.strip()))


def find_by_reference_anywhere(reference: str) -> Allegation | None:
    """Whatever the scope: for uniqueness checks only, never to show the record."""
    return db.session.scalar(select(Allegation).where(Allegation.reference == reference.strip()))


# --- record and update ----------------------------------------------------------------------

STEP_FIELDS = [f"{s.value}_on" for s in Step]


def _validate(values: Mapping[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {
        "country_code": country("country_code", values.get("country_code")),
        "mission": mission("mission", values.get("mission")),
        "personnel_category": choice(
            "personnel_category", values.get("personnel_category"), PersonnelCategory, default="unknown"
        ),
        "perpetrator_country": country(
            "perpetrator_country", values.get("perpetrator_country"), required=False
        ),
        "type": choice("type", values.get("type"), AllegationType, default="unknown"),
        "urgency": choice("urgency", values.get("urgency"), Urgency, default="normal"),
        "outcome": choice("outcome", values.get("outcome"), Outcome, default="pending"),
        "actions_taken": clean_text("actions_taken", values.get("actions_taken"), max_length=2000),
    }
    sub_type = (values.get("sub_type") or "").strip().lower().replace(" ", "_") or None
    if sub_type is not None and sub_type not in {v for v, _ in SUB_TYPES if v}:
        raise InvalidField("sub_type", _l("Choose a listed sub-type."))
    cleaned["sub_type"] = sub_type
    previous: tuple[str, date] | None = None
    for name in STEP_FIELDS:
        when = past_date(name, values.get(name))
        cleaned[name] = when
        if when is not None and previous is not None and when < previous[1]:
            raise InvalidField(
                name, _l("This step cannot come before “%(step)s”.", step=_step_label(previous[0]))
            )
        if when is not None and name != "nio_decision_on":
            previous = (name, when)
    if cleaned["received_on"] is None and any(cleaned[n] for n in STEP_FIELDS[1:]):
        raise InvalidField("received_on", _l("Give the date received before later steps."))
    return cleaned


def _step_label(field: str) -> str:
    return STEP_LABELS[Step(field.removesuffix("_on"))]


def _require_scope(actor: Any, country_code: str, mission_name: str | None) -> None:
    from vat.auth.policy import in_scope

    if not in_scope(actor, country_code, mission_name):
        raise InvalidField("country_code", _l("This country or mission is outside your scope."))


def create_allegation(*, actor: Any, reference: str, **values: Any) -> Allegation:
    reference = clean_text("reference", reference, max_length=40, required=True) or ""
    cleaned = _validate(values)
    _require_scope(actor, cleaned["country_code"], cleaned["mission"])
    if db.session.scalar(select(Allegation.id).where(Allegation.reference == reference)):
        raise InvalidField("reference", _l("An allegation with this reference number exists already."))
    allegation = Allegation(reference=reference, **cleaned)
    db.session.add(allegation)
    db.session.flush()
    audit.record(
        "allegation.create",
        actor=actor,
        object_type="allegation",
        object_id=allegation.id,
        country_code=allegation.country_code,
        detail={"reference": reference},
    )
    return allegation


def update_allegation(*, actor: Any, allegation: Allegation, **values: Any) -> Allegation:
    cleaned = _validate(values)
    _require_scope(actor, cleaned["country_code"], cleaned["mission"])
    changed = [k for k, v in cleaned.items() if getattr(allegation, k) != v]
    outcome_before = allegation.outcome
    for key, value in cleaned.items():
        setattr(allegation, key, value)
    db.session.flush()
    audit.record(
        "allegation.update",
        actor=actor,
        object_type="allegation",
        object_id=allegation.id,
        country_code=allegation.country_code,
        detail={"fields": changed},
    )
    if allegation.outcome != outcome_before and allegation.outcome != Outcome.PENDING:
        from vat.victims.services import open_outcome_tasks

        open_outcome_tasks(actor=actor, allegation=allegation)
    return allegation


def link_victim(*, actor: Any, victim: Any, allegation: Allegation) -> VictimAllegation:
    """Name a victim in an allegation; both are already loaded through the actor's scope."""
    if any(link.allegation_id == allegation.id for link in victim.allegation_links):
        raise DomainError(_l("This victim is already linked to that allegation."))
    link = VictimAllegation(victim=victim, allegation=allegation)
    db.session.add(link)
    db.session.flush()
    audit.record(
        "allegation.link_victim",
        actor=actor,
        object_type="victim",
        object_id=victim.case_code,
        country_code=victim.country_code,
        detail={"allegation": allegation.reference},
    )
    if allegation.outcome != Outcome.PENDING:
        from vat.victims.services import open_outcome_tasks

        open_outcome_tasks(actor=actor, allegation=allegation, victims=[victim])
    return link


def unlink_victim(*, actor: Any, victim: Any, allegation: Allegation) -> None:
    link = next((x for x in victim.allegation_links if x.allegation_id == allegation.id), None)
    if link is None:
        raise DomainError(_l("This victim is not linked to that allegation."))
    victim.allegation_links.remove(link)
    db.session.flush()
    audit.record(
        "allegation.unlink_victim",
        actor=actor,
        object_type="victim",
        object_id=victim.case_code,
        country_code=victim.country_code,
        detail={"allegation": allegation.reference},
    )


# --- the clock ------------------------------------------------------------------------------


def add_months(start: date, months: int) -> date:
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def rules() -> list[ClockRule]:
    return list(db.session.scalars(select(ClockRule).order_by(ClockRule.position)))


@dataclass(frozen=True)
class StepState:
    step: Step
    label: str
    done_on: date | None
    due_on: date | None
    limit: str  # "7 days", "3 months"
    state: str  # done, on_time, late, due, overdue, waiting, not_applicable
    days: int  # late by / due in / overdue by

    @property
    def text(self) -> str:
        if self.state == "on_time":
            return "on time"
        if self.state == "late":
            return f"late by {self.days} day{'s' if self.days != 1 else ''}"
        if self.state == "due":
            return f"due in {self.days} day{'s' if self.days != 1 else ''}"
        if self.state == "overdue":
            return f"overdue by {self.days} day{'s' if self.days != 1 else ''}"
        if self.state == "waiting":
            return "waiting for an earlier step"
        if self.state == "not_applicable":
            return "not applicable"
        return "done"

    @property
    def bad(self) -> bool:
        return self.state in ("late", "overdue")


def _rule_limit(rule: ClockRule, urgency: str) -> tuple[int, str]:
    reduced = (
        rule.reduced_amount is not None
        and rule.reduced_from is not None
        and Urgency(urgency).rank >= Urgency(rule.reduced_from).rank
    )
    return (rule.reduced_amount if reduced else rule.amount) or 0, rule.unit


def clock(
    allegation: Allegation, *, rule_list: Iterable[ClockRule] | None = None, on: date | None = None
) -> list[StepState]:
    """Each step with its deadline and where it stands, from the rules table."""
    on = on or today()
    by_step = {r.step: r for r in (rule_list if rule_list is not None else rules())}
    states = [
        StepState(Step.RECEIVED, STEP_LABELS[Step.RECEIVED], allegation.received_on, None, "", "done", 0)
        if allegation.received_on
        else StepState(Step.RECEIVED, STEP_LABELS[Step.RECEIVED], None, None, "", "waiting", 0)
    ]
    for step in list(Step)[1:]:
        rule = by_step.get(step.value)
        done = allegation.step_date(step)
        if rule is None:
            states.append(
                StepState(step, STEP_LABELS[step], done, None, "", "done" if done else "waiting", 0)
            )
            continue
        applies = [c for c in rule.applies_to.split(",") if c]
        if applies and allegation.personnel_category not in applies:
            states.append(StepState(step, STEP_LABELS[step], done, None, "", "not_applicable", 0))
            continue
        amount, unit = _rule_limit(rule, allegation.urgency)
        limit = f"{amount} {unit if amount != 1 else unit.rstrip('s')}"
        start = allegation.step_date(Step(rule.starts_from))
        if start is None:
            states.append(StepState(step, STEP_LABELS[step], done, None, limit, "waiting", 0))
            continue
        due = deadline(start, amount, unit)
        if done is not None:
            late = (done - due).days
            state = StepState(
                step, STEP_LABELS[step], done, due, limit, "late" if late > 0 else "on_time", late
            )
        elif on <= due:
            state = StepState(step, STEP_LABELS[step], None, due, limit, "due", (due - on).days)
        else:
            state = StepState(step, STEP_LABELS[step], None, due, limit, "overdue", (on - due).days)
        states.append(state)
    return states


def overdue_steps(
    allegation: Allegation, rule_list: list[ClockRule], on: date | None = None
) -> list[StepState]:
    return [s for s in clock(allegation, rule_list=rule_list, on=on) if s.state == "overdue"]


def deadline(start: date, amount: int, unit: str) -> date:
    return add_months(start, amount) if unit == "months" else start + timedelta(days=amount)


def _latest_late_start(amount: int, unit: str, on: date) -> date:
    """The latest start whose deadline is already past on `on` (a later start never has an earlier
    deadline, so every start up to this one is late too)."""
    start = add_months(on, -amount) if unit == "months" else on - timedelta(days=amount)
    while deadline(start, amount, unit) >= on:
        start -= timedelta(days=1)
    return start


def has_overdue_step(rule_list: list[ClockRule], on: date) -> ColumnElement[bool]:
    """SQL for "`overdue_steps` is not empty": the same verdict, with each deadline turned into the
    latest start that is late by `on`, so that no date arithmetic runs in SQL (SQLite and
    PostgreSQL add months differently) and a plain comparison of the start column remains."""
    steps = {step.value for step in list(Step)[1:]}
    overdue = []
    for rule in rule_list:
        if rule.step not in steps:
            continue
        start = getattr(Allegation, f"{rule.starts_from}_on")
        by_amount: dict[int, list[str]] = {}
        for urgency in Urgency:
            by_amount.setdefault(_rule_limit(rule, urgency)[0], []).append(urgency.value)
        late = [
            and_(Allegation.urgency.in_(urgencies), start <= _latest_late_start(amount, rule.unit, on))
            for amount, urgencies in by_amount.items()
        ]
        categories = [c for c in rule.applies_to.split(",") if c]
        applies = [Allegation.personnel_category.in_(categories)] if categories else []
        overdue.append(and_(getattr(Allegation, f"{rule.step}_on").is_(None), or_(*late), *applies))
    return or_(*overdue) if overdue else false()


def update_rule(
    *, actor: Any, step: str, amount: int, unit: str, reduced_amount: int | None, reduced_from: str | None
) -> ClockRule:
    rule = db.session.get(ClockRule, step)
    if rule is None:
        raise DomainError(_l("No such step."))
    if unit not in ("days", "months"):
        raise InvalidField("unit", _l("Use days or months."))
    if not 0 < amount <= 3650:
        raise InvalidField("amount", _l("Give a limit between 1 and 3650."))
    if reduced_amount is not None and not 0 < reduced_amount <= amount:
        raise InvalidField(
            "reduced_amount", _l("The shortened limit must be positive and no longer than the limit.")
        )
    if reduced_amount is not None and reduced_from not in {u.value for u in Urgency} - {"normal"}:
        raise InvalidField("reduced_from", _l("Say which cases get the shortened limit."))
    before = {"amount": rule.amount, "unit": rule.unit, "reduced_amount": rule.reduced_amount}
    rule.amount, rule.unit = amount, unit
    rule.reduced_amount = reduced_amount
    rule.reduced_from = reduced_from if reduced_amount is not None else None
    db.session.flush()
    audit.record(
        "clock_rule.update",
        actor=actor,
        object_type="clock_rule",
        object_id=step,
        detail={
            "before": before,
            "after": {"amount": amount, "unit": unit, "reduced_amount": reduced_amount},
        },
    )
    return rule
