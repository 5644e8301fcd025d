"""A job's reading work runs in a thread the operating system schedules after the web servers'
(`vat.low_priority`), with the app's context, the caller's language and a session of its own; its
result and its exceptions come back to the job's thread, whose priority is left as it was."""

from __future__ import annotations

import os
import sys
import threading

import pytest
from flask import Flask
from flask_babel import force_locale, gettext
from sqlalchemy import select

from tests.conftest import make_app
from vat import low_priority
from vat.auth.models import User
from vat.db import db


def _niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")
def test_the_work_runs_below_the_callers_priority_and_the_caller_stays_where_it_was(app: Flask) -> None:
    before = _niceness()
    with app.app_context():
        seen = low_priority.run(lambda: (_niceness(), threading.get_native_id()))
    assert seen[0] == min(before + app.config["VAT_JOBS_NICENESS"], 19)
    assert seen[1] != threading.get_native_id()
    assert _niceness() == before


def test_a_niceness_of_zero_leaves_the_priority_alone(database_url: str) -> None:
    level = make_app(database_url, VAT_JOBS_NICENESS=0)
    with level.app_context():
        assert low_priority.run(_niceness) == _niceness()


def test_the_work_has_the_app_the_language_and_a_session_of_its_own(app: Flask, make_user) -> None:
    someone = make_user()
    with app.app_context(), force_locale("fr"):
        outer = db.session()
        language, names, other_session = low_priority.run(
            lambda: (
                gettext("Victims"),
                list(db.session.scalars(select(User.username))),
                db.session() is not outer,
            )
        )
    assert language == "Victimes"
    assert other_session
    assert someone.username in names


def test_an_exception_in_the_work_reaches_the_caller(app: Flask) -> None:
    def refuse() -> None:
        raise ValueError("refused in the thread")

    with app.app_context(), pytest.raises(ValueError, match="refused in the thread"):
        low_priority.run(refuse)
