"""Projects' figures: approved, disbursed, remaining, released, pending, and whether each is
behind schedule (a rule written in Python for one project and in SQL for the count)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select

from ledger import engine
from ledger.balances import summed
from ledger.engine import CASH, GRANTS_PAYABLE, EntryKind, from_minor
from ledger.models import (
    Account,
    Balance,
    Entry,
    Posting,
    Project,
    ProjectBeneficiary,
    ProjectStatus,
    Tranche,
)
from ledger.reports.amounts import effective_kind, exponents, postings
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


def project_counts(today: date | None = None) -> tuple[int, int]:
    """How many projects there are and how many are behind schedule (`behind_schedule`), in SQL."""
    today = today or date.today()
    behind = _behind_schedule_sql(today)
    count, late = db.session.execute(
        select(func.count(), func.coalesce(func.sum(case((behind, 1), else_=0)), 0)).select_from(Project)
    ).one()
    return count, int(late)


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


PROJECT_KEYS = (
    "title partner country focus status planned_start planned_end actual_start actual_end "
    "approved disbursed remaining victims_listed behind_schedule"
).split()


def project_portfolio(end: date, *, today: date | None = None) -> list[dict[str, Any]]:
    """Every project approved by `end`: approved, disbursed and remaining (US dollars, reversals
    netted against what they reverse), schedule, and the victims it lists (count only)."""
    today = today or date.today()

    def credited(condition: ColumnElement[bool]) -> ColumnElement[Any]:
        return -func.sum(case((condition, Posting.usd_minor), else_=0))

    money = (
        postings(
            Posting.project_id.label("project_id"),
            credited(
                and_(Account.code == GRANTS_PAYABLE, effective_kind() == EntryKind.GRANT_APPROVAL)
            ).label("approved"),
            credited(and_(Account.code == CASH, effective_kind() == EntryKind.DISBURSEMENT)).label(
                "disbursed"
            ),
            credited(Account.code == GRANTS_PAYABLE).label("remaining"),
        )
        .where(Posting.project_id.is_not(None), Entry.entry_date <= end)
        .group_by(Posting.project_id)
        .subquery("money")
    )
    listed = (
        select(ProjectBeneficiary.project_id, func.count().label("listed"))
        .group_by(ProjectBeneficiary.project_id)
        .subquery("listed")
    )
    late = _behind_schedule_sql(today)
    result = db.session.execute(
        select(
            Project.title,
            Project.partner,
            Project.country_code,
            Project.focus,
            Project.status,
            Project.planned_start,
            Project.planned_end,
            Project.actual_start,
            Project.actual_end,
            func.coalesce(money.c.approved, 0),
            func.coalesce(money.c.disbursed, 0),
            func.coalesce(money.c.remaining, 0),
            func.coalesce(listed.c.listed, 0),
            case((late, 1), else_=0),
        )
        .outerjoin(money, money.c.project_id == Project.id)
        .outerjoin(listed, listed.c.project_id == Project.id)
        .where(Project.approved_on <= end)
        .order_by(Project.approved_on, Project.id)
    ).all()
    projects = []
    for row in result:
        item = dict(zip(PROJECT_KEYS, row, strict=True))
        for name in ("approved", "disbursed", "remaining"):
            item[name] = engine.cents(item[name])
        item["behind_schedule"] = bool(item["behind_schedule"])
        projects.append(item)
    return projects
