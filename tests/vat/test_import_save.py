"""The import's save: what it writes before the audit chain's lock and what under it, with records
already kept and new ones mixed, leaves every kept count, summary and the chain exact; and (on
PostgreSQL) another writer records an audited change while the save prepares, not after it."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import pytest
from flask import Flask
from sqlalchemy import Table, insert, select, text
from sqlalchemy import event as sql_event

from tests.conftest import BACKEND
from tests.vat.big_import import ALLEGATION_COLUMNS, ASSISTANCE_COLUMNS, VICTIM_COLUMNS
from tests.vat.conftest import assist, register
from tests.vat.test_import import workbook
from vat import audit
from vat.allegations import clock_counts
from vat.audit import AuditEvent
from vat.auth.models import Role, User
from vat.db import db, driver_rows
from vat.victims import consents, import_rows, importer, service_tally, support_counts, support_summary
from vat.victims.models import Assistance, Consent, Victim, VictimTask


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


def imported(actor: User, sheets: Any, *, built_before: bool = False) -> None:
    """Imported in the caller's transaction, or (`built_before`) as the job saves: its rows built
    in a reading transaction first, then saved in one of their own."""
    if not built_before:
        report = importer.import_file(actor=actor, filename="old.xlsx", stream=workbook(sheets))
        assert report.ok, report.errors
        db.session.commit()
        return
    read = importer.read_file("old.xlsx", workbook(sheets), None)
    report, plan = importer.check_sheets(actor=actor, sheets=read)
    assert report.ok, report.errors
    db.session.rollback()
    import_rows.ready(actor, plan)
    assert plan.built is not None
    db.session.rollback()
    importer.save(actor=actor, report=report, plan=plan)
    db.session.commit()


@pytest.mark.parametrize("built_before", [False, True], ids=["built-in-the-save", "built-before"])
def test_new_and_kept_records_mixed_keep_every_count_and_the_chain(
    ctx: Flask, actor: User, today: date, built_before: bool
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
        built_before=built_before,
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
    """Everything the save writes before it takes the chain's lock (its new victims, their
    summaries, its audit events as a batch) lets another connection append to the audit chain and
    commit, within a short lock_timeout: the other event lands between the batch's rows and the
    event that commits the batch, and the chain verifies."""
    user = make_user(Role.ADVOCATE, "CAF")
    outcome: list[Any] = []
    insert_batch = audit.insert_batch

    def other_writer() -> None:
        try:
            with app.test_request_context():
                db.session.execute(text("SET LOCAL lock_timeout = '3s'"))
                audit.record("test.other_writer", actor=None)
                db.session.commit()
                outcome.append("saved")
        except BaseException as error:  # reported to the test
            outcome.append(error)

    def other_writer_next(*args: Any, **kwargs: Any) -> Any:
        batch = insert_batch(*args, **kwargs)
        if not outcome:
            writer = threading.Thread(target=other_writer)
            writer.start()
            writer.join(20)
        return batch

    monkeypatch.setattr(audit, "insert_batch", other_writer_next)
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
        assert (
            actions.index("victim.create") < actions.index("test.other_writer") < actions.index(audit.BATCH)
        )
        assert audit.verify(anchored=False).problem is None


def test_ids_taken_by_another_writer_after_the_rows_were_built_are_left_to_it(
    ctx: Flask, actor: User, today: date
) -> None:
    """A victim registered, with a service, between the rows built and their save: the save
    builds them again (on SQLite the ids it took are no longer free), every row and event names
    its own record, every count stays exact."""
    sheets = sheets_of(
        today,
        victims=["CAR-2016-0300"],
        allegations=[],
        services=[("CAR-2016-0300", "in_progress")],
    )
    read = importer.read_file("new.xlsx", workbook(sheets), None)
    report, plan = importer.check_sheets(actor=actor, sheets=read)
    db.session.rollback()
    import_rows.ready(actor, plan)
    db.session.rollback()
    other = register(actor, name="Other", case_code="CAR-2016-0301")
    assist(actor, other, "in_progress", on=today - timedelta(days=10))
    db.session.commit()
    importer.save(actor=actor, report=report, plan=plan)
    db.session.commit()

    imported_victim = db.session.scalars(select(Victim).where(Victim.case_code == "CAR-2016-0300")).one()
    assert imported_victim.id != other.id
    services = dict(db.session.execute(select(Assistance.id, Assistance.victim_id)).all())
    assert sorted(services.values()) == sorted([other.id, imported_victim.id])
    created = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "victim.assistance_create"))
    for event in created:
        victim_id = services[json.loads(event.detail)["assistance"]]
        assert event.object_id == ("CAR-2016-0300" if victim_id == imported_victim.id else "CAR-2016-0301")
    assert service_tally.differences() == []
    assert support_summary.differences() == []
    assert support_counts.differences() == []
    assert audit.verify(anchored=False).problem is None


def test_rows_built_for_the_driver_are_what_an_insert_of_them_sends(ctx: Flask, actor: User) -> None:
    """`driver_rows` converts each value as SQLAlchemy's own INSERT of the same rows (ids given, as
    the importer gives them) does: dates, times, booleans, on either backend, in the same statement."""
    victim = register(actor, name="Sent", case_code="CAR-2016-0400", consents=[])
    db.session.commit()
    at = datetime.now(UTC)
    rows = [
        consents.consent_columns(
            actor=actor,
            purpose=purpose,
            given_on=date(2026, 1, 2),
            method="verbal",
            version="v",
            recipient=None,
        )
        | {"id": 900 + n, "victim_id": victim.id, "superseded": superseded, "withdrawn_on": withdrawn}
        | {"created_at": at}
        for n, (purpose, superseded, withdrawn) in enumerate(
            (("services", False, None), ("contact", True, date(2026, 2, 3)))
        )
    ]
    table = cast(Table, Consent.__table__)
    sent: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        sent.append((statement, [tuple(p) if isinstance(p, tuple | list) else p for p in parameters]))

    sql_event.listen(db.engine, "before_cursor_execute", capture)
    try:
        db.session.execute(insert(table), rows)
    finally:
        sql_event.remove(db.engine, "before_cursor_execute", capture)
    built = driver_rows(table, rows)
    assert built is not None and [(built.sql, built.values)] == [s for s in sent if s[0].startswith("INSERT")]
    db.session.rollback()
