"""The fund report: the ledger's fund statement for a period (ledger.reports.statements owns
every figure of it) with the project portfolio as at its end, small counts of victims hidden."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ledger.reports import statements
from ledger.reports.project_figures import PROJECT_KEYS, project_portfolio

__all__ = ["PROJECT_KEYS", "FundStatement", "fund_statement", "project_portfolio"]


@dataclass
class FundStatement(statements.FundStatement):
    """The ledger's statement and the project portfolio as at its end."""

    projects: list[dict[str, Any]] = field(default_factory=list)


def fund_statement(
    start: date, end: date, *, today: date | None = None, small_counts_below: int = 1
) -> FundStatement:
    """The ledger's statement for [start, end] and the project portfolio as at `end`. A project's
    count of victims paid from 1 to `small_counts_below` − 1 is hidden (None)."""
    projects = project_portfolio(end, today=today or date.today())
    for project in projects:
        if 0 < project["victims_paid"] < small_counts_below:
            project["victims_paid"] = None
    statement = statements.fund_statement(start, end)
    return FundStatement(**vars(statement), projects=projects)
