"""The support summary replaced for many victims at once (`refresh_many`: the importer, partners'
lines) while a service refreshes one of the same victims (`refresh`), with real threads: whichever
comes first, the other waits for it and then counts its change, so the victim keeps one exact row
and the counts by place stay exact (on SQLite the write lock makes them take turns)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text

from tests.conftest import BACKEND
from tests.vat.conftest import assist, register
from vat.auth.models import Role, User
from vat.db import db
from vat.victims import support_counts, support_summary
from vat.victims.models import Assistance, SupportSummary, Victim


def waiting_on_a_lock(app: Flask, wanted: int = 1) -> None:
    """Return once `wanted` other transactions wait for a row lock (PostgreSQL), or after a moment
    (SQLite: the other has not begun; it waits for the write lock, in `busy_timeout`)."""
    if BACKEND != "postgres":
        time.sleep(0.5)
        return
    deadline = time.monotonic() + 10
    with app.app_context():
        while time.monotonic() < deadline:
            waiting = db.session.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock'"
                )
            )
            db.session.rollback()
            if waiting >= wanted:
                return
            time.sleep(0.05)
    raise AssertionError("the other transaction never waited for the lock")


def a_service(actor: User, victim: Victim, how: str) -> None:
    """A service in progress for the victim, recorded by the service (which also locks the victim
    to recount the service tally) or, `bare`, added and the summary refreshed (`refresh` alone)."""
    if how == "service":
        assist(actor, victim, status="in_progress", on=victim.registered_on)
        return
    db.session.add(Assistance(victim_id=victim.id, service_type="medical", status="in_progress"))
    db.session.flush()
    support_summary.refresh(victim.id)


def run_both(app: Flask, user_id: int, victim_id: int, *, first: str, how: str) -> list[BaseException]:
    """`first` ("many" or "one") changes the victim's summary and holds its transaction until the
    other is waiting for it; the other is a service recorded in progress (`refresh`) or the
    summary replaced (`refresh_many`)."""
    holding, go = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def many() -> None:
        try:
            with app.test_request_context():
                if first == "many":
                    support_summary.refresh_many([victim_id])
                    holding.set()
                    go.wait(20)
                else:
                    holding.wait(20)
                    support_summary.refresh_many([victim_id])
                db.session.commit()
        except BaseException as error:  # reported to the test
            errors.append(error)
            holding.set()

    def one() -> None:
        try:
            with app.test_request_context():
                actor = db.session.get_one(User, user_id)
                target = db.session.get_one(Victim, victim_id)
                db.session.commit()  # hold no transaction (nor SQLite's write lock) while waiting
                if first == "one":
                    a_service(actor, target, how)
                    holding.set()
                    go.wait(20)
                else:
                    holding.wait(20)
                    a_service(actor, target, how)
                db.session.commit()
        except BaseException as error:  # reported to the test
            errors.append(error)
            holding.set()

    threads = [threading.Thread(target=many), threading.Thread(target=one)]
    for thread in threads:
        thread.start()
    assert holding.wait(20)
    waiting_on_a_lock(app)
    go.set()
    for thread in threads:
        thread.join(30)
    return errors


@pytest.mark.parametrize("how", ["service", "bare"])
@pytest.mark.parametrize("first", ["many", "one"])
def test_refresh_many_and_refresh_of_one_victim_at_once_keep_one_exact_row(
    app: Flask, make_user: Callable[..., Any], first: str, how: str
) -> None:
    user = make_user(Role.ADVOCATE, "CAF")
    with app.test_request_context():
        actor = db.session.get_one(User, user.id)
        victim_id = register(actor, name="Race").id
        db.session.commit()
    errors = run_both(app, user.id, victim_id, first=first, how=how)
    assert errors == []
    with app.test_request_context():
        rows = db.session.scalars(
            text("SELECT status_in_progress FROM vat_victim_support_summary WHERE victim_id = :v"),
            {"v": victim_id},
        ).all()
        assert rows == [1]
        assert db.session.get_one(SupportSummary, victim_id).supported
        assert support_summary.differences() == []
        assert support_counts.differences() == []
