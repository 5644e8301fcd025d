"""The audit log is append-only and its chain exposes any edit or removal."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from dataclasses import dataclass

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from vat import audit
from vat.db import db, drop_append_only_ddl


def write_events(app, count=5):
    with app.app_context():
        for n in range(count):
            audit.record("test.event", actor=None, object_type="thing", object_id=n, detail={"n": n})
        db.session.commit()


def tamper(app, *statements):
    """Bypass the application: drop the triggers the way someone with database rights could, then
    run `statements`, each committed; what `audit.verify()` finds after each."""
    with app.app_context():
        for ddl in drop_append_only_ddl("audit_event", db.engine.dialect.name):
            db.session.execute(text(ddl))
        problems = []
        for statement in statements:
            db.session.execute(text(statement))
            db.session.commit()
            problems.append(audit.verify().problem)
        return problems


def test_chain_verifies_when_untouched(app):
    write_events(app)
    with app.app_context():
        report = audit.verify()
    assert report.problem is None and report.rows == 5


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_event SET action = 'x' WHERE id = 2", "DELETE FROM audit_event WHERE id = 2"]
)
def test_database_refuses_updates_and_deletes(app, statement):
    write_events(app)
    with app.app_context(), pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text(statement))
    with app.app_context():
        assert audit.verify().problem is None


def test_verify_names_an_edited_row(app, runner):
    write_events(app)
    [problem] = tamper(app, "UPDATE audit_event SET detail = '{\"n\": 99}' WHERE id = 3")
    assert problem.startswith("row 3:")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "row 3" in result.output


def test_verify_names_the_row_after_a_removed_one(app, runner):
    write_events(app)
    [problem] = tamper(app, "DELETE FROM audit_event WHERE id = 3")
    assert problem.startswith("row 4:")
    assert runner.invoke(args=["audit", "verify"]).exit_code == 1


def test_verify_command_succeeds_on_an_intact_log(app, runner):
    write_events(app)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "intact: 5 rows" in result.output


def test_events_recorded_together_continue_the_chain_in_order(app):
    write_events(app, count=2)
    with app.app_context():
        audit.record_many(
            actor=None,
            events=[
                {"action": "test.batch", "object_type": "thing", "object_id": n, "detail": {"n": n}}
                for n in (7, 8, 9)
            ],
        )
        audit.record("test.event", actor=None, object_id="after")
        db.session.commit()
        rows = db.session.scalars(select(audit.AuditEvent).order_by(audit.AuditEvent.id)).all()
        assert [r.object_id for r in rows] == ["0", "1", "7", "8", "9", "after"]
        assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(rows))
        assert audit.verify().problem is None and audit.verify().rows == 6
    [problem] = tamper(app, f"UPDATE audit_event SET detail = '{{\"n\": 1}}' WHERE id = {rows[3].id}")
    assert problem.startswith(f"row {rows[3].id}:")


@dataclass(frozen=True)
class Written:
    """The audit rows the `written` fixture wrote."""

    rows: list[audit.AuditEvent]  # every row, in order
    batch: list[audit.AuditEvent]  # the batch's rows
    commitment: audit.AuditEvent  # the event that commits the batch


@pytest.fixture
def written(app):
    """Two events, a batch of three committed to the chain, one event after."""
    write_events(app, count=2)
    with app.app_context():
        built = audit.unchained(
            None,
            [{"action": "test.built", "object_id": n, "detail": {"name": "Zoë", "n": n}} for n in (1, 2, 3)],
        )
        audit.commit_batch(audit.insert_batch(built), actor=None)
        audit.record("test.event", actor=None, object_id="after")
        db.session.commit()
        rows = db.session.scalars(select(audit.AuditEvent).order_by(audit.AuditEvent.id)).all()
    commitment = next(r for r in rows if r.action == audit.BATCH)
    return Written(list(rows), [r for r in rows if r.batch], commitment)


def message(row, *first):
    fields = [*first, row.prev_hash, row.at.isoformat(), str(row.actor_id), row.actor_name, row.action]
    fields += [str(row.object_type), str(row.object_id), str(row.country_code), str(row.address)]
    return json.dumps([*fields, row.detail], ensure_ascii=False).encode()


def test_a_batch_is_chained_on_its_own_and_committed_to_the_chain_by_one_event(app, written):
    """`unchained`, `insert_batch`, `commit_batch` (the importer's way): the batch's rows chained
    among themselves from GENESIS, the chain's rows each after the one before, the commitment
    naming the batch's rows and last hash; every hash the HMAC of the JSON list of the row's
    fields (after the batch's key for a batch's row), so chains written before still verify."""
    batch, chain = written.batch, [r for r in written.rows if not r.batch]
    assert [r.object_id for r in batch] == ["1", "2", "3"] and len({r.batch for r in batch}) == 1
    assert [r.action for r in chain] == ["test.event", "test.event", audit.BATCH, "test.event"]
    assert batch[0].prev_hash == audit.GENESIS
    assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(batch))
    assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(chain))
    commitment = chain[2]
    assert commitment.object_id == batch[0].batch
    assert json.loads(commitment.detail) == {"rows": 3, "last_hash": batch[-1].hash}
    with app.app_context():
        report = audit.verify()
        assert report.problem is None and report.rows == 7 and report.head == chain[-1].hash
    key = app.config["VAT_MAC_KEY"].encode()
    for row in chain:
        assert row.hash == hmac.new(key, message(row), hashlib.sha256).hexdigest()
    for row in batch:
        assert row.hash == hmac.new(key, message(row, row.batch), hashlib.sha256).hexdigest()


def test_verify_names_a_batch_row_edited_removed_or_moved_and_a_batch_removed(app, written):
    batch = written.batch
    problems = tamper(
        app,
        f"UPDATE audit_event SET detail = '{{\"n\": 9}}' WHERE id = {batch[1].id}",
        f"DELETE FROM audit_event WHERE id = {batch[1].id}",
        # The batch's tail gone: only the commitment can tell.
        f"DELETE FROM audit_event WHERE id = {batch[2].id}",
        f"DELETE FROM audit_event WHERE batch = '{batch[0].batch}'",
    )
    lost = f"row {written.commitment.id}: the batch it commits lost, gained or changed rows"
    assert problems == [
        f"row {batch[1].id}: its content was altered",
        f"row {batch[2].id}: a row before it was removed or altered",
        lost,
        lost,
    ]


def test_verify_names_a_batch_never_committed_and_a_commitment_removed(app, written):
    after = written.rows[-1]
    problems = tamper(
        app,
        f"DELETE FROM audit_event WHERE id = {written.commitment.id}",
        # The chain whole again, the batch committed by nothing.
        f"DELETE FROM audit_event WHERE id = {after.id}",
    )
    assert problems == [
        f"row {after.id}: a row before it was removed or altered",
        f"row {written.batch[0].id}: its batch was never committed",
    ]


def test_verify_names_a_row_added_to_a_batch_after_its_commitment(app, written):
    last = next(r for r in written.batch if r.object_id == "3")
    [problem] = tamper(
        app,
        "INSERT INTO audit_event (at, actor_name, action, detail, batch, prev_hash, hash)"
        f" SELECT at, actor_name, action, detail, batch, hash, '{'f' * 64}' FROM audit_event"
        f" WHERE id = {last.id}",
    )
    with app.app_context():
        added = db.session.scalar(select(audit.AuditEvent.id).order_by(audit.AuditEvent.id.desc()).limit(1))
    assert problem == f"row {added}: written to a batch after its commitment"
