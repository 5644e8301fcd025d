"""Projects' figures: approved, disbursed, remaining, released, pending, and whether each is
behind schedule (a rule written in Python for one project and in SQL for the count)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, or_, select

from ledger import engine
from ledger.engine import GRANTS_PAYABLE, from_minor
from ledger.models import Posting, Project, ProjectStatus, Tranche
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
            select(Posting.project_id, func.sum(Posting.amount_minor))
            .join(Project, Project.id == Posting.project_id)
            .where(
                Posting.project_id.in_(ids),
                Posting.account_id == engine.account_id(GRANTS_PAYABLE),
                Posting.currency == Project.currency,
            )
            .group_by(Posting.project_id)
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
    behind = and_(
        Project.status.not_in((ProjectStatus.COMPLETED.value, ProjectStatus.CANCELLED.value)),
        or_(and_(Project.actual_start.is_(None), Project.planned_start < today), Project.planned_end < today),
    )
    count, late = db.session.execute(
        select(func.count(), func.coalesce(func.sum(case((behind, 1), else_=0)), 0)).select_from(Project)
    ).one()
    return count, int(late)


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
