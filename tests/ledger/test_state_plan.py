"""The booking's one read of the ledger finds each account's running balance from the index on
(account, id), however the postings are spread: at 100,000 victims PostgreSQL's planner, asked for
an account's last posting by ORDER BY id DESC LIMIT 1, walked the primary key backwards past every
other account's postings (344 ms a booking; docs/benchmarks-log.md, session 12)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import text

from ledger import engine, state
from ledger.engine import Line
from tests.conftest import BACKEND
from tests.ledger.conftest import post_receipt
from vat.db import db

pytestmark = pytest.mark.skipif(BACKEND != "postgres", reason="the plan of PostgreSQL's planner")


def test_the_running_balances_are_read_from_the_account_index_at_scale(fund):
    fund.contribute("10")
    # Postings as at scale: tens of thousands on most accounts, none on a few (the rounding
    # account, say), in this transaction only (rolled back, so the deferred balance checks never
    # run); the planner's statistics taken over them.
    db.session.execute(
        text(
            "INSERT INTO ledger_posting (entry_id, account_id, currency, amount_minor, rate, usd_minor,"
            " running_usd_minor) SELECT p.entry_id, a.id, p.currency, 0, p.rate, 0, a.id"
            " FROM ledger_posting AS p, ledger_account AS a, generate_series(1, 12000)"
            " WHERE p.id = (SELECT min(id) FROM ledger_posting)"
            " AND a.id <= (SELECT max(id) - 3 FROM ledger_account)"
        )
    )
    db.session.execute(text("ANALYZE ledger_posting"))
    statement = state._read(False, False).compile(db.engine, compile_kwargs={"literal_binds": True})
    plan = "\n".join(db.session.connection().exec_driver_sql(f"EXPLAIN ANALYZE {statement}").scalars())
    assert "ix_ledger_posting_account_id_id" in plan, plan
    assert "Rows Removed by Filter" not in plan, plan
    accounts = sorted(db.session.scalars(text("SELECT id FROM ledger_account")))
    balances = {account: engine.running_usd(account) for account in accounts}
    assert balances == {a: a if a <= accounts[-1] - 3 else 0 for a in accounts}  # each its own last
    db.session.rollback()
    post_receipt([Line(engine.CASH, "USD", Decimal(1)), Line(engine.CONTRIBUTIONS, "USD", Decimal(-1))])
