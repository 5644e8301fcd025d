"""Chain heads anchored outside the database (issue 15, item 6): deleting the newest ledger
entries or audit events, triggers dropped first as someone with database rights could, is found
by both verifiers once the heads are anchored; a tampered anchor line is itself reported."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select, text

from ledger.engine import CASH, CONTRIBUTIONS, Line
from ledger.models import Entry
from ledger.services import months
from ledger.verify import verify
from tests.ledger.conftest import post_receipt
from vat import anchors, audit
from vat.audit import AuditEvent
from vat.db import append_only_ddl, db, drop_append_only_ddl


def _book(*amounts: str) -> None:
    """Entries of the engine's alone (no sub-ledger row refers to them)."""
    for amount in amounts:
        post_receipt([Line(CASH, "USD", Decimal(amount)), Line(CONTRIBUTIONS, "USD", -Decimal(amount))])
    db.session.commit()


def _delete_newest(table: str, order: str) -> None:
    """Drop the table's append-only triggers, delete its newest row, put the triggers back."""
    dialect = db.session.get_bind().dialect.name
    for ddl in drop_append_only_ddl(table, dialect):
        db.session.execute(text(ddl))
    newest = db.session.scalar(text(f"SELECT max({order}) FROM {table}"))  # noqa: S608 - our names
    if table == "ledger_entry":
        db.session.execute(text("DELETE FROM ledger_balance"))  # not what this test is about
        for ddl in drop_append_only_ddl("ledger_posting", dialect):
            db.session.execute(text(ddl))
        db.session.execute(
            text("DELETE FROM ledger_posting WHERE entry_id = (SELECT id FROM ledger_entry WHERE seq = :n)"),
            {"n": newest},
        )
        for ddl in append_only_ddl("ledger_posting", dialect):
            db.session.execute(text(ddl))
    db.session.execute(text(f"DELETE FROM {table} WHERE {order} = :n"), {"n": newest})  # noqa: S608
    for ddl in append_only_ddl(table, dialect):
        db.session.execute(text(ddl))
    db.session.commit()


def test_without_an_anchor_a_cut_tail_still_verifies_so_anchors_are_needed(fund):
    _book("100", "200", "300")
    _delete_newest("ledger_entry", "seq")
    assert verify().problem is None
    assert audit.verify().problem is None


def test_flask_anchor_then_a_deleted_newest_entry_is_found(fund, runner):
    _book("100", "200", "300")
    result = runner.invoke(args=["anchor"])
    assert result.exit_code == 0, result.output
    line = json.loads(anchors.path().read_text().splitlines()[-1])
    assert line["heads"]["ledger"]["seq"] == 3 and line["reason"] == "flask anchor"
    assert verify().problem is None
    _delete_newest("ledger_entry", "seq")
    problem = verify().problem
    assert problem is not None and "ledger row seq 3" in problem and "missing" in problem
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code == 1 and "missing" in result.output


def test_flask_anchor_then_a_deleted_newest_audit_event_is_found(fund, runner):
    fund.contribute("100")
    db.session.commit()
    assert runner.invoke(args=["anchor"]).exit_code == 0
    newest = db.session.scalar(select(func.max(AuditEvent.id)))
    _delete_newest("audit_event", "id")
    problem = audit.verify().problem
    assert problem is not None and f"audit row id {newest}" in problem
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1


def test_rows_added_after_the_anchor_are_fine(fund, runner):
    fund.contribute("100")
    db.session.commit()
    assert runner.invoke(args=["anchor"]).exit_code == 0
    fund.contribute("200")
    db.session.commit()
    assert verify().problem is None and audit.verify().problem is None


def test_an_altered_anchor_line_is_reported(fund, runner):
    fund.contribute("100")
    db.session.commit()
    assert runner.invoke(args=["anchor"]).exit_code == 0
    path = anchors.path()
    line = json.loads(path.read_text())
    line["heads"]["ledger"]["seq"] = 0  # an attempt to hide a cut tail
    path.write_text(json.dumps(line) + "\n")
    problem = verify().problem
    assert problem is not None and "altered at line 1" in problem


def test_a_period_close_anchors_the_heads_and_the_pack_shows_them(fund):
    fund.contribute("100", on=date(2019, 1, 10))
    db.session.commit()
    period = months.close_period(actor=fund.maker, month=date(2019, 1, 1))
    assert not anchors.path().exists()  # written only once the close commits
    db.session.commit()
    pack = json.loads(period.close_pack)
    written = json.loads(anchors.path().read_text().splitlines()[-1])
    assert pack["anchor"] == written and written["reason"] == "close 2019-01"
    seq = db.session.scalar(select(func.max(Entry.seq)))
    assert written["heads"]["ledger"] == {"seq": seq, "hash": pack["chain_head"]["hash"]}


def test_a_close_rolled_back_anchors_nothing(fund):
    fund.contribute("100", on=date(2019, 1, 10))
    db.session.commit()
    months.close_period(actor=fund.maker, month=date(2019, 1, 1))
    db.session.rollback()
    fund.contribute("50", on=date(2019, 2, 10))
    db.session.commit()
    assert not anchors.path().exists()
