"""The victim's right to be informed (issue 18, item 3; SG §34: a letter at the end of every
investigation, whatever its outcome). An outcome recorded opens a task per victim with a deadline
(VAT_INFORM_OUTCOME_DAYS); the letter is written from a template in the victim's language and
printed as a PDF; when, how and by whom the victim was told is the case-update communication that
closes the task (vat.victims.family)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import render_template
from flask_babel import lazy_gettext as _l

from vat.auth.actor import Actor
from vat.errors import DomainError
from vat.inputs import InvalidField, today
from vat.victims.history import audit_victim
from vat.victims.models import Communication, Victim, VictimTask
from vat.victims.outcomes import INFORM_OUTCOME, inform_days

# The languages a letter template exists in (templates/vat/letters/outcome.<code>.txt).
LETTER_LANGUAGES = {"en": "English", "fr": "Français", "zh": "中文"}


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


def outcomes_to_tell(victim: Victim, on: date | None = None) -> list[OutcomeToTell]:
    """Each outcome the victim is owed, open ones first, with its deadline and how it was told."""
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
        if task.kind == INFORM_OUTCOME
    ]
    return sorted(rows, key=lambda row: (row.task.closed_at is not None, row.due_on, row.task.id))


def outcome_letter(*, actor: Actor, victim: Victim, task: VictimTask, language: str) -> list[str]:
    """The letter's paragraphs (the first is its title), written from the template of `language`.
    It holds the victim's name, decrypted here and audited (by case code, never the name)."""
    if task.victim_id != victim.id or task.kind != INFORM_OUTCOME:
        raise DomainError(_l("That task belongs to another victim."))
    if language not in LETTER_LANGUAGES:
        raise InvalidField("language", _l("Choose a language the letter is written in."))
    reference = task.allegation.reference if task.allegation else "—"
    text = render_template(
        f"vat/letters/outcome.{language}.txt",
        name=victim.name or victim.case_code,
        case_code=victim.case_code,
        reference=reference,
        outcome=task.outcome,
        on=today(),
        advocate=victim.advocate.username if victim.advocate else "",
    )
    audit_victim(
        "victim.outcome_letter",
        actor=actor,
        victim=victim,
        detail={"task": task.id, "allegation": reference, "language": language},
    )
    return [" ".join(part.split()) for part in text.split("\n\n") if part.strip()]
