"""The victim's individual needs, assessed by the advocate and kept current by the services
recorded, and the victim's feedback on each service and each case update.

The rule that keeps a need current (`follow_service`, in the transaction of the service's change):
a need of the service's type that is unmet or partly met becomes
- *met* when a service of that type is completed and no other service of that type is still
  referred or in progress (*partly met* while one is);
- *partly met* when a service of that type is in progress (help has started);
and a need that is unmet with no reason recorded takes the reason *no provider* when a service of
that type is recorded as not available. Needs met, declined by the victim or no longer needed are
the advocate's to change; a service of a type never assessed creates no need."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, exists, select

from vat.auth.actor import Actor
from vat.db import db
from vat.errors import DomainError
from vat.inputs import InvalidField, choice, clean_text, each_field, past_date, today
from vat.victims import feedback_counts, need_counts
from vat.victims.history import add_audited, audit_victim
from vat.victims.models import (
    Assistance,
    Communication,
    Feedback,
    Need,
    NeedStatus,
    Satisfaction,
    ServiceStatus,
    ServiceType,
    UnmetReason,
    Victim,
)

NOT_MET = (NeedStatus.UNMET.value, NeedStatus.PARTLY_MET.value)
NEED_ORDER = [t.value for t in ServiceType]


# --- needs ------------------------------------------------------------------------------------


def _reason(reason: str | None, status: str) -> str | None:
    """Why a need is unmet, given only for one unmet or partly met (checked with the other fields:
    a status that is no choice at all is refused on its own field)."""
    if not (reason or "").strip():
        return None
    why = choice("reason", reason, UnmetReason)
    try:
        state = choice("status", status, NeedStatus)
    except InvalidField:
        return why
    if state not in NOT_MET:
        raise InvalidField("reason", _l("Give a reason only for a need unmet or partly met."))
    return why


def assess_need(
    *,
    actor: Actor,
    victim: Victim,
    need_type: str,
    status: str,
    assessed_on: date | None = None,
    reason: str | None = None,
    note: str | None = None,
) -> Need:
    """Record the assessment of one need: a new row, or the victim's row for that need updated."""
    checked = each_field(
        {
            "need_type": lambda: choice("need_type", need_type, ServiceType),
            "status": lambda: choice("status", status, NeedStatus),
            "reason": lambda: _reason(reason, status),
            "assessed_on": lambda: past_date("assessed_on", assessed_on) or today(),
            "note": lambda: clean_text("note", note, max_length=2000),
        }
    )
    kind, state, why = checked.pop("need_type"), checked["status"], checked["reason"]
    with need_counts.recounting([victim.id]):
        need = db.session.scalar(select(Need).where(Need.victim_id == victim.id, Need.need_type == kind))
        action = "victim.need_update"
        if need is None:
            need = Need(victim=victim, need_type=kind, **checked)
            db.session.add(need)
            action = "victim.need_create"
        else:
            for key, value in checked.items():
                setattr(need, key, value)
        need.assessed_by_id = getattr(actor, "id", None)
    audit_victim(action, actor=actor, victim=victim, detail={"need": kind, "status": state, "reason": why})
    return need


def needs_of(victim: Victim) -> list[Need]:
    """The victim's needs in the order of the need types."""
    return sorted(victim.needs, key=lambda n: NEED_ORDER.index(n.need_type))


def follow_service(*, actor: Actor, victim: Victim, service: Assistance) -> Need | None:
    """Keep the need of the service's type current (the rule in the module docstring)."""
    with need_counts.recounting([victim.id]):
        return _follow_service(actor=actor, victim=victim, service=service)


def _follow_service(*, actor: Actor, victim: Victim, service: Assistance) -> Need | None:
    need = db.session.scalar(
        select(Need).where(Need.victim_id == victim.id, Need.need_type == service.service_type)
    )
    if need is None or need.status not in NOT_MET:
        return None
    before = (need.status, need.reason)
    if service.status == ServiceStatus.COMPLETED:
        others_open = db.session.scalar(
            select(
                exists().where(
                    Assistance.victim_id == victim.id,
                    Assistance.service_type == service.service_type,
                    Assistance.id != service.id,
                    Assistance.status.in_((ServiceStatus.REFERRED, ServiceStatus.IN_PROGRESS)),
                )
            )
        )
        need.status = NeedStatus.PARTLY_MET if others_open else NeedStatus.MET
    elif service.status == ServiceStatus.IN_PROGRESS:
        need.status = NeedStatus.PARTLY_MET
    elif service.status == ServiceStatus.NOT_AVAILABLE and need.reason is None:
        need.reason = UnmetReason.NO_PROVIDER
    if need.status not in NOT_MET:
        need.reason = None
    if (need.status, need.reason) == before:
        return None
    db.session.flush()
    audit_victim(
        "victim.need_update",
        actor=actor,
        victim=victim,
        detail={
            "need": need.need_type,
            "status": need.status,
            "reason": need.reason,
            "assistance": service.id,
        },
    )
    return need


