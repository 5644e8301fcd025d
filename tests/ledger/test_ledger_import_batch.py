"""The ledger's import writes its audit events as one batch, outside the audit chain's lock, and
commits the batch to the chain with one event once every row is booked (`vat.audit.batched`):
while it books, other audited writers go on (on PostgreSQL; SQLite has one writer at a time);
the chain verifies; a refused import commits no batch."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from ledger.services import ledger_import
from tests.conftest import BACKEND
from tests.ledger.test_ledger_import import HISTORY, csv_file, do_import, refused, with_nok
from vat import audit
from vat.audit import AuditEvent
from vat.auth.models import User
from vat.db import db


def events_after(event_id: int) -> list[AuditEvent]:
    return list(
        db.session.scalars(select(AuditEvent).where(AuditEvent.id > event_id).order_by(AuditEvent.id))
    )


def last_event_id() -> int:
    return db.session.scalar(select(func.max(AuditEvent.id))) or 0


def test_an_imports_events_are_one_batch_committed_to_the_chain_by_one_event(fund):
    with_nok(fund)
    before = last_event_id()
    do_import(fund, csv_file(*HISTORY))
    db.session.commit()
    written = events_after(before)
    batch = [e for e in written if e.batch is not None]
    chain = [e for e in written if e.batch is None]
    assert len({e.batch for e in batch}) == 1
    assert {"ledger.receipt", "ledger.withholding", "ledger.import"} <= {e.action for e in batch}
    assert [e.action for e in chain] == [audit.BATCH]
    assert json.loads(chain[0].detail) == {"rows": len(batch), "last_hash": batch[-1].hash}
    assert chain[0].object_id == batch[0].batch
    report = audit.verify()
    assert report.problem is None, report.problem


def test_a_refused_import_commits_no_batch(fund):
    before = last_event_id()
    assert refused(fund, csv_file("donor,,,NOR,,,,,,,,,", "pledge,2019-01-05,Nobody,,USD,100,,,,,,,"))
    assert [e.action for e in events_after(before) if e.batch is None] == []
    db.session.rollback()
    assert events_after(before) == []


@pytest.mark.skipif(BACKEND != "postgres", reason="SQLite has one writer at a time")
def test_an_audited_write_goes_on_while_an_import_books(app: Flask, fund):
    # The import stops before its last row, holding its transaction (and the ledger's lock);
    # another session records an event, which must not wait for it; then the import commits.
    with_nok(fund)
    db.session.commit()
    maker_id = fund.maker.id
    holding, recorded = threading.Event(), threading.Event()
    outcome: dict[str, Any] = {}

    def on_row(rows: int) -> None:
        if rows == len(HISTORY):
            holding.set()
            recorded.wait(timeout=30)

    def import_history() -> None:
        with app.app_context():
            checked = ledger_import.check_file("history.csv", csv_file(*HISTORY))
            ledger_import.import_ledger(
                actor=db.session.get_one(User, maker_id), checked=checked, on_row=on_row
            )
            db.session.commit()
            outcome["imported"] = True

    importer = threading.Thread(target=import_history)
    importer.start()
    assert holding.wait(timeout=30)
    with app.app_context():
        db.session.execute(text("SET LOCAL lock_timeout = '2s'"))
        audit.record("victim.view", actor=None, object_type="victim", object_id=1)
        db.session.commit()
    recorded.set()
    importer.join(timeout=60)
    assert outcome == {"imported": True}
    actions = [(e.action, e.batch is None) for e in events_after(0)]
    assert actions.index(("victim.view", True)) < actions.index((audit.BATCH, True))
    report = audit.verify()
    assert report.problem is None, report.problem
