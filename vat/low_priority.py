"""A job's long reading work, run where it slows no one: in a thread the operating system
schedules after the web servers' (a higher nice value, VAT_JOBS_NICENESS), so that on a machine
whose cores the servers and the worker share, pages and bookings keep their pace while an import
checks its rows or an export writes its file.

Only the reading part goes there. A job's write transaction stays in the job's own thread, at the
servers' priority: a thread the scheduler keeps waiting while it holds a lock that writers wait
for (SQLite's one write lock, the audit chain's) would make them wait longer, not shorter. Linux
gives each thread its own nice value, which a thread may raise but not lower again; elsewhere the
work runs at the caller's priority."""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from flask import current_app
from flask_babel import force_locale, get_locale

from vat.db import db

T = TypeVar("T")
log = logging.getLogger(__name__)


def run(work: Callable[[], T]) -> T:
    """`work()`'s result (or its exception), computed in a thread of lower priority with the app's
    context and the caller's language. The thread has a session of its own: pass `work` ids and
    plain values, not objects of the caller's session, and take plain values back."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    niceness = app.config["VAT_JOBS_NICENESS"]
    locale = str(get_locale() or "en")

    def in_thread() -> T:
        _lower_priority(niceness)
        with app.app_context(), force_locale(locale):
            try:
                return work()
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="job-low-priority") as pool:
        return pool.submit(in_thread).result()


def _lower_priority(niceness: int) -> None:
    if niceness <= 0 or not sys.platform.startswith("linux"):
        return
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
    except OSError:  # a container that forbids it: the work runs, at the usual priority
        log.warning("could not lower a job thread's priority")
