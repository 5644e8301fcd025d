"""The reports an implementing partner owes on its project (issue 18, item 5; OIOS §116-117:
projects ran late and nobody could show what each victim received): narrative, financial and
what each beneficiary received, each due on a date, received or overdue. No money moves here."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from ledger.models import BENEFICIARY_SUPPORT, Project, ProjectReport, ProjectStatus, ReportKind
from ledger.services.booking import record_audit
from vat.auth.actor import Actor
from vat.db import db
from vat.errors import DomainError

KIND_LABELS = {
    ReportKind.NARRATIVE.value: _l("Narrative report"),
    ReportKind.FINANCIAL.value: _l("Financial report"),
    ReportKind.BENEFICIARIES.value: _l("What each beneficiary received"),
}

# What a partner reports giving a beneficiary (the victims' service types, and money).
SUPPORT_LABELS = dict(
    zip(
        BENEFICIARY_SUPPORT,
        (
            _l("Cash"),
            _l("Medical"),
            _l("Psychosocial"),
            _l("Legal"),
            _l("Material / basic needs"),
            _l("Shelter"),
            _l("Education"),
            _l("Livelihood"),
            _l("Protection"),
            _l("Other"),
        ),
        strict=True,
    )
)


def schedule_report(
    *, actor: Actor, project: Project, kind: str, due_on: date | None, period: tuple[date, date] | None = None
) -> ProjectReport:
    """A report the partner is to send by `due_on` (set out in the project's agreement), on the
    reporting `period` (its first and last days) when given."""
    if kind not in KIND_LABELS:
        raise DomainError(_l("Choose the kind of report."))
    if due_on is None:
        raise DomainError(_l("Give the date the report is due."))
    if project.status == ProjectStatus.CANCELLED:
        raise DomainError(_l("The project was cancelled: it owes no report."))
    if due_on < project.approved_on:
        raise DomainError(_l("A report cannot be due before the project was approved."))
    if period is not None:
        if period[1] < period[0]:
            raise DomainError(_l("The reporting period ends before it starts."))
        if period[1] > due_on:
            raise DomainError(_l("A report cannot be due before its reporting period ends."))
    start, end = period or (None, None)
    report = ProjectReport(
        project_id=project.id, kind=kind, due_on=due_on, period_start=start, period_end=end
    )
    db.session.add(report)
    db.session.flush()
    record_audit(
        "project.report_due",
        actor,
        "project",
        project.id,
        report=report.id,
        kind=kind,
        due=due_on,
        period=period,
    )
    return report


def receive_report(
    *, actor: Actor, report: ProjectReport, received_on: date | None, reference: str | None, today: date
) -> ProjectReport:
    """The partner's report arrived (its reference: the document, the email, the file name)."""
    if report.received_on is not None:
        raise DomainError(_l("This report is already recorded as received."))
    if received_on is None or received_on > today:
        raise DomainError(_l("Give the date the report was received (not in the future)."))
    report.received_on = received_on
    report.reference = (reference or "").strip()[:120] or None
    db.session.flush()
    record_audit(
        "project.report_received", actor, "project", report.project_id, report=report.id, on=received_on
    )
    return report


def reports_of(project: Project) -> list[ProjectReport]:
    return list(
        db.session.scalars(
            select(ProjectReport)
            .where(ProjectReport.project_id == project.id)
            .order_by(ProjectReport.due_on, ProjectReport.id)
        )
    )


def overdue_reports(today: date, limit: int = 100) -> list[ProjectReport]:
    """Reports not received after their due date, the longest overdue first."""
    return list(
        db.session.scalars(
            select(ProjectReport)
            .where(ProjectReport.received_on.is_(None), ProjectReport.due_on < today)
            .order_by(ProjectReport.due_on, ProjectReport.id)
            .limit(limit)
        )
    )


def reports_in(start: date, end: date, limit: int = 500) -> list[ProjectReport]:
    """The reports due from `start` to `end`, and those due before and still not received at
    `end` (the fund statement's schedule), by due date."""
    awaited = or_(ProjectReport.received_on.is_(None), ProjectReport.received_on > end)
    return list(
        db.session.scalars(
            select(ProjectReport)
            .where(ProjectReport.due_on <= end, or_(ProjectReport.due_on >= start, awaited))
            .order_by(ProjectReport.due_on, ProjectReport.id)
            .limit(limit)
        )
    )
