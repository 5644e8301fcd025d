"""A victim's audit trail: every service that records on a victim, or reads what is encrypted,
writes its audit row through here (the case code, never the identity)."""

from __future__ import annotations

from typing import Any

from vat import audit
from vat.auth.actor import Actor
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
