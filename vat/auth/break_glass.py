"""Breaking the glass: a senior advocate opens one record outside their scope for a few hours,
with a stated reason (issue 15, "Weak"): at most a few times a day, never for a record already in
scope, and every use listed for another senior advocate or an auditor to acknowledge."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from vat import audit
from vat.auth.actor import Actor
from vat.auth.models import BreakGlass, Role
from vat.db import db, utcnow
from vat.errors import Conflict, DomainError, NotAllowed

BREAK_GLASS_HOURS = 8
REVIEWERS = (Role.SENIOR_ADVOCATE, Role.AUDITOR)


def daily_cap() -> int:
    return int(current_app.config.get("VAT_BREAK_GLASS_DAILY_CAP", 3))


def break_glass(
    *, actor: Actor, record_type: str, record_id: int, reason: str, country_code: str | None
) -> BreakGlass:
    """Open one out-of-scope record for a few hours; the reason is audited, shown to its owner and
    listed for review. The caller has checked that the record is outside the actor's scope."""
    if Role(actor.role) is not Role.SENIOR_ADVOCATE:
        raise DomainError(_l("Only a senior advocate may break the glass."))
    reason = reason.strip()
    if len(reason) < 15:
        raise DomainError(_l("State the reason in a sentence (15 characters or more)."))
    recent = (BreakGlass.user_id == actor.id, BreakGlass.created_at >= utcnow() - timedelta(hours=24))
    used = db.session.scalar(select(func.count(BreakGlass.id)).where(*recent))
    if (used or 0) >= daily_cap():
        raise NotAllowed(
            _l(
                "You have broken the glass %(count)s times in 24 hours, the most allowed: ask a colleague "
                "whose scope holds the record.",
                count=used,
            )
        )
    grant = BreakGlass(
        user_id=actor.id,
        record_type=record_type,
        record_id=record_id,
        reason=reason,
        expires_at=utcnow() + timedelta(hours=BREAK_GLASS_HOURS),
    )
    return audit.add_audited(
        grant,
        "auth.break_glass",
        actor=actor,
        detail=lambda row: {"grant": row.id},
        object_type=record_type,
        object_id=record_id,
        country_code=country_code,
    )


def to_review(*, unacknowledged_only: bool = True) -> list[BreakGlass]:
    """Every use of the glass, newest first (those not yet acknowledged, by default)."""
    query = select(BreakGlass).options(selectinload(BreakGlass.user)).order_by(BreakGlass.created_at.desc())
    if unacknowledged_only:
        query = query.where(BreakGlass.acknowledged_at.is_(None))
    return list(db.session.scalars(query.limit(500)))


def acknowledge(*, actor: Actor, grant: BreakGlass) -> BreakGlass:
    """Another senior advocate, or an auditor, has read the reason: never the one who broke it."""
    if Role(actor.role) not in REVIEWERS:
        raise NotAllowed(_l("Only a senior advocate or an auditor acknowledges a use of the glass."))
    if grant.user_id == actor.id:
        raise NotAllowed(_l("Someone else acknowledges your own use of the glass."))
    if grant.acknowledged_at is not None:
        raise Conflict(_l("This use of the glass is already acknowledged."))
    grant.acknowledged_by_id, grant.acknowledged_at = actor.id, utcnow()
    db.session.flush()
    audit.record("auth.break_glass_acknowledged", actor=actor, object_type="break_glass", object_id=grant.id)
    return grant
