"""The fund report: the ledger's fund statement for a period (ledger.reports.statements owns
every figure of it) with the project portfolio as at its end, small counts of victims hidden."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from ledger.models import ProjectReport
from ledger.reports import statements
from ledger.reports.project_figures import (
    PROJECT_KEYS,
    individual_share,
    portfolio_page,
)
from ledger.services import partner_reports

__all__ = ["PROJECT_KEYS", "FundStatement", "fund_statement"]


@dataclass
class FundStatement(statements.FundStatement):
    """The ledger's statement and the project portfolio as at its end, with the share of the
    projects' disbursements paid to named victims (None while a project's figures are hidden)."""

    projects: list[dict[str, Any]] = field(default_factory=list)  # every project, or one page
    project_count: int = 0  # every project's
    individual: tuple[Decimal, Decimal, Decimal | None] | None = None  # paid to victims, disbursed, %
    # What partners reported reaching named victims (individual needs), disbursed, % (the rest:
    # outreach, services to groups, running costs); None while a project's figures are hidden.
    reported: tuple[Decimal, Decimal, Decimal | None] | None = None
    # The partner reports due in the period or still awaited at its end, with their periods.
    reports: list[ProjectReport] = field(default_factory=list)


def fund_statement(
    start: date,
    end: date,
    *,
    today: date | None = None,
    small_counts_below: int = 1,
    page: tuple[int, int] | None = None,
) -> FundStatement:
    """The ledger's statement for [start, end] and the project portfolio as at `end` (every
    project, or the (offset, limit) `page` of them; `project_count` counts every one). A
    project's count of victims paid from 1 to `small_counts_below` − 1 is hidden (None), with
    what they were paid and its share."""
    offset, limit = page or (0, None)
    projects, totals = portfolio_page(
        end, offset=offset, limit=limit, today=today or date.today(), few_below=small_counts_below
    )
    individual: tuple[Decimal, Decimal, Decimal | None] | None = (
        totals.paid_to_victims,
        totals.disbursed,
        individual_share(totals.paid_to_victims, totals.disbursed),
    )
    reported: tuple[Decimal, Decimal, Decimal | None] | None = (
        totals.reported_to_victims,
        totals.disbursed,
        individual_share(totals.reported_to_victims, totals.disbursed),
    )
    if totals.few_paid:  # the total less the rows shown would give the hidden ones away
        individual = None
    if totals.few_reported:
        reported = None
    for project in projects:
        if 0 < project["victims_paid"] < small_counts_below:  # a few victims' money is theirs alone
            project["victims_paid"] = project["paid_to_victims"] = project["individual_share"] = None
        if 0 < project["victims_reported"] < small_counts_below:
            project["victims_reported"] = project["reported_to_victims"] = project["reported_share"] = None
    statement = statements.fund_statement(start, end)
    return FundStatement(
        **vars(statement),
        projects=projects,
        project_count=totals.projects,
        individual=individual,
        reported=reported,
        reports=partner_reports.reports_in(start, end),
    )
