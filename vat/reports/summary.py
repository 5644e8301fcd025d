"""The few figures that matter to each role: the reports landing page and the dashboards.
Every viewer entitled to the same victims sees the same counts; those outside the advocates'
scope see small ones suppressed (docs/reports-privacy.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ledger.reports.statements import FundFlows, fund_flows
from vat.auth.actor import Actor
from vat.reports.claims import waiting_total
from vat.reports.clock import overdue_steps
from vat.reports.member_states import overdue_cycle_steps
from vat.reports.needs import UNMET_COLUMN, needs_table, unmet_by_type
from vat.reports.scope import VictimFilters, sees_rows, threshold
from vat.reports.support import Headline, headline
from vat.reports.suppression import suppress_line


@dataclass(frozen=True)
class Summary:
    """The figures on the reports landing page (and for a role's dashboard)."""

    headline: Headline
    aggregate: bool
    overdue_steps: int | None  # allegation steps past their limit and not done (None: suppressed)
    waiting_on_member_states: int | None  # open claims with a letter unanswered
    fund_balance: Decimal | None  # today, for those who read the ledger
    fund: FundFlows | None  # this year to date, for those who read the ledger
    unmet_needs: int | None = 0  # victims' needs assessed unmet (None: suppressed)
    unmet_by_type: tuple[tuple[str, int | None], ...] = ()  # as the per-victim report shows them
    overdue_cycle_steps: int | None = 0  # accountability steps past their limit (None: suppressed)


def summary(user: Actor, *, reads_ledger: bool, today: date | None = None) -> Summary:
    today = today or date.today()
    aggregate = not sees_rows(user)
    figures = headline(user, VictimFilters(), money=False)
    if aggregate:
        figures = _small_counts_hidden(figures, threshold())
    # The ledger's own figures, read from its balances: the statement's flows this year, whose
    # closing balance is the fund balance today (no pledges nor positions: they are not shown).
    fund = fund_flows(date(today.year, 1, 1), today) if reads_ledger else None
    balance = fund.closing_balance if fund is not None else None
    needs = needs_table(user, VictimFilters())  # suppressed as on the report, so the two agree
    return Summary(
        headline=figures,
        aggregate=aggregate,
        overdue_steps=overdue_steps(user, today=today),
        waiting_on_member_states=waiting_total(user),
        fund_balance=balance,
        fund=fund,
        unmet_needs=needs.column_totals[UNMET_COLUMN],
        unmet_by_type=tuple((label, n) for label, n in unmet_by_type(needs) if n != 0),
        overdue_cycle_steps=overdue_cycle_steps(user, today=today),
    )


def _small_counts_hidden(figures: Headline, below: int) -> Headline:
    """The headline with counts from 1 to `below` − 1 hidden, and a complement with them so that
    neither part of the total can be worked out from the other."""
    victims = figures.victims or 0
    if 0 < victims < below:
        return Headline(None, None, None, None)
    supported, not_supported = suppress_line(
        [figures.supported or 0, figures.not_supported or 0], threshold=below
    )
    share = figures.not_supported_share if not_supported is not None else None
    return Headline(victims, supported, not_supported, share)
