"""The words shown for stored values (enums, clock states), translated; templates call these."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from wtforms import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3 has it; its stubs predate it

from vat.allegations.clock import StepState
from vat.allegations.cycle_models import CycleStep
from vat.allegations.models import Labelled, Step
from vat.templating import day

LABELS: dict[str, Any] = {
    # sex, age group, status
    "female": _l("female"),
    "male": _l("male"),
    "unknown": _l("unknown"),
    "adult": _l("adult"),
    "minor": _l("minor"),
    "active": _l("active"),
    "closed": _l("closed"),
    "lost_contact": _l("lost contact"),
    # consents
    "services": _l("receive services"),
    "referral": _l("be referred to a named provider"),
    "share_member_state": _l("share with a member state"),
    "paternity_disclosure": _l("paternity disclosure"),
    "dna_testing": _l("DNA testing"),
    "contact": _l("be contacted"),
    "aggregate_reporting": _l("share de-identified records for analysis"),
    "written": _l("written"),
    "verbal": _l("verbal"),
    "thumbprint": _l("thumbprint"),
    "guardian": _l("by a guardian"),
    "other": _l("other"),
    # services
    "medical": _l("medical"),
    "psychosocial": _l("psychosocial"),
    "legal": _l("legal"),
    "material": _l("material / basic needs"),
    "shelter": _l("shelter"),
    "education": _l("education"),
    "livelihood": _l("livelihood"),
    "protection": _l("protection"),
    "referred": _l("referred"),
    "in_progress": _l("in progress"),
    "completed": _l("completed"),
    "declined": _l("declined by the victim"),
    "not_available": _l("not available"),
    "available": _l("available"),
    "limited": _l("limited"),
    "cancelled": _l("cancelled (consent withdrawn)"),
    "trust_fund_project": _l("trust-fund project"),
    "direct_trust_fund": _l("direct trust-fund support"),
    "mission_budget": _l("mission budget"),
    "agency": _l("agency"),
    "petty_cash": _l("petty cash"),
    "cash": _l("cash"),  # a partner's per-beneficiary line of money
    # needs
    "met": _l("met"),
    "partly_met": _l("partly met"),
    "unmet": _l("unmet"),
    "no_longer_needed": _l("no longer needed"),
    "no_provider": _l("no provider"),
    "no_funds": _l("no funds"),
    "no_consent": _l("no consent"),
    "waiting_list": _l("waiting list"),
    "victim_unreachable": _l("victim unreachable"),
    # feedback
    "satisfied": _l("satisfied"),
    "not_satisfied": _l("not satisfied"),
    "unsure": _l("unsure"),
    # communications and shares
    "in_person": _l("in person"),
    "phone": _l("phone"),
    "message": _l("text message"),
    "letter": _l("letter"),
    "third_party": _l("through a third party"),
    "member_state": _l("member state"),
    "provider": _l("provider"),
    # allegations
    "military_contingent": _l("military contingent"),
    "military_expert": _l("military expert on mission"),
    "formed_police": _l("formed police unit"),
    "individual_police": _l("individual police"),
    "civilian": _l("civilian staff"),
    "un_volunteer": _l("UN volunteer"),
    "contractor": _l("contractor"),
    "implementing_partner": _l("implementing partner"),
    "non_un_force": _l("non-UN force"),
    "exploitation": _l("sexual exploitation"),
    "abuse": _l("sexual abuse"),
    "rape": _l("rape"),
    "sexual_assault": _l("sexual assault"),
    "sexual_activity_with_minor": _l("sexual activity with a minor"),
    "transactional_sex": _l("transactional sex"),
    "exploitative_relationship": _l("exploitative relationship"),
    "peacekeeping": _l("peacekeeping operations and special political missions"),
    # "agency" is labelled above (a funding source); the statistics name the category in full
    "national_investigation_officer": _l("contributing country (national investigation officer)"),
    "oios": _l("OIOS"),
    "mission": _l("mission"),
    "national_authorities": _l("national authorities"),
    "joint": _l("joint investigation"),
    "under_review": _l("under review"),
    "ongoing": _l("ongoing"),
    "closed_without_investigation": _l("closed without investigation"),
    "normal": _l("normal"),
    "high_priority": _l("high priority"),
    "urgent": _l("urgent"),
    "pending": _l("pending"),
    "substantiated": _l("substantiated"),
    "unsubstantiated": _l("unsubstantiated"),
    # the accountability cycle's measures and outcomes (vat.allegations.cycle_models)
    "leave_without_pay": _l("leave without pay"),
    "administrative_leave": _l("administrative leave"),
    "suspension": _l("suspension"),
    "repatriation": _l("repatriation"),
    "confined_to_barracks": _l("confined to barracks"),
    "payments_suspended": _l("payments suspended"),
    "dismissal": _l("dismissal"),
    "separation": _l("separation from service"),
    "repatriation_and_ban": _l("repatriation and ban from future operations"),
    "demotion": _l("demotion"),
    "fine": _l("fine"),
    "written_censure": _l("written censure"),
    "referred_to_ohrm": _l("referred to OHRM for disciplinary action"),
    "referred_to_unv": _l("referred to the UN Volunteers programme for disciplinary action"),
    "referred_to_entity": _l("referred to the entity's own disciplinary process"),
    "left_before_action": _l("left before action could be taken"),
    "no_action": _l("no action"),
    "imprisonment": _l("imprisonment"),
    "reprimand": _l("reprimand"),
    "acquitted": _l("acquitted"),
    "none": _l("not referred (no grounds)"),
    "prosecution_opened": _l("prosecution opened"),
    "convicted": _l("convicted"),
    "prosecution_declined": _l("prosecution declined"),
    "investigating": _l("investigating"),
    "no_reply_content": _l("reply without information"),
    "days": _l("days"),
    "months": _l("months"),
    "reduced_high_priority": _l("for high-priority and urgent cases"),
    "reduced_urgent": _l("for urgent cases"),
}

STEPS: dict[str, Any] = {
    Step.RECEIVED: _l("Received"),
    Step.ASSESSED: _l("Assessed and reported"),
    Step.REFERRED: _l("Referred for investigation"),
    Step.NIO_DECISION: _l("National investigation officer decision"),
    Step.INVESTIGATION_COMPLETED: _l("Investigation completed"),
    Step.REPORT_SUBMITTED: _l("Report submitted for action"),
}


def choices(enum: type[Labelled]) -> list[SelectChoice]:
    """A form's options for an enum, each with its translated label."""
    return [SelectChoice(m.value, LABELS.get(m.value, m.label)) for m in enum]


