"""The plausibility median read from an index (issue 19, item 10 at scale): each kind's count and
median in a currency are index ranges, with no sort of every amount (at 100,000 victims the sort
cost 124 ms CPU per submission: docs/benchmarks-log.md, issue 19). Transfers and tranches (their
currency is their withholding's and project's) are still sorted: not checked here."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from ledger.usual_amounts import (
    DIRECT_SUPPORT,
    PLEDGES,
    RECEIPTS,
    WITHHOLDINGS,
)
from tests.conftest import BACKEND
from vat.db import db
from vat.plausibility import Usual
from vat.victims.assistance import usual_costs


def plans(usual: Usual) -> list[str]:
    """SQLite's plans of the two statements `median_minor` sends."""
    recorded = usual.amounts("USD").subquery()
    (column,) = recorded.columns
    statements = [
        select(func.count()).select_from(recorded),
        select(column).order_by(column).offset(10).limit(1),
    ]
    found = []
    for statement in statements:
        compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
        rows = db.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
        found.append(" | ".join(row[-1] for row in rows))
    return found


@pytest.mark.skipif(BACKEND != "sqlite", reason="the plan of an empty PostgreSQL table is a scan")
@pytest.mark.parametrize(
    "usual",
    [PLEDGES, RECEIPTS, WITHHOLDINGS, DIRECT_SUPPORT, usual_costs("medical")],
    ids=lambda usual: usual.kind,
)
def test_each_kinds_median_is_read_from_an_index(ctx, usual):
    for plan in plans(usual):
        assert "COVERING INDEX" in plan and "TEMP B-TREE" not in plan, plan
