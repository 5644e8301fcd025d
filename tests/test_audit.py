"""The audit log is append-only and its chain exposes any edit or removal."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json

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


def tamper(app, statement):
    """Bypass the application: drop the triggers the way someone with database rights could."""
    with app.app_context():
        for ddl in drop_append_only_ddl("audit_event", db.engine.dialect.name):
            db.session.execute(text(ddl))
        db.session.execute(text(statement))
        db.session.commit()


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
    tamper(app, "UPDATE audit_event SET detail = '{\"n\": 99}' WHERE id = 3")
    with app.app_context():
        assert audit.verify().problem.startswith("row 3:")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "row 3" in result.output


def test_verify_names_the_row_after_a_removed_one(app, runner):
    write_events(app)
    tamper(app, "DELETE FROM audit_event WHERE id = 3")
    with app.app_context():
        assert audit.verify().problem.startswith("row 4:")
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
    tamper(app, f"UPDATE audit_event SET detail = '{{\"n\": 1}}' WHERE id = {rows[3].id}")
    with app.app_context():
        assert audit.verify().problem.startswith(f"row {rows[3].id}:")


def test_events_built_before_the_lock_continue_the_chain_and_hash_as_always(app):
    """`unchained` then `append` (the importer's way) chains like `record`, and every hash is the
    HMAC of the JSON list of the row's fields it always was (chains written before still verify)."""
    write_events(app, count=2)
    with app.app_context():
        built = audit.unchained(
            None,
            [{"action": "test.built", "object_id": n, "detail": {"name": "Zoë", "n": n}} for n in (1, 2)],
        )
        audit.append(built)
        audit.record("test.event", actor=None, object_id="after")
        db.session.commit()
        rows = db.session.scalars(select(audit.AuditEvent).order_by(audit.AuditEvent.id)).all()
        assert [r.object_id for r in rows] == ["0", "1", "1", "2", "after"]
        assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(rows))
        assert audit.verify().problem is None and audit.verify().rows == 5
        key = app.config["VAT_MAC_KEY"].encode()
        for row in rows:
            fields = [row.prev_hash, row.at.isoformat(), str(row.actor_id), row.actor_name, row.action]
            fields += [str(row.object_type), str(row.object_id), str(row.country_code), str(row.address)]
            message = json.dumps([*fields, row.detail], ensure_ascii=False).encode()
            assert row.hash == hmac.new(key, message, hashlib.sha256).hexdigest()