CYCLE_STEPS: dict[str, Any] = {
    CycleStep.INTERIM_MEASURE: _l("Interim measure"),
    CycleStep.ADMINISTRATIVE_ACTION: _l("Administrative action or sanction"),
    CycleStep.MEMBER_STATE_REFERRAL: _l("Referred to the member state for action"),
    CycleStep.MEMBER_STATE_OUTCOME: _l("Member state's disciplinary or judicial outcome"),
    CycleStep.CRIMINAL_REFERRAL: _l("Referred for criminal accountability"),
    CycleStep.CRIMINAL_RESPONSE: _l("Response to the criminal referral"),
}


def vat_label(value: str | None) -> str:
    if not value:
        return "—"
    return str(LABELS.get(value, value.replace("_", " ")))


def step_label(step: str) -> str:
    return str(STEPS.get(Step(step), step))


def cycle_step_label(step: str) -> str:
    return str(CYCLE_STEPS.get(step, step))


def step_text(state: StepState) -> str:
    days = state.days
    if state.state == "on_time":
        return _("on time")
    if state.state == "late":
        return ngettext("late by %(num)s day", "late by %(num)s days", days)
    if state.state == "due":
        return ngettext("due in %(num)s day", "due in %(num)s days", days)
    if state.state == "overdue":
        return ngettext("overdue by %(num)s day", "overdue by %(num)s days", days)
    if state.state == "waiting":
        return _("waiting for an earlier step")
    if state.state == "not_applicable":
        return _("not applicable")
    if state.state == "not_recorded":
        return _("not recorded")
    if state.state == "done_by" and state.done_by is not None:
        return _("not recorded; done by %(date)s", date=day(state.done_by))
    return _("done")


def limit_text(state: StepState) -> str:
    if not state.limit:
        return "—"
    amount, unit = state.limit.split(" ", 1)
    if unit.startswith("month"):
        return ngettext("%(num)s month", "%(num)s months", int(amount))
    return ngettext("%(num)s day", "%(num)s days", int(amount))


HELPERS = {
    "vat_label": vat_label,
    "cycle_step_label": cycle_step_label,
    "step_label": step_label,
    "step_text": step_text,
    "limit_text": limit_text,
}
