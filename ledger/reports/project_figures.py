"""Projects' figures: approved, disbursed, remaining, released, pending, and whether each is
behind schedule (a rule written in Python for one project and in SQL for the count)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Select, and_, case, cast, func, or_, select, true

from ledger import engine, project_balances
from ledger.balances import balances, summed
from ledger.engine import CASH, GRANT_EXPENSE, GRANTS_PAYABLE, PROGRAMME_SUPPORT, from_minor
from ledger.models import (
    Balance,
    Entry,
    Project,
    ProjectPayment,
    ProjectReport,
    ProjectReportLine,
    ProjectStatus,
    Tranche,
)
from ledger.reports.amounts import exponents
from ledger.services.booking import standing
from ledger.services.grants import pending_total, undisbursed
from vat.db import db


def behind_schedule(project: Project, today: date | None = None) -> bool:
    """Late to start, or past its planned end and not completed."""
    today = today or date.today()
    if project.status in (ProjectStatus.COMPLETED, ProjectStatus.CANCELLED):
        return False
    if project.actual_start is None and today > project.planned_start:
        return True
    return today > project.planned_end


def project_figures(project: Project, today: date | None = None) -> dict[str, Any]:
    approved = from_minor(project.approved_minor, project.currency)
    left = undisbursed(project)
    return {
        "approved": approved,
        "disbursed": disbursed_amount(project),
        "remaining": left,
        "released": from_minor(project.released_minor, project.currency),
        "pending": pending_total(project),
        "behind": behind_schedule(project, today),
    }


def projects_figures(projects: list[Project], today: date | None = None) -> list[dict[str, Any]]:
    """`project_figures` for many projects (a page of them), in a fixed number of queries that
    read those projects' postings and tranches only."""
    ids = [project.id for project in projects]
    payable = dict(
        db.session.execute(
            select(Balance.project_id, summed(Balance.amount_minor))
            .join(Project, Project.id == Balance.project_id)
            .where(
                Balance.detail.is_(True),
                Balance.project_id.in_(ids),
                Balance.account_id == engine.account_id(GRANTS_PAYABLE),
                Balance.currency == Project.currency,
            )
            .group_by(Balance.project_id)
        ).all()
    )
    tranches = (
        select(Tranche.project_id, func.sum(Tranche.amount_minor))
        .where(Tranche.project_id.in_(ids))
        .group_by(Tranche.project_id)
    )
    posted = dict(db.session.execute(standing(tranches.where(Tranche.status == "posted"), Tranche)).all())
    pending = dict(db.session.execute(tranches.where(Tranche.status == "pending")).all())
    places = exponents()  # one query, whatever currencies the page holds
    figures = []
    for project in projects:
        exponent = places[project.currency]
        figures.append(
            {
                "approved": Decimal(project.approved_minor).scaleb(-exponent),
                "disbursed": Decimal(posted.get(project.id) or 0).scaleb(-exponent),
                "remaining": -Decimal(payable.get(project.id) or 0).scaleb(-exponent),
                "released": Decimal(project.released_minor).scaleb(-exponent),
                "pending": Decimal(pending.get(project.id) or 0).scaleb(-exponent),
                "behind": behind_schedule(project, today),
            }
        )
    return figures


def project_counts(today: date | None = None) -> tuple[dict[str, int], int]:
    """How many projects there are in each status (in the statuses' order) and how many are
    behind schedule (`behind_schedule`), in one SQL query."""
    today = today or date.today()
    behind = _behind_schedule_sql(today)
    rows = db.session.execute(
        select(Project.status, func.count(), func.coalesce(func.sum(case((behind, 1), else_=0)), 0))
        .select_from(Project)
        .group_by(Project.status)
    ).all()
    counts = {status: count for status, count, _ in rows}
    return {s.value: counts[s.value] for s in ProjectStatus if counts.get(s.value)}, sum(
        int(r[2]) for r in rows
    )


def _behind_schedule_sql(today: date) -> ColumnElement[bool]:
    """`behind_schedule` in SQL."""
    return and_(
        Project.status.not_in((ProjectStatus.COMPLETED.value, ProjectStatus.CANCELLED.value)),
        or_(and_(Project.actual_start.is_(None), Project.planned_start < today), Project.planned_end < today),
    )


def disbursed_amount(project: Project) -> Decimal:
    minor = db.session.scalar(
        standing(
            select(func.coalesce(func.sum(Tranche.amount_minor), 0)).where(
                Tranche.project_id == project.id, Tranche.status == "posted"
            ),
            Tranche,
        )
    )
    return from_minor(minor or 0, project.currency)


