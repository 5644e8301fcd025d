"""The reports an implementing partner owes on its project: scheduled with a due date, recorded
when received; the project page lists them, the projects page the overdue ones."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ledger.forms import ReportDueForm, ReportLinesForm, ReportReceivedForm
from ledger.models import Project, ProjectReport, ProjectReportLine
from ledger.services import beneficiary_lines, partner_reports
from ledger.views.blueprint import View, bp, post_on_row, small_form
from vat.auth.policy import Permission, requires
from vat.db import db
from vat.inputs import today
from vat.submission import form_values, submit


def _refused(errors: str) -> str:
    return _("Check the report form: %(errors)s", errors=errors)


@post_on_row("/projects/<int:project_id>/reports", Project, Permission.RECORD_LEDGER)
def schedule_report(project: Project) -> View:
    form = ReportDueForm()
    return small_form(
        form,
        lambda: partner_reports.schedule_report(
            actor=current_user,
            project=project,
            kind=form.kind.data,
            due_on=form.due_on.data,
            period=form.period,
        ),
        done=_("Report due date recorded."),
        back=_reports_of(project.id),
        refused=_refused,
    )


@bp.post("/projects/<int:project_id>/reports/<int:report_id>/received")
@requires(Permission.RECORD_LEDGER)
def receive_report(project_id: int, report_id: int) -> View:
    report = _report_of(project_id, report_id)
    form = ReportReceivedForm()
    return small_form(
        form,
        lambda: partner_reports.receive_report(
            actor=current_user, report=report, today=today(), **form_values(form)
        ),
        done=_("Report recorded as received."),
        back=_reports_of(project_id),
        refused=_refused,
    )


@bp.get("/projects/<int:project_id>/reports/<int:report_id>")
@requires(Permission.READ_LEDGER)
def project_report(project_id: int, report_id: int) -> str:
    report = _report_of(project_id, report_id)
    return render_template(
        "ledger/project_report.html", form=ReportLinesForm(), **_report_context(report, [])
    )


@bp.post("/projects/<int:project_id>/reports/<int:report_id>/lines")
@requires(Permission.RECORD_LEDGER)
def import_report_lines(project_id: int, report_id: int) -> View:
    report = _report_of(project_id, report_id)
    form = ReportLinesForm()
    errors: list[beneficiary_lines.LineError] = []

    def run() -> list[ProjectReportLine]:
        upload = form.file.data
        try:
            return beneficiary_lines.import_lines(
                actor=current_user,
                report=report,
                filename=upload.filename or "",
                stream=upload.stream,
                today=today(),
            )
        except beneficiary_lines.LinesRefused as refused:
            errors.extend(refused.errors)  # shown on the page submit renders again
            raise

    return submit(
        form,
        run,
        done=lambda rows: _("%(count)s lines imported.", count=len(rows)),
        then=lambda _rows: url_for("ledger.project_report", project_id=project_id, report_id=report_id),
        template="ledger/project_report.html",
        **_report_context(report, errors),
    )


def _reports_of(project_id: int) -> str:
    """The reports on the project's page."""
    return url_for("ledger.project", project_id=project_id) + "#reports"


def _report_of(project_id: int, report_id: int) -> ProjectReport:
    report = db.get_or_404(ProjectReport, report_id)
    if report.project_id != project_id:
        abort(404)
    return report


def _report_context(report: ProjectReport, errors: list[beneficiary_lines.LineError]) -> dict[str, Any]:
    return {
        "report": report,
        "p": report.project,
        "lines": beneficiary_lines.lines_of(report),
        "report_kinds": partner_reports.KIND_LABELS,
        "support_labels": partner_reports.SUPPORT_LABELS,
        "errors": errors,
        "on": today(),
    }
