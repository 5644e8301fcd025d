"""The trust fund's overview: the statement and the fund's position, what is withheld and not
yet transferred, the disbursements awaiting a second approval, the projects by status and the
latest entries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from ledger.models import Entry
from ledger.outflows import Outflow, OutflowStatus
from ledger.reports import project_figures, statements, withheld
from vat.db import db

LATEST_ENTRIES = 8


@dataclass(frozen=True)
class Overview:
    statement: statements.FundStatement
    withheld: dict[str, Decimal]  # per currency: withheld and not yet transferred
    pending: int  # outflows awaiting a second fund manager's approval
    recent: Sequence[Entry]  # the latest entries, newest first
    projects: dict[str, int]  # how many in each status, in the statuses' order
    behind: int  # projects behind schedule

    @property
    def position(self) -> dict[str, Decimal]:
        return self.statement.position


def fund_overview(today: date) -> Overview:
    pending = db.session.scalar(select(func.count(Outflow.id)).where(Outflow.status == OutflowStatus.PENDING))
    statement = statements.fund_statement()
    totals = withheld.outstanding_by_currency()
    recent = db.session.scalars(select(Entry).order_by(Entry.seq.desc()).limit(LATEST_ENTRIES)).all()
    projects, behind = project_figures.project_counts(today)
    return Overview(statement, totals, pending or 0, recent, projects, behind)