_PORTFOLIO_COLUMNS = (
    "title partner country focus status planned_start planned_end actual_start actual_end "
    "approved disbursed remaining victims_paid paid_to_victims behind_schedule "
    "victims_reported reported_to_victims"
).split()
# The share of a project's disbursements paid to named victims with its tranches, and the share
# its partner's per-beneficiary reports say reached named victims (individual needs, OIOS §117);
# the rest went to outreach, services to groups and running costs.
PROJECT_KEYS = [*_PORTFOLIO_COLUMNS, "individual_share", "reported_share"]


def individual_share(paid: Decimal, disbursed: Decimal) -> Decimal | None:
    """Percent of `disbursed` paid to named victims, one decimal (None when nothing was disbursed)."""
    if disbursed <= 0:
        return None
    return (Decimal(100) * paid / disbursed).quantize(Decimal("0.1"))


# What the portfolio reads of the balances: the projects' index holds these (migration 1097).
PORTFOLIO_BALANCE = ("project_id", "account_id", "usd_minor", "usd_debit_minor")


def project_portfolio(end: date, *, today: date | None = None) -> list[dict[str, Any]]:
    """Every project approved by `end`: approved, disbursed and remaining (US dollars, reversals
    netted against what they reverse), schedule, and how many victims its tranches paid (count
    only)."""
    query = _portfolio(end, today or date.today()).order_by(Project.approved_on, Project.id)
    return [_project(row) for row in db.session.execute(query).all()]


@dataclass(frozen=True)
class PortfolioTotals:
    """The whole portfolio's count and sums (US dollars), and how many of its projects paid, or
    were reported reaching, from 1 to `few_below` − 1 victims."""

    projects: int
    disbursed: Decimal
    paid_to_victims: Decimal
    reported_to_victims: Decimal
    few_paid: int
    few_reported: int


def portfolio_page(
    end: date, *, offset: int, limit: int | None, today: date | None = None, few_below: int = 1
) -> tuple[list[dict[str, Any]], PortfolioTotals]:
    """`limit` (None: every one) of `project_portfolio(end)`'s rows from `offset`, in its order,
    and the whole portfolio's totals: one statement, the totals summed over every row before the
    LIMIT."""
    query = _portfolio(end, today or date.today(), few_below=few_below).order_by(
        Project.approved_on, Project.id
    )
    rows = db.session.execute(query.limit(limit).offset(offset)).all()
    if not rows:  # past the last page, or no project: no row to carry the totals
        return [], portfolio_totals(end, few_below=few_below)
    shown = len(_PORTFOLIO_COLUMNS)
    return [_project(row[:shown]) for row in rows], _totals(*rows[0][shown:])


def portfolio_totals(end: date, *, few_below: int = 1) -> PortfolioTotals:
    """`project_portfolio(end)`'s totals in one aggregate statement, without its rows."""
    rows = _portfolio(end, date.today()).subquery("portfolio")

    def few(victims: Any) -> ColumnElement[int]:
        return summed(case((and_(victims > 0, victims < few_below), 1), else_=0))

    return _totals(
        *db.session.execute(
            select(
                func.count(),
                summed(rows.c.disbursed),
                summed(rows.c.paid_to_victims),
                summed(rows.c.reported_to_victims),
                few(rows.c.victims_paid),
                few(rows.c.victims_reported),
            )
        ).one()
    )


def _project(row: Any) -> dict[str, Any]:
    item = dict(zip(_PORTFOLIO_COLUMNS, row, strict=True))
    for name in ("approved", "disbursed", "remaining", "paid_to_victims", "reported_to_victims"):
        item[name] = engine.cents(item[name])
    item["behind_schedule"] = bool(item["behind_schedule"])
    item["individual_share"] = individual_share(item["paid_to_victims"], item["disbursed"])
    item["reported_share"] = individual_share(item["reported_to_victims"], item["disbursed"])
    return item


def _totals(
    count: int, disbursed: int, paid: int, reported: int, few_paid: int, few_reported: int
) -> PortfolioTotals:
    # No project: a plain zero; some: the cents' exponent, as their rows' sum reads.
    money = engine.cents if count else Decimal
    return PortfolioTotals(
        count, money(disbursed), money(paid), money(reported), int(few_paid), int(few_reported)
    )


