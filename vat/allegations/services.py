"""Allegations: record and update them, and edit the rules of their clock (vat.allegations.clock)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date
from typing import Any

from flask.signals import Namespace
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select

from ledger.models import Withholding
from vat import audit
from vat.allegations import clock, clock_counts, cycle_counts, month_counts
from vat.allegations.models import (
    STEP_LABELS,
    SUB_TYPES_OF,
    Allegation,
    AllegationType,
    ClockRule,
    EntityCategory,
    InvestigatingEntity,
    InvestigationStatus,
    Outcome,
    PersonnelCategory,
    Step,
    SubType,
    Urgency,
)
from vat.auth.actor import Actor
from vat.auth.policy import in_scope, scope_filter
from vat.db import db
from vat.inputs import (
    InvalidField,
    choice,
    clean_text,
    count,
    country,
    each_field,
    mission,
    optional_choice,
    past_date,
    yes_no,
)
from vat.paging import Page, page_of

# An outcome was recorded: the victims named in the allegation must be told. Sent within the
# transaction that records it (sender: the allegation; `actor`); the factory connects the victims
# domain, which this one never imports.
signals = Namespace()
outcome_recorded = signals.signal("allegation-outcome-recorded")

# --- scope ----------------------------------------------------------------------------------


def visible_allegations(user: Actor) -> Select[Allegation]:
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


def get_allegation(user: Actor, allegation_id: int) -> Allegation | None:
    return db.session.scalar(visible_allegations(user).where(Allegation.id == allegation_id))


def find_by_reference(user: Actor, reference: str) -> Allegation | None:
    return db.session.scalar(visible_allegations(user).where(Allegation.reference == reference.strip()))


def find_by_reference_anywhere(reference: str) -> Allegation | None:
    """Whatever the scope: for uniqueness checks only, never to show the record."""
    return db.session.scalar(select(Allegation).where(Allegation.reference == reference.strip()))


# --- record and update ----------------------------------------------------------------------

STEP_FIELDS = [f"{s.value}_on" for s in Step]


def _validate(values: Mapping[str, Any]) -> dict[str, Any]:
    """Every field checked on its own first, then the rules between fields: each stage's refusals
    all at once."""
    cleaned = each_field(
        {
            "country_code": lambda: country("country_code", values.get("country_code")),
            "mission": lambda: mission("mission", values.get("mission")),
            "entity_category": lambda: optional_choice(
                "entity_category", values.get("entity_category"), EntityCategory
            ),
            "personnel_category": lambda: choice(
                "personnel_category", values.get("personnel_category"), PersonnelCategory, default="unknown"
            ),
            "perpetrator_country": lambda: country(
                "perpetrator_country", values.get("perpetrator_country"), required=False
            ),
            "perpetrators": lambda: count("perpetrators", values.get("perpetrators")),
            "type": lambda: choice("type", values.get("type"), AllegationType, default="unknown"),
            "urgency": lambda: choice("urgency", values.get("urgency"), Urgency, default="normal"),
            "investigating_entity": lambda: optional_choice(
                "investigating_entity", values.get("investigating_entity"), InvestigatingEntity
            ),
            "outcome": lambda: choice("outcome", values.get("outcome"), Outcome, default="pending"),
            "actions_taken": lambda: clean_text(
                "actions_taken", values.get("actions_taken"), max_length=2000
            ),
            **{name: _step_date(values, name) for name in STEP_FIELDS},
        }
    )
    if "historical" in values:  # set by the importer; the forms leave it as it is
        cleaned["historical"] = yes_no("historical", values["historical"])
    return cleaned | each_field(
        {
            "sub_type": lambda: _sub_type(cleaned, values.get("sub_type")),
            "investigation_status": lambda: _investigation_status(
                cleaned, values.get("investigation_status")
            ),
        },
        found=_steps_out_of_order(cleaned),
    )


def _step_date(values: Mapping[str, Any], name: str) -> Callable[[], date | None]:
    return lambda: past_date(name, values.get(name))


def _steps_out_of_order(cleaned: dict[str, Any]) -> list[InvalidField]:
    """The steps dated before an earlier step, and later steps without the date received."""
    errors = []
    previous: tuple[str, date] | None = None
    for name in STEP_FIELDS:
        when = cleaned[name]
        if when is not None and previous is not None and when < previous[1]:
            errors.append(
                InvalidField(
                    name, _l("This step cannot come before “%(step)s”.", step=_step_label(previous[0]))
                )
            )
        if when is not None and name != "nio_decision_on":
            previous = (name, when)
    if cleaned["received_on"] is None and any(cleaned[n] for n in STEP_FIELDS[1:]):
        errors.append(InvalidField("received_on", _l("Give the date received before later steps.")))
    return errors


def _sub_type(cleaned: dict[str, Any], value: str | None) -> str | None:
    """The sub-type, which must be one of its type's; a sub-type of one type only (rape, transactional
    sex…) given with the type unknown gives the type."""
    sub_type = optional_choice("sub_type", value, SubType)
    if sub_type is None:
        return None
    owners = [kind for kind, subs in SUB_TYPES_OF.items() if sub_type in subs]
    if cleaned["type"] == AllegationType.UNKNOWN and len(owners) == 1:
        cleaned["type"] = owners[0]
    if cleaned["type"] not in owners:
        names = ", ".join(s.value for s in SUB_TYPES_OF.get(cleaned["type"], ()))
        if not names:
            raise InvalidField("sub_type", _l("Give a sub-type only for sexual exploitation or abuse."))
        raise InvalidField("sub_type", _l("This type's sub-types are: %(values)s.", values=names))
    return sub_type


def _investigation_status(cleaned: dict[str, Any], value: str | None) -> str | None:
    """The status given, or "completed" when the dates or the outcome say so; it may not contradict
    them. Left empty otherwise: not recorded."""
    status = optional_choice("investigation_status", value, InvestigationStatus)
    finished = cleaned["investigation_completed_on"] is not None or cleaned["outcome"] != Outcome.PENDING
    if finished and status not in (None, InvestigationStatus.COMPLETED):
        raise InvalidField(
            "investigation_status",
            _l("The investigation is completed: its completion date or its outcome is recorded."),
        )
    if status == InvestigationStatus.UNDER_REVIEW and cleaned["referred_on"] is not None:
        raise InvalidField(
            "investigation_status", _l("The allegation was referred: it is no longer under review.")
        )
    return InvestigationStatus.COMPLETED.value if finished else status


def _step_label(field: str) -> str:
    return STEP_LABELS[Step(field.removesuffix("_on"))]


def _require_scope(actor: Actor, country_code: str, mission_name: str | None) -> None:
    if not in_scope(actor, country_code, mission_name):
        raise InvalidField("country_code", _l("This country or mission is outside your scope."))


def new_allegation_columns(*, actor: Actor, reference: str, **values: Any) -> dict[str, Any]:
    """A new allegation's checked columns, written nowhere (the importer inserts many at once)."""
    reference = clean_text("reference", reference, max_length=40, required=True) or ""
    cleaned = _validate(values)
    _require_scope(actor, cleaned["country_code"], cleaned["mission"])
    if db.session.scalar(select(Allegation.id).where(Allegation.reference == reference)):
        raise InvalidField("reference", _l("An allegation with this reference number exists already."))
    return {"reference": reference, **cleaned}


