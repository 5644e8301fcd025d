"""The dashboard's figures at scale: computed once per viewer and interval, kept in memory.

`summary.summary` aggregates every victim, allegation, claim and posting the viewer may see —
seconds at 100,000 victims (docs/benchmarks.md) — and opens every role's dashboard. So each
worker keeps the last figures per *what the viewer may see* (role, scopes, break-glass grants,
ledger access) for `VAT_SUMMARY_SECONDS`. Older figures are still shown, with their time, while
one background thread computes new ones; a request that has no figures yet waits at most
`VAT_SUMMARY_WAIT_SECONDS` for them, after which the page says they are being prepared. With
`VAT_SUMMARY_SECONDS = 0` every request computes its figures (the tests' setting).

The report pages (assistance, clock, claims, per-victim totals) are kept the same way, per viewer
and per report with its filters (`report_for`): a report is a picture of the data at a time, and
the page says which."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from flask import Flask, current_app
from sqlalchemy import select

from vat.auth.actor import Actor
from vat.auth.models import BreakGlass, Role
from vat.db import BeginMode, begin_mode, db, utcnow
from vat.reports.summary import Summary, summary

log = logging.getLogger(__name__)

MAX_KEYS = 256  # distinct scopes (and reports with their filters) held per worker; the oldest goes first
_clock = time.monotonic  # replaced by the tests
T = TypeVar("T")


@dataclass(frozen=True)
class ScopeView:
    country_code: str
    mission: str | None


@dataclass(frozen=True)
class Viewer:
    """What the scope filter reads of a user, detached from the request (a thread computes with it)."""

    id: int
    username: str
    role: Role
    scopes: tuple[ScopeView, ...]


@dataclass(frozen=True)
class Figures(Generic[T]):
    value: T | None  # None: still being computed
    computed_at: datetime | None


@dataclass
class _Entry:
    figures: Figures[Any]
    computed: float  # _clock() when computed
    worker: threading.Thread | None = None


_entries: dict[tuple[Any, ...], _Entry] = {}
_lock = threading.Lock()


def summary_for(user: Actor, *, reads_ledger: bool) -> Figures[Summary]:
    """The figures for `user`'s dashboard, fresh or at most `VAT_SUMMARY_SECONDS` old."""

    def compute(viewer: Viewer) -> Summary:
        return summary(viewer, reads_ledger=reads_ledger, today=date.today())

    return _kept_for(user, ("dashboard", reads_ledger), compute)


def report_for(user: Actor, report: tuple[Hashable, ...], compute: Callable[[Viewer], T]) -> Figures[T]:
    """`compute(viewer)` for `user`, kept like the dashboard's figures under `report` (its name and
    every filter that changes it) and what the viewer may see."""
    return _kept_for(user, ("report", *report), compute)


def _kept_for(user: Actor, name: tuple[Hashable, ...], compute: Callable[[Viewer], T]) -> Figures[T]:
    viewer = Viewer(
        id=user.id,
        username=user.username,
        role=Role(user.role),
        scopes=tuple(ScopeView(s.country_code, s.mission) for s in user.scopes),
    )
    max_age = float(current_app.config["VAT_SUMMARY_SECONDS"])
    if max_age <= 0:
        return Figures(compute(viewer), utcnow())
    key = (*name, viewer.role, viewer.scopes, _grants(viewer), date.today())
    return _cached(
        key,
        lambda: compute(viewer),
        max_age=max_age,
        wait=float(current_app.config["VAT_SUMMARY_WAIT_SECONDS"]),
    )


def _grants(viewer: Viewer) -> tuple[int | tuple[str, int], ...]:
    """A senior advocate's open break-glass records widen their figures: part of the key."""
    if Role(viewer.role) is not Role.SENIOR_ADVOCATE:
        return ()
    rows = db.session.execute(
        select(BreakGlass.record_type, BreakGlass.record_id)
        .where(BreakGlass.user_id == viewer.id, BreakGlass.expires_at > utcnow())
        .order_by(BreakGlass.record_type, BreakGlass.record_id)
    ).all()
    return (viewer.id, *((kind, record) for kind, record in rows)) if rows else ()


def _cached(key: tuple[Any, ...], compute: Callable[[], T], *, max_age: float, wait: float) -> Figures[T]:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with _lock:
        entry = _entries.get(key)
        if entry and entry.figures.value is not None and _clock() - entry.computed < max_age:
            return entry.figures
        if entry is None:
            _forget_oldest()
            entry = _entries[key] = _Entry(Figures(None, None), computed=float("-inf"))
        if entry.worker is None or not entry.worker.is_alive():
            entry.worker = threading.Thread(target=_refresh, args=(app, key, compute), daemon=True)
            entry.worker.start()
        worker = entry.worker
    if entry.figures.value is None:
        worker.join(timeout=wait)
    with _lock:
        return _entries[key].figures if key in _entries else Figures(None, None)


def _refresh(app: Flask, key: tuple[Any, ...], compute: Callable[[], Any]) -> None:
    try:
        with app.app_context(), begin_mode(BeginMode.DEFERRED):  # a thread: not the request's mode
            figures = Figures(compute(), utcnow())
    except Exception:  # the last figures stay; the next request past their age tries again
        log.exception("figures could not be computed: %s", key[0])  # the report, not its filters
        return
    with _lock:
        if key in _entries:
            _entries[key].figures = figures
            _entries[key].computed = _clock()


def _forget_oldest() -> None:
    while len(_entries) >= MAX_KEYS:
        oldest = min(_entries, key=lambda k: _entries[k].computed)
        del _entries[oldest]


def clear() -> None:
    """Forget every kept figure (tests, and after a restore)."""
    with _lock:
        _entries.clear()
