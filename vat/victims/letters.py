"""The victim's right to be informed (issue 18, item 3; SG §34: a letter at the end of every
investigation, whatever its outcome). An outcome recorded opens a task per victim with a deadline
(VAT_INFORM_OUTCOME_DAYS); the letter is written from a template in the victim's language and
printed as a PDF; when, how and by whom the victim was told is the case-update communication that
closes the task (vat.victims.family). `write_letter` writes any letter to a victim from its
template (vat.victims.letter_templates), the claims' step letters too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l

from vat.auth.actor import Actor
from vat.errors import DomainError
from vat.inputs import InvalidField, today
from vat.victims import letter_templates
from vat.victims.history import audit_victim
from vat.victims.letter_templates import LETTER_LANGUAGES
from vat.victims.models import Communication, Victim, VictimTask
from vat.victims.outcomes import INFORM_OUTCOME, inform_days


def due_on(task: VictimTask) -> date:
    """The day the victim is to be told by: set when the task opens; tasks opened before the
    deadline existed (1088) count from their opening."""
    return task.due_on or task.created_at.date() + timedelta(days=inform_days())


@dataclass(frozen=True)
class OutcomeToTell:
    task: VictimTask
    due_on: date
    overdue: bool
    informed_by: Communication | None  # the case update that closed the task: when, how, by whom


def outcomes_to_tell(
    victim: Victim, on: date | None = None, kind: str = INFORM_OUTCOME
) -> list[OutcomeToTell]:
    """Each outcome (or claim step: `kind`) the victim is owed, open ones first, with its
    deadline and how it was told."""
    on = on or today()
    told = {c.id: c for c in victim.communications}
    rows = [
        OutcomeToTell(
            task=task,
            due_on=due_on(task),
            overdue=task.closed_at is None and due_on(task) < on,
            informed_by=told.get(task.closed_by_communication_id or 0),
        )
        for task in victim.tasks
        if task.kind == kind
    ]
    return sorted(rows, key=lambda row: (row.task.closed_at is not None, row.due_on, row.task.id))


def outcome_letter(*, actor: Actor, victim: Victim, task: VictimTask, language: str) -> list[str]:
    """The outcome letter's paragraphs (the first is its title), in `language`."""
    if task.victim_id != victim.id or task.kind != INFORM_OUTCOME:
        raise DomainError(_l("That task belongs to another victim."))
    reference = task.allegation.reference if task.allegation else "—"
    values = {"reference": reference, "outcome": task.outcome}
    return write_letter(
        actor=actor, victim=victim, kind="outcome", language=language, values=values, task=task.id
    )


def write_letter(
    *, actor: Actor, victim: Victim, kind: str, language: str, values: dict[str, Any], **about: Any
) -> list[str]:
    """A letter to `victim` of `kind` in `language` from the template in use, with `values` and
    what every letter holds. It holds the victim's name, decrypted here and audited (by case
    code and `about`, never the name)."""
    if language not in LETTER_LANGUAGES:
        raise InvalidField("language", _l("Choose a language the letter is written in."))
    common = {
        "name": victim.name or victim.case_code,
        "case_code": victim.case_code,
        "on": today(),
        "advocate": victim.advocate.username if victim.advocate else "",
    }
    written = letter_templates.paragraphs(kind, language, {**values, **common})
    detail = {"kind": kind, "language": language, **about}
    if kind == "outcome":
        detail["allegation"] = values["reference"]
    audit_victim(f"victim.{kind}_letter", actor=actor, victim=victim, detail=detail)
    return written
