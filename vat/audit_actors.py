"""Who acted, by the kind of object and the country they acted on (`vat.audit.AuditActor`, kept
by every writer of events in its transaction), checked against and recomputed from the log:
`flask figures verify` / `rebuild`."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Select, Table, delete, func, literal, select

from vat.audit import ACTOR_KEY, AuditActor, AuditEvent
from vat.db import db


def _from_log() -> Select[str, str, str]:
    blank = literal("")
    return select(
        AuditEvent.actor_name,
        func.coalesce(AuditEvent.object_type, blank),
        func.coalesce(AuditEvent.country_code, blank),
    ).distinct()


def differences() -> list[str]:
    """Each row kept but not in the log, or in the log but not kept."""
    table = cast(Table, AuditActor.__table__)
    kept = set(db.session.execute(select(*(table.c[name] for name in ACTOR_KEY))))
    logged = set(db.session.execute(_from_log()))
    return [
        f"audit actors: {' '.join(part for part in key if part)}"
        f" {'is kept but not in the log' if key in kept else 'is in the log but not kept'}"
        for key in sorted(kept ^ logged)
    ]


def rebuild() -> int:
    """Every row written again from the log; how many there are."""
    table = cast(Table, AuditActor.__table__)
    db.session.execute(delete(table))
    db.session.execute(table.insert().from_select(list(ACTOR_KEY), _from_log()))
    return int(db.session.scalar(select(func.count()).select_from(table)) or 0)
