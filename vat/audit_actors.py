"""The audit events counted by who acted on what (`vat.audit.ACTORS`, kept by every writer of
events in its transaction), checked against and recounted from the log: `flask figures verify` /
`rebuild`."""

from __future__ import annotations

from sqlalchemy import Select, func, literal, select

from vat.audit import ACTORS, AuditEvent
from vat.db import db
from vat.kept_counts import by_key

BLANK = ""  # no object type, or no country


def _counted() -> Select[str, str, str, int]:
    blank = literal(BLANK)
    key = (
        AuditEvent.actor_name,
        func.coalesce(AuditEvent.object_type, blank),
        func.coalesce(AuditEvent.country_code, blank),
    )
    return select(*key, func.count()).group_by(*key)


def differences() -> list[str]:
    """Each count that disagrees with the log, named by its key."""
    return ACTORS.differences("audit actors", db.session.execute(_counted()), blank=BLANK)


def rebuild() -> int:
    """Every count written again from the log; how many rows there are."""
    return ACTORS.replace(by_key(db.session.execute(_counted())))
