"""A claim's history: each step it enters is an event and an audit row; every service that
moves or records on a claim writes both through here."""

from __future__ import annotations

from datetime import date
from typing import Any

import pycountry
from flask_babel import lazy_gettext as _l

from vat import audit
from vat.auth.actor import Actor
from vat.claims.models import Claim, ClaimEvent, ClaimStep
from vat.db import assign, db
from vat.errors import DomainError
from vat.inputs import InvalidField, past_date, today
from vat.victims import outcomes


class IllegalMove(DomainError):
    """A step the state machine does not allow from where the claim stands."""


def audit_claim(action: str, *, actor: Actor, claim: Claim, **detail: Any) -> None:
    audit.record(
        action,
        actor=actor,
        object_type="claim",
        object_id=claim.code,
        country_code=claim.victim.country_code,
        detail={"victim": claim.victim.case_code, **detail},
    )


def change_claim(action: str, *, actor: Actor, claim: Claim, values: dict[str, Any]) -> Claim:
    """Set `values` on the claim and audit which of them changed."""
    changed = assign(claim, values)
    db.session.flush()
    audit_claim(action, actor=actor, claim=claim, fields=changed)
    return claim


def country_name(code: str) -> str:
    """The country's English ISO name, as records keep it (consent recipients, the disclosure
    log): a stored key, the same whoever wrote it. What readers see is `vat.inputs.country_label`."""
    found = pycountry.countries.get(alpha_3=code)
    return getattr(found, "name", code) if found else code


def step_date(claim: Claim, field_name: str, value: date | None) -> date:
    """The date a step happened: not in the future, nor before the step the claim is at."""
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


def enter_step(
    *, actor: Actor, claim: Claim, target: ClaimStep, on: date, note: str | None, kind: str
) -> ClaimEvent:
    """Put the claim at `target` (the caller checked the move is allowed) and record it."""
    before = claim.step
    claim.step, claim.step_on, claim.step_recorded_on = target, on, today()
    event = ClaimEvent(
        claim=claim,
        from_step=before,
        to_step=target,
        occurred_on=on,
        kind=kind,
        note=note,
        recorded_by_id=actor.id,
    )
    db.session.add(event)
    db.session.flush()
    audit_claim(f"claim.{kind}", actor=actor, claim=claim, step_from=before, step_to=target.value, on=on)
    outcomes.open_claim_step_task(actor=actor, victim=claim.victim, claim_id=claim.id, step=target.value)
    return event