def about(allegation: Allegation) -> dict[str, Any]:
    """What an allegation's audit rows name: its id and its country."""
    return {"object_type": "allegation", "object_id": allegation.id, "country_code": allegation.country_code}


def create_allegation(*, actor: Actor, reference: str, **values: Any) -> Allegation:
    columns = new_allegation_columns(actor=actor, reference=reference, **values)
    allegation = Allegation(**columns)
    db.session.add(allegation)
    db.session.flush()
    clock_counts.count_added([allegation.id])
    cycle_counts.count_added([allegation.id])
    month_counts.count_added([allegation.id])
    audit.record(
        "allegation.create", actor=actor, detail={"reference": allegation.reference}, **about(allegation)
    )
    return allegation


def update_allegation(*, actor: Actor, allegation: Allegation, **values: Any) -> Allegation:
    cleaned = _validate(values)
    _require_scope(actor, cleaned["country_code"], cleaned["mission"])
    changed = [k for k, v in cleaned.items() if getattr(allegation, k) != v]
    outcome_before = allegation.outcome
    with (
        clock_counts.recounting([allegation.id]),
        cycle_counts.recounting([allegation.id]),
        month_counts.recounting([allegation.id]),
    ):
        for key, value in cleaned.items():
            setattr(allegation, key, value)
    audit.record("allegation.update", actor=actor, detail={"fields": changed}, **about(allegation))
    if allegation.outcome != outcome_before and allegation.outcome != Outcome.PENDING:
        outcome_recorded.send(allegation, actor=actor)
    return allegation


# Resolution 70/286 withholds payments for the contingents of troop- and police-contributing countries.
CONTINGENTS = (PersonnelCategory.MILITARY_CONTINGENT, PersonnelCategory.FORMED_POLICE)


def withholding_proposals(*, page: int, per_page: int) -> Page:
    """Substantiated allegations against a contingent, its contributing country known, for which
    nothing has been withheld yet: what the fund managers should withhold for, oldest first, a
    page at a time (the list grows with every such allegation)."""
    withheld = select(Withholding.id).where(Withholding.allegation_ref == Allegation.reference)
    wanted = (
        Allegation.outcome == Outcome.SUBSTANTIATED,
        Allegation.personnel_category.in_(CONTINGENTS),
        Allegation.perpetrator_country.is_not(None),
        ~withheld.exists(),
    )
    query = (
        select(Allegation)
        .where(*wanted)
        .order_by(Allegation.report_submitted_on, Allegation.received_on, Allegation.id)
    )
    counted = select(func.count()).select_from(Allegation).where(*wanted)
    found = page_of(query, page=page, per_page=per_page, count=lambda: db.session.scalar(counted) or 0)
    return replace(found, items=[row[0] for row in found.items])


def check_withholding(sender: object, *, allegation_ref: str, country_code: str) -> str | None:
    """Receives ledger.services.withholdings.withholding_requested (connected by the app factory):
    resolution 70/286 withholds for a substantiated allegation, from the country whose personnel
    it concerns. Answers the allegation's mission (the one that holds the money, by default)."""
    allegation = find_by_reference_anywhere(allegation_ref)
    if allegation is None:
        raise InvalidField(
            "allegation_ref", _l("No allegation has the reference %(reference)s.", reference=allegation_ref)
        )
    if allegation.outcome != Outcome.SUBSTANTIATED:
        raise InvalidField(
            "allegation_ref",
            _l(
                "Allegation %(reference)s is not substantiated: nothing can be withheld for it yet.",
                reference=allegation_ref,
            ),
        )
    if allegation.perpetrator_country != country_code:
        raise InvalidField(
            "country_code",
            _l(
                "Allegation %(reference)s concerns personnel of %(country)s: withhold from that country.",
                reference=allegation_ref,
                country=allegation.perpetrator_country or "—",
            ),
        )
    return allegation.mission


def update_rule(
    *, actor: Actor, step: str, amount: int, unit: str, reduced_amount: int | None, reduced_from: str | None
) -> ClockRule:
    rule = clock.rule_to_change(ClockRule, step, amount, unit)
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
    clock_counts.recount_step(step)
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
