"""What a transaction has learnt under its locks (`vat.db.transaction_memo`) across savepoints: a
savepoint starts from a copy of its transaction's memo; released, its memo becomes the
transaction's; rolled back, the transaction's stays as it was; the transaction's end forgets all."""

from __future__ import annotations

from sqlalchemy import text

from vat.db import MEMOS, db, transaction_memo


def test_a_released_savepoint_hands_its_memo_to_its_transaction(ctx):
    db.session.execute(text("SELECT 1"))
    transaction_memo()["locks"] = {"ledger"}
    with db.session.begin_nested():
        inside = transaction_memo()
        assert inside == {"locks": {"ledger"}}
        inside["locks"].add("audit_event")
        inside["head"] = "after"
    assert transaction_memo() == {"locks": {"ledger", "audit_event"}, "head": "after"}


def test_a_savepoint_rolled_back_leaves_its_transactions_memo_as_it_was(ctx):
    db.session.execute(text("SELECT 1"))
    transaction_memo()["locks"] = {"ledger"}
    savepoint = db.session.begin_nested()
    transaction_memo()["locks"].add("audit_event")
    transaction_memo()["head"] = "lost"
    with db.session.begin_nested():  # released into the savepoint, then rolled back with it
        transaction_memo()["deeper"] = True
    assert transaction_memo()["deeper"] is True
    savepoint.rollback()
    assert transaction_memo() == {"locks": {"ledger"}}


def test_a_savepoint_inside_one_that_never_asked_starts_from_its_transactions_memo(ctx):
    db.session.execute(text("SELECT 1"))
    transaction_memo()["locks"] = {"ledger"}
    with db.session.begin_nested(), db.session.begin_nested():
        assert transaction_memo() == {"locks": {"ledger"}}
        transaction_memo()["head"] = "deeper"
    assert transaction_memo() == {"locks": {"ledger"}, "head": "deeper"}


def test_the_transactions_end_forgets_every_memo(ctx):
    db.session.execute(text("SELECT 1"))
    transaction_memo()["head"] = "known"
    with db.session.begin_nested():
        transaction_memo()["inside"] = True
    db.session.commit()
    assert MEMOS not in db.session().info
    db.session.execute(text("SELECT 1"))
    assert transaction_memo() == {}
    db.session.rollback()
