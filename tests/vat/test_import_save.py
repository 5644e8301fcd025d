"""The import's save: what it writes before the audit chain's lock and what under it, with records
already kept and new ones mixed, leaves every kept count, summary and the chain exact; and (on
PostgreSQL) another writer records an audited change while the save prepares, not after it."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, text

from tests.conftest import BACKEND
from tests.vat.big_import import ALLEGATION_COLUMNS, ASSISTANCE_COLUMNS, VICTIM_COLUMNS
from tests.vat.conftest import register
from tests.vat.test_import import workbook
from vat import audit
from vat.allegations import clock_counts
from vat.audit import AuditEvent
from vat.auth.models import Role, User
from vat.db import db
from vat.victims import importer, service_tally, support_counts, support_summary
from vat.victims.models import Assistance, Victim, VictimTask


def sheets_of(today: date, *, victims: list[str], allegations: list[tuple[str, str]], **rest: Any) -> Any:
    past, later = (today - timedelta(days=60)).isoformat(), (today - timedelta(days=50)).isoformat()
    return {
        "victims": [
            [*VICTIM_COLUMNS],
            *[
                [code, "CAF", "MINUSCA", "female", "adult", "Name", "services;contact", past]
                for code in victims
            ],
        ],
        "allegations": [
            [*ALLEGATION_COLUMNS],
            *[[ref, "CAF", "MINUSCA", "military_contingent", "abuse", past, o] for ref, o in allegations],
        ],
        "links": [["case_code", "reference"], *[list(link) for link in rest.get("links", [])]],
        "assistance": [
            [*ASSISTANCE_COLUMNS, "currency"],
            *[
                [code, "medical", "", past, later, status, 10, "USD"]
                for code, status in rest.get("services", [])
            ],
        ],
    }


def imported(actor: User, sheets: Any) -> None:
    report = importer.import_file(actor=actor, filename="old.xlsx", stream=workbook(sheets))
    assert report.ok, report.errors
    db.session.commit()


def test_new_and_kept_records_mixed_keep_every_count_and_the_chain(
    ctx: Flask, actor: User, today: date
) -> None:
    kept = register(actor, name="Kept", case_code="CAR-2016-0100")
    db.session.commit()
    imported(actor, sheets_of(today, victims=[], allegations=[("0500/15", "substantiated")]))
    imported(
        actor,
        sheets_of(
            today,
            victims=["CAR-2016-0101"],
            allegations=[("0501/15", "pending")],
            links=[
                ("CAR-2016-0100", "0500/15"),  # both kept: a task to tell the outcome
                ("CAR-2016-0100", "0501/15"),
                ("CAR-2016-0101", "0500/15"),  # a new victim, a kept allegation: a task
                ("CAR-2016-0101", "0501/15"),
            ],
            services=[("CAR-2016-0100", "in_progress"), ("CAR-2016-0101", "in_progress")],
        ),
    )
    assert service_tally.differences() == []
    assert support_summary.differences() == []
    assert support_counts.differences() == []
    assert clock_counts.differences() == []
    assert audit.verify(anchored=False).problem is None
    new = db.session.scalar(select(Victim).where(Victim.case_code == "CAR-2016-0101"))
    assert new is not None and support_summary.supported(new.id) and support_summary.supported(kept.id)
    # Every imported service and task is named by its id in an event about its own victim.
    owners = {
        "assistance": dict(db.session.execute(select(Assistance.id, Assistance.victim_id)).all()),
        "task": dict(db.session.execute(select(VictimTask.id, VictimTask.victim_id)).all()),
    }
    codes = {kept.id: "CAR-2016-0100", new.id: "CAR-2016-0101"}
    named = {"assistance": [], "task": []}
    for action, key in (("victim.assistance_create", "assistance"), ("victim.task_open", "task")):
        for event in db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)):
            row_id = json.loads(event.detail)[key]
            assert codes[owners[key][row_id]] == event.object_id
            named[key].append(row_id)
    assert sorted(named["assistance"]) == sorted(owners["assistance"])
    assert len(owners["task"]) == 2 and sorted(named["task"]) == sorted(owners["task"])


@pytest.mark.skipif(BACKEND != "postgres", reason="SQLite's one writer holds its lock for the whole save")
def test_another_writer_records_an_audited_change_while_the_save_prepares(
    app: Flask, make_user: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, today: date
) -> None:
    """The save's first count of its services (the new victims', before it takes the chain's lock)
    lets another connection append to the audit chain and commit, within a short lock_timeout."""
    user = make_user(Role.ADVOCATE, "CAF")
    outcome: list[Any] = []
    counted = service_tally.counted

    def other_writer() -> None:
        try:
            with app.test_request_context():
                db.session.execute(text("SET LOCAL lock_timeout = '3s'"))
                audit.record("test.other_writer", actor=None)
                db.session.commit()
                outcome.append("saved")
        except BaseException as error:  # reported to the test
            outcome.append(error)

    def first_count(**kwargs: Any) -> Any:
        if not outcome:
            writer = threading.Thread(target=other_writer)
            writer.start()
            writer.join(20)
        return counted(**kwargs)

    monkeypatch.setattr(service_tally, "counted", first_count)
    with app.test_request_context():
        actor = db.session.get_one(User, user.id)
        sheets = sheets_of(
            today,
            victims=["CAR-2016-0200"],
            allegations=[],
            services=[("CAR-2016-0200", "in_progress")],
        )
        imported(actor, sheets)
        assert outcome == ["saved"]
        actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert actions.index("test.other_writer") < actions.index("victim.create")
        assert audit.verify(anchored=False).problem is None
