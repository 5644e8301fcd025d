"""The trust fund's money as subqueries (US cents, reversals netted), for the per-victim support
report and the fund statement."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, cast, func, select

from ledger.engine import CASH, EntryKind
from ledger.models import Account, AccountType, Posting, ProjectBeneficiary
from ledger.reports.amounts import effective_kind, postings


def direct_support_by_case(codes: Any = None) -> Any:
    """US cents the fund paid each victim directly (reversals netted), optionally only for the
    case codes `codes` selects."""
    query = (
        postings(Posting.case_code.label("case_code"), func.sum(Posting.usd_minor).label("minor"))
        .where(Posting.case_code.is_not(None), effective_kind() == EntryKind.VICTIM_SUPPORT)
        .where(Account.type == AccountType.EXPENSE.value)
        .group_by(Posting.case_code)
    )
    if codes is not None:
        query = query.where(Posting.case_code.in_(codes))
    return query.subquery("direct")


def _disbursed_by_project(projects: Any = None) -> Any:
    """US cents paid out to each project's partner (tranches, reversals netted), optionally only
    for the project ids `projects` selects."""
    query = (
        postings(Posting.project_id.label("project_id"), (-func.sum(Posting.usd_minor)).label("minor"))
        .where(Account.code == CASH, effective_kind() == EntryKind.DISBURSEMENT)
        .group_by(Posting.project_id)
    )
    if projects is not None:
        query = query.where(Posting.project_id.in_(projects))
    return query.subquery("disbursed")


def project_share_by_case(codes: Any = None) -> Any:
    """For each case code listed by projects: how many projects, and an equal share of what each
    project has disbursed (rounded down to the cent per project)."""
    projects = None
    if codes is not None:  # only the projects that list one of those victims
        projects = select(ProjectBeneficiary.project_id).where(ProjectBeneficiary.case_code.in_(codes))
    disbursed = _disbursed_by_project(projects)
    listed = (
        select(ProjectBeneficiary.project_id, func.count().label("listed"))
        .where(*([] if projects is None else [ProjectBeneficiary.project_id.in_(projects)]))
        .group_by(ProjectBeneficiary.project_id)
        .subquery("listed")
    )
    per_project = cast(func.coalesce(disbursed.c.minor, 0), BigInteger) // listed.c.listed
    return (
        select(
            ProjectBeneficiary.case_code.label("case_code"),
            func.count().label("projects"),
            cast(func.sum(per_project), BigInteger).label("minor"),
        )
        .join(listed, listed.c.project_id == ProjectBeneficiary.project_id)
        .outerjoin(disbursed, disbursed.c.project_id == ProjectBeneficiary.project_id)
        .where(*([] if codes is None else [ProjectBeneficiary.case_code.in_(codes)]))
        .group_by(ProjectBeneficiary.case_code)
        .subquery("projects")
    )
