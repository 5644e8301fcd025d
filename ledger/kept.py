"""The trust fund's summary figures, kept per worker for as long as the ledger has not changed.

The fund statement, trial balance, sub-ledger checks, withheld totals and donor summary add up
every posting: seconds at scale (docs/benchmarks.md). Entries are only ever appended,
each with the next `seq`, so while the chain head stays the same no posting has changed. The few
ledger records that change without an entry (a donor added, a project's progress or its end with
nothing left, a rate, a disbursement requested or rejected, a month closed) each write a ledger
audit event. The ledger's version is therefore the chain head and the last such event, two index
lookups: a value kept under the current version is exact, and the first request after a change
computes the figures again."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import TypeVar

from flask import current_app
from sqlalchemy import func, select

from ledger.models import Entry
from vat.audit import AuditEvent
from vat.db import db

T = TypeVar("T")

MAX_KEYS = 16  # few keys, each large: a fund report holds every project
_lock = threading.Lock()

# The audit actions of ledger services that change records without booking an entry.
CHANGES_WITHOUT_ENTRY = tuple(
    f"ledger.{action}"
    for action in (
        "donor.create",
        "rate.record",
        "rate.correct",
        "project.update",
        "project.release",
        "disbursement.request",
        "disbursement.reject",
        "period.close",
    )
)


def version() -> tuple[int, int]:
    """The chain head's seq and the id of the last change made without an entry."""
    head = select(func.max(Entry.seq)).scalar_subquery()
    change = select(func.max(AuditEvent.id)).where(AuditEvent.action.in_(CHANGES_WITHOUT_ENTRY))
    seq, event = db.session.execute(select(head, change.scalar_subquery())).one()
    return seq or 0, event or 0


def figures(name: str, compute: Callable[[], T], *arguments: Hashable) -> T:
    """`compute()`, kept in this app's worker under `name` and its `arguments` until the ledger's
    version changes (the figures of older versions are then dropped). The version is read before
    computing: figures that include a booking made meanwhile are kept under the version before it,
    which no later request reads."""
    current = version()
    with _lock:
        kept_version, store = current_app.extensions.get("ledger_figures", ((-1, -1), None))
        if current < kept_version:  # a request that began before a newer one kept its figures
            store = None
        elif current > kept_version or store is None:
            store = {}
            current_app.extensions["ledger_figures"] = (current, store)
    if store is None:
        return compute()
    key = (name, *arguments)
    with _lock:
        if key in store:
            return store[key]
    value = compute()
    with _lock:
        while len(store) >= MAX_KEYS:
            del store[next(iter(store))]
        store[key] = value
    return value
