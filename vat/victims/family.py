"""Children born of the exploitation or abuse, and the victim's communications with the team (a
case update told, outcome tasks closed)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l

from vat.auth.actor import Actor
from vat.db import assign, db, utcnow
from vat.errors import DomainError
from vat.inputs import InvalidField, choice, clean_text, each_field, past_date, today
from vat.victims.consents import require_consent
from vat.victims.history import add_audited, audit_victim
from vat.victims.models import Channel, Child, Communication, ConsentPurpose, Sex, Victim

# --- children --------------------------------------------------------------------------------


def _child_values(values: dict[str, Any]) -> dict[str, Any]:
    return each_field(
        {
            "birth_date": lambda: past_date("birth_date", values.get("birth_date")),
            "sex": lambda: choice("sex", values.get("sex"), Sex, default="unknown"),
            "notes": lambda: clean_text("notes", values.get("notes"), max_length=5000),
        }
    )


def add_child(*, actor: Actor, victim: Victim, **values: Any) -> Child:
    child = Child(victim=victim, **_child_values(values))
    return add_audited(
        child, "victim.child_create", actor=actor, victim=victim, detail=lambda row: {"child": row.id}
    )


def update_child(*, actor: Actor, victim: Victim, child: Child, **values: Any) -> Child:
    if child.victim_id != victim.id:
        raise DomainError(_l("That child is recorded for another victim."))
    cleaned = _child_values(values)
    changed = assign(child, cleaned)
    db.session.flush()
    audit_victim(
        "victim.child_update", actor=actor, victim=victim, detail={"child": child.id, "fields": changed}
    )
    return child


# --- communications and the right to be informed --------------------------------------------


def _communication_rules(
    occurred_on: date | None,
    next_update_due: date | None,
    closing: list[int],
    open_tasks: dict[int, Any],
    case_update_given: bool,
) -> list[InvalidField]:
    found: list[InvalidField] = []
    if next_update_due is not None and next_update_due < (occurred_on or today()):
        found.append(
            InvalidField("next_update_due", _l("The next update cannot be due before this contact."))
        )
    if any(i not in open_tasks for i in closing):
        found.append(InvalidField("closes_tasks", _l("Choose only this victim's open tasks.")))
    if closing and not case_update_given:
        tick = _l("Informing the victim of an outcome is a case update: tick it.")
        found.append(InvalidField("case_update_given", tick))
    return found


def log_communication(
    *,
    actor: Actor,
    victim: Victim,
    occurred_on: date | None,
    channel: str,
    summary: str | None,
    case_update_given: bool,
    language: str | None = None,
    by_whom: str | None = None,
    next_update_due: date | None = None,
    closes_task_ids: Iterable[int] = (),
) -> Communication:
    open_tasks = {t.id: t for t in victim.tasks if t.closed_at is None}
    closing = [int(i) for i in closes_task_ids]
    checked = each_field(
        {
            "occurred_on": lambda: past_date("occurred_on", occurred_on, required=True) or today(),
            "consent": lambda: require_consent(victim, ConsentPurpose.CONTACT, field="channel"),
            "channel": lambda: choice("channel", channel, Channel),
            "language": lambda: clean_text("language", language, max_length=40),
            "by_whom": lambda: clean_text("by_whom", by_whom, max_length=120),
            "summary": lambda: clean_text("summary", summary, max_length=5000),
        },
        # The rules between fields in the same answer (a missing consent does not hide them).
        found=_communication_rules(occurred_on, next_update_due, closing, open_tasks, case_update_given),
    )
    occurred = checked["occurred_on"]
    communication = Communication(
        victim=victim,
        occurred_on=occurred,
        channel=checked["channel"],
        language=checked["language"],
        by_whom=checked["by_whom"] or getattr(actor, "username", "system"),
        recorded_by_id=getattr(actor, "id", None),
        case_update_given=bool(case_update_given),
        next_update_due=next_update_due,
        summary=checked["summary"],
    )
    db.session.add(communication)
    db.session.flush()
    now = utcnow()
    for task_id in closing:
        open_tasks[task_id].closed_at = now
        open_tasks[task_id].closed_by_communication_id = communication.id
    if case_update_given and (victim.last_update_on is None or occurred >= victim.last_update_on):
        victim.last_update_on = occurred
    if next_update_due is not None or case_update_given:
        victim.next_update_due = next_update_due
    db.session.flush()
    audit_victim(
        "victim.communication_create",
        actor=actor,
        victim=victim,
        detail={
            "communication": communication.id,
            "update_given": bool(case_update_given),
            "closed_tasks": closing,
        },
    )
    return communication
