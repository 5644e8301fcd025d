"""A victim's audit trail: every service that records on a victim, or reads what is encrypted,
writes its audit row through here (the case code, never the identity)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from vat import audit
from vat.auth.actor import Actor
from vat.victims.models import Victim


def about_victim(victim: Victim) -> dict[str, Any]:
    """What a victim's audit rows name: the case code, never the identity, and the country."""
    return {"object_type": "victim", "object_id": victim.case_code, "country_code": victim.country_code}


def audit_victim(
    action: str, *, actor: Actor | None, victim: Victim, detail: dict[str, Any] | None = None
) -> None:
    audit.record(action, actor=actor, detail=detail, **about_victim(victim))


Row = TypeVar("Row")


def add_audited(
    row: Row, action: str, *, actor: Actor | None, victim: Victim, detail: Callable[[Row], dict[str, Any]]
) -> Row:
    """Add a new record to the victim's file and audit it once flushed, so that `detail(row)` can
    name the new row's id."""
    return audit.add_audited(row, action, actor=actor, detail=detail, **about_victim(victim))