def _portfolio(end: date, today: date, *, few_below: int | None = None) -> Select[*tuple[Any, ...]]:
    """The portfolio's rows, unordered, one column per `_PORTFOLIO_COLUMNS` name (and with
    `few_below`, the whole portfolio's totals after them on every row). The money is
    read from the balances the engine keeps, one row per project and account: only an approval
    debits grant expense; the cash a project drew is its tranches and their programme support
    cost; grants payable is what remains. When nothing on a project is dated after `end`, each
    project's totals kept per account (ledger.project_balances) are those rows."""
    covered = project_balances.covers(end)
    if covered:  # nothing posted on a project after `end`: its totals are it
        kept = select(*(project_balances.totals.c[name] for name in PORTFOLIO_BALANCE)).subquery("balance")
    else:
        kept = balances(
            end=end, detail=True, projects_only=True, columns=PORTFOLIO_BALANCE, grouped=PORTFOLIO_BALANCE[:2]
        )
    c = kept.c

    def on(account: str, column: Any) -> ColumnElement[Any]:
        return summed(case((c.account_id == engine.account_id_read(account), column), else_=0))

    money = (
        select(
            c.project_id.label("project_id"),
            on(GRANT_EXPENSE, c.usd_debit_minor).label("approved"),
            (-on(CASH, c.usd_minor) - on(PROGRAMME_SUPPORT, c.usd_minor)).label("disbursed"),
            (-on(GRANTS_PAYABLE, c.usd_minor)).label("remaining"),
        )
        .where(c.project_id != 0)
        .group_by(c.project_id)
        .subquery("money")
    )
    # The day the project's approval was reversed, if it was: one probe of a unique index.
    withdrawn_on = (
        select(Entry.entry_date)
        .where(Entry.reverses_id == Project.entry_id)
        .correlate(Project)
        .scalar_subquery()
    )
    # A standing payment's entry is its tranche's disbursement, dated the day the tranche paid and
    # posted on the project: with nothing on a project after `end`, every one was paid by then.
    paid = standing(
        _reached(ProjectPayment, true())
        if covered
        else _reached(ProjectPayment, Tranche.paid_on <= end).join(
            Tranche, Tranche.id == ProjectPayment.tranche_id
        ),
        ProjectPayment,
    ).subquery("paid")
    reported = (
        _reached(ProjectReportLine, ProjectReport.received_on <= end)
        .join(ProjectReport, ProjectReport.id == ProjectReportLine.report_id)
        .subquery("reported")
    )
    late = _behind_schedule_sql(today)
    named = {
        "title": Project.title,
        "partner": Project.partner,
        "country": Project.country_code,
        "focus": Project.focus,
        "status": Project.status,
        "planned_start": Project.planned_start,
        "planned_end": Project.planned_end,
        "actual_start": Project.actual_start,
        "actual_end": Project.actual_end,
        "approved": case((withdrawn_on <= end, 0), else_=func.coalesce(money.c.approved, 0)),
        "disbursed": func.coalesce(money.c.disbursed, 0),
        "remaining": func.coalesce(money.c.remaining, 0),
        "victims_paid": func.coalesce(paid.c.victims, 0),
        "paid_to_victims": func.coalesce(paid.c.usd, 0),
        "behind_schedule": case((late, 1), else_=0),
        "victims_reported": func.coalesce(reported.c.victims, 0),
        "reported_to_victims": func.coalesce(reported.c.usd, 0),
    }
    columns: list[ColumnElement[Any]] = [named[name].label(name) for name in _PORTFOLIO_COLUMNS]
    if few_below is not None:  # window sums: computed over every row, before a LIMIT cuts a page

        def total(column: Any) -> ColumnElement[int]:
            return cast(func.coalesce(func.sum(column).over(), 0), BigInteger)

        def few(victims: Any) -> ColumnElement[int]:
            return total(case((and_(victims > 0, victims < few_below), 1), else_=0))

        columns += [
            func.count().over(),
            total(named["disbursed"]),
            total(named["paid_to_victims"]),
            total(named["reported_to_victims"]),
            few(named["victims_paid"]),
            few(named["victims_reported"]),
        ]
    return (
        select(*columns)
        .outerjoin(money, money.c.project_id == Project.id)
        .outerjoin(paid, paid.c.project_id == Project.id)
        .outerjoin(reported, reported.c.project_id == Project.id)
        .where(Project.approved_on <= end)
    )


def _reached(model: Any, dated: ColumnElement[bool]) -> Select[Any]:
    """Per project, the victims `model` (payments with tranches, or partners' report lines) names
    and the US cents it gives them, of its rows `dated` says count (join what `dated` reads)."""
    return (
        select(
            model.project_id,
            func.count(model.case_code.distinct()).label("victims"),
            func.sum(model.usd_minor).label("usd"),
        )
        .where(dated)
        .group_by(model.project_id)
    )


def project_countries() -> list[str]:
    """The countries projects are in: the list's country filter offers these."""
    return list(db.session.scalars(select(Project.country_code).distinct().order_by(Project.country_code)))
