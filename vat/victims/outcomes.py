"""The allegations a victim is named in, and the victim's right to be told their outcome: an
outcome recorded opens a task per victim (through the allegations domain's signal)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from vat.allegations.models import Allegation, Outcome
from vat.auth.actor import Actor
from vat.db import db
from vat.errors import DomainError
from vat.inputs import today
from vat.victims.history import audit_victim
from vat.victims.labels import vat_label
from vat.victims.models import Victim, VictimAllegation, VictimTask

INFORM_OUTCOME = "inform_outcome"
INFORM_CLAIM_STEP = "inform_claim_step"


def claim_code(claim_id: int) -> str:
    """A paternity claim's code (Claim.code), here because the victims room never imports claims."""
    return f"PC-{claim_id:05d}"


def task_reference(task: VictimTask) -> str:
    """The allegation's reference, or the claim's code."""
    if task.claim_id is not None:
        return claim_code(task.claim_id)
    return task.allegation.reference if task.allegation else "—"


def task_label(task: VictimTask) -> str:
    """What the task owes the victim (the choices of the communication that closes it)."""
    if task.claim_id is not None:
        return str(_l("Tell the victim the step claim %(code)s reached", code=task_reference(task)))
    return str(
        _l(
            "Inform the victim of the outcome of allegation %(reference)s (%(outcome)s)",
            reference=task_reference(task),
            outcome=vat_label(task.outcome),
        )
    )


def inform_days() -> int:
    """Days from an outcome recorded to the day the victim is to be told by (SG §34)."""
    return int(current_app.config["VAT_INFORM_OUTCOME_DAYS"])


def outcome_due() -> date:
    """The deadline of a task opened today."""
    return today() + timedelta(days=inform_days())


def link_victim(*, actor: Actor, victim: Victim, allegation: Allegation) -> VictimAllegation:
    """Name a victim in an allegation; both are already loaded through the actor's scope."""
    if any(link.allegation_id == allegation.id for link in victim.allegation_links):
        raise DomainError(_l("This victim is already linked to that allegation."))
    link = VictimAllegation(victim=victim, allegation=allegation)
    db.session.add(link)
    db.session.flush()
    audit_victim(
        "allegation.link_victim", actor=actor, victim=victim, detail={"allegation": allegation.reference}
    )
    if allegation.outcome != Outcome.PENDING:
        open_outcome_tasks(actor=actor, allegation=allegation, victims=[victim])
    return link


def unlink_victim(*, actor: Actor, victim: Victim, allegation: Allegation) -> None:
    link = next((x for x in victim.allegation_links if x.allegation_id == allegation.id), None)
    if link is None:
        raise DomainError(_l("This victim is not linked to that allegation."))
    victim.allegation_links.remove(link)
    db.session.flush()
    audit_victim(
        "allegation.unlink_victim", actor=actor, victim=victim, detail={"allegation": allegation.reference}
    )


def on_outcome_recorded(allegation: Allegation, *, actor: Actor) -> None:
    """Receives vat.allegations.services.outcome_recorded (connected by the app factory)."""
    open_outcome_tasks(actor=actor, allegation=allegation)


def open_outcome_tasks(
    *, actor: Actor, allegation: Allegation, victims: Iterable[Victim] | None = None
) -> list[VictimTask]:
    """An outcome was recorded: every linked victim must be told. One open task per victim and
    allegation; a changed outcome updates the open task rather than adding another."""
    targets = (
        list(victims)
        if victims is not None
        else db.session.scalars(
            select(Victim)
            .join(VictimAllegation, VictimAllegation.victim_id == Victim.id)
            .where(VictimAllegation.allegation_id == allegation.id)
            .order_by(VictimAllegation.id)
        ).all()
    )
    created = [
        task
        for victim in targets
        if (
            task := _open_task(
                victim,
                INFORM_OUTCOME,
                lambda t: t.allegation_id == allegation.id,
                allegation=allegation,
                outcome=allegation.outcome,
            )
        )
    ]
    db.session.flush()
    for task in created:
        audit_victim(
            "victim.task_open",
            actor=actor,
            victim=task.victim,
            detail={"task": task.id, "kind": INFORM_OUTCOME, "allegation": allegation.reference},
        )
    return created


def open_claim_step_task(*, actor: Actor, victim: Victim, claim_id: int, step: str) -> VictimTask:
    """A claim reached `step`: the victim must be told, by the same deadline as an outcome. One
    open task per claim; a further step before the victim was told updates it."""
    task = _open_task(
        victim, INFORM_CLAIM_STEP, lambda t: t.claim_id == claim_id, claim_id=claim_id, claim_step=step
    )
    if task is None:
        return next(t for t in victim.tasks if t.claim_id == claim_id and t.closed_at is None)
    db.session.flush()
    audit_victim(
        "victim.task_open", actor=actor, victim=victim, detail={"task": task.id, "kind": INFORM_CLAIM_STEP}
    )
    return task


def _open_task(
    victim: Victim, kind: str, about: Callable[[VictimTask], bool], **values: Any
) -> VictimTask | None:
    """A new task of `kind` with `values`, or None when one `about` the same allegation or claim
    is open already (then updated with the `values` told)."""
    task = next((t for t in victim.tasks if t.kind == kind and t.closed_at is None and about(t)), None)
    if task is not None:
        for name in ("outcome", "claim_step"):
            if name in values:
                setattr(task, name, values[name])
        return None
    task = VictimTask(victim=victim, kind=kind, due_on=outcome_due(), **values)
    db.session.add(task)
    return task
