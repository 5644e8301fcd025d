"""How paternity claims go with each member state (rec. 17 asks for one process "from report to
outcome"; each state still has its own focal point, forum, documents, laboratory and times).
Senior advocates and administrators keep them; each claim shows its member state's."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from vat import audit
from vat.auth.actor import Actor
from vat.claims.models import Forum, Framework
from vat.db import assign, db
from vat.inputs import InvalidField, choice, clean_text, country

# Typical times are in days; beyond five years a figure is a typing mistake.
MAX_DAYS = 5 * 366
DAY_FIELDS = ("reply_days", "dna_days", "decision_days")


def framework_for(member_state: str) -> Framework | None:
    return db.session.scalar(select(Framework).where(Framework.member_state == member_state))


def all_frameworks() -> list[Framework]:
    return list(db.session.scalars(select(Framework).order_by(Framework.member_state)))


def _days(field: str, value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        days = int(value)
    except (TypeError, ValueError) as error:
        raise InvalidField(field, _l("Give a number of days.")) from error
    if not 0 < days <= MAX_DAYS:
        raise InvalidField(field, _l("Give a number of days between 1 and %(max)s.", max=MAX_DAYS))
    return days


def save_framework(
    *,
    actor: Actor,
    member_state: str | None,
    focal_point: str | None = None,
    forum: str | None = None,
    documents: str | None = None,
    laboratory: str | None = None,
    reply_days: Any = None,
    dna_days: Any = None,
    decision_days: Any = None,
) -> Framework:
    """Create or replace the framework of one member state."""
    state = country("member_state", member_state) or ""  # required: `country` refuses a blank
    values: dict[str, Any] = {
        "focal_point": clean_text("focal_point", focal_point, max_length=300),
        "forum": choice("forum", forum, Forum) if forum else None,
        "documents": clean_text("documents", documents, max_length=4000),
        "laboratory": clean_text("laboratory", laboratory, max_length=200),
        **{
            name: _days(name, value)
            for name, value in zip(DAY_FIELDS, (reply_days, dna_days, decision_days), strict=True)
        },
    }
    framework = framework_for(state)
    if framework is None:
        framework = Framework(member_state=state)
        db.session.add(framework)
    changed = assign(framework, values)
    framework.updated_by_id = actor.id
    db.session.flush()
    audit.record(
        "claim.framework",
        actor=actor,
        object_type="claim_framework",
        object_id=state,
        detail={"fields": changed},
    )
    return framework
