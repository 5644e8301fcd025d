"""The few figures that matter to each role: the reports landing page and the dashboards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from vat.auth.actor import Actor
from vat.reports.claims import claims_report
from vat.reports.clock import CLOCK_STATES, clock_report
from vat.reports.fund import FundStatement, fund_statement
from vat.reports.scope import VictimFilters, sees_rows, threshold
from vat.reports.support import Headline, aggregate_support, headline


@dataclass(frozen=True)
class Summary:
    """The figures on the reports landing page (and for a role's dashboard)."""

    headline: Headline
    aggregate: bool
    overdue_steps: int | None  # allegation steps past their limit and not done (None: suppressed)
    waiting_on_member_states: int | None  # open claims with a letter unanswered
    fund: FundStatement | None  # this year to date, for those who read the ledger


def summary(user: Actor, *, reads_ledger: bool, today: date | None = None) -> Summary:
    today = today or date.today()
    aggregate = not sees_rows(user)
    figures = (
        aggregate_support(user, VictimFilters()).headline
        if aggregate
        else headline(user, VictimFilters(), money=False)
    )
    clock = clock_report(user, VictimFilters(), today=today)
    overdue_at = [k for k, _ in CLOCK_STATES].index("overdue")
    overdue = [row.counts[overdue_at] for row in clock.rows]
    waiting = [line.waiting for line in claims_report(user, VictimFilters(), today=today).waiting]
    fund = None
    if reads_ledger:
        fund = fund_statement(
            date(today.year, 1, 1), today, today=today, small_counts_below=threshold() if aggregate else 1
        )
    return Summary(
        headline=figures,
        aggregate=aggregate,
        overdue_steps=None if any(n is None for n in overdue) else sum(n for n in overdue if n is not None),
        waiting_on_member_states=None if any(n is None for n in waiting) else sum(n for n in waiting if n),
        fund=fund,
    )