def has_need_not_met(victim_id: Any = Victim.id) -> ColumnElement[bool]:
    """Whether the victim `victim_id` has a need unmet or partly met (the need index serves it)."""
    return exists().where(Need.status.in_(NOT_MET), Need.victim_id == victim_id).correlate_except(Need)


def victims_with_need_not_met() -> Select[int]:
    """`has_need_not_met` as a set: the ids of the victims with a need unmet or partly met, read
    once from the index on the needs' status (a count over every victim goes 5-7x faster on
    SQLite than looking them up victim by victim)."""
    return select(Need.victim_id).where(Need.status.in_(NOT_MET))


# --- feedback ---------------------------------------------------------------------------------


def record_feedback(
    *,
    actor: Actor,
    victim: Victim,
    satisfaction: str,
    service: Assistance | None = None,
    communication: Communication | None = None,
    given_on: date | None = None,
    complaint: bool = False,
    complaint_text: str | None = None,
    follow_up_needed: bool = False,
    follow_up_on: date | None = None,
) -> Feedback:
    """The victim's feedback on one service or one case update of their own file."""
    if (service is None) == (communication is None):
        raise DomainError(_l("Feedback is about one service or one case update."))
    about = service if service is not None else communication
    if about is None or about.victim_id != victim.id:
        raise DomainError(_l("That record belongs to another victim."))
    ticks = []  # what was typed without ticking its box, refused with the fields' own refusals
    if (complaint_text or "").strip() and not complaint:
        ticks.append(InvalidField("complaint", _l("Tick the complaint box to record what the complaint is.")))
    if follow_up_on is not None and not follow_up_needed:
        ticks.append(InvalidField("follow_up_needed", _l("A follow-up date needs a follow-up: tick it.")))
    checked = each_field(
        {
            "complaint_text": lambda: clean_text("complaint_text", complaint_text, max_length=5000),
            "given_on": lambda: past_date("given_on", given_on) or today(),
            "satisfaction": lambda: choice("satisfaction", satisfaction, Satisfaction),
        },
        found=ticks,
    )
    given = checked["given_on"]
    if follow_up_on is not None and follow_up_on < given:
        raise InvalidField("follow_up_on", _l("The follow-up cannot be due before the feedback was given."))
    with feedback_counts.recounting([victim.id]):
        feedback = Feedback(
            victim=victim,
            assistance_id=service.id if service is not None else None,
            communication_id=communication.id if communication is not None else None,
            given_on=given,
            satisfaction=checked["satisfaction"],
            complaint=bool(complaint),
            complaint_text=checked["complaint_text"],
            follow_up_needed=bool(follow_up_needed),
            follow_up_on=follow_up_on,
            recorded_by_id=getattr(actor, "id", None),
        )
        return add_audited(
            feedback,
            "victim.feedback_create",
            actor=actor,
            victim=victim,
            detail=lambda row: {
                "feedback": row.id,
                "assistance": row.assistance_id,
                "communication": row.communication_id,
                "satisfaction": row.satisfaction,
                "complaint": row.complaint,
            },
        )


def feedback_by_record(victim: Victim) -> dict[tuple[str, int], list[Feedback]]:
    """The victim's feedback keyed by what it is about: ("service", id) or ("update", id)."""
    found: dict[tuple[str, int], list[Feedback]] = {}
    for item in victim.feedback:
        key = (
            ("service", item.assistance_id) if item.assistance_id else ("update", item.communication_id or 0)
        )
        found.setdefault(key, []).append(item)
    return found


def follow_up_done(*, actor: Actor, victim: Victim, feedback: Feedback, on: date | None = None) -> Feedback:
    """The follow-up the victim's feedback asked for was done: it leaves *Needs attention*."""
    if feedback.victim_id != victim.id:
        raise DomainError(_l("That record belongs to another victim."))
    if not feedback.follow_up_needed:
        raise DomainError(_l("This feedback asked for no follow-up."))
    if feedback.followed_up_on is not None:
        raise DomainError(_l("This follow-up is already recorded as done."))
    feedback.followed_up_on = past_date("followed_up_on", on) or today()
    db.session.flush()
    audit_victim(
        "victim.feedback_followed_up",
        actor=actor,
        victim=victim,
        detail={"feedback": feedback.id, "on": feedback.followed_up_on.isoformat()},
    )
    return feedback
