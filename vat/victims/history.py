"""A victim's audit trail: every service that records on a victim, or reads what is encrypted,
writes its audit row through here (the case code, never the identity)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from vat import audit
from vat.auth.actor import Actor
from vat.db import db
from vat.victims.models import Victim


def audit_victim(
    action: str, *, actor: Actor | None, victim: Victim, detail: dict[str, Any] | None = None
) -> None:
    audit.record(
        action,
        actor=actor,
        object_type="victim",
        object_id=victim.case_code,
        country_code=victim.country_code,
        detail=detail,
    )


Row = TypeVar("Row")


def add_audited(
    row: Row, action: str, *, actor: Actor | None, victim: Victim, detail: Callable[[Row], dict[str, Any]]
) -> Row:
    """Add a new record to the victim's file and audit it once flushed, so that `detail(row)` can
    name the new row's id."""
    db.session.add(row)
    db.session.flush()
    audit_victim(action, actor=actor, victim=victim, detail=detail(row))
    return row
