"""The reports an implementing partner owes on its project: scheduled with a due date, recorded
when received; the project page lists them, the projects page the overdue ones."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from ledger.forms import ReportDueForm, ReportReceivedForm
from ledger.models import Project, ProjectReport
from ledger.services import partner_reports
from ledger.views.blueprint import View, bp
from vat.auth.policy import Permission, requires
from vat.db import db
from vat.inputs import today
from vat.submission import act


def _refused(form: FlaskForm, back: str) -> View:
    flash(
        _(
            "Check the report form: %(errors)s",
            errors="; ".join(str(e) for errs in form.errors.values() for e in errs),
        ),
        "error",
    )
    return redirect(back)


@bp.post("/projects/<int:project_id>/reports")
@requires(Permission.RECORD_LEDGER)
def schedule_report(project_id: int) -> View:
    project = db.get_or_404(Project, project_id)
    form, back = ReportDueForm(), url_for("ledger.project", project_id=project.id) + "#reports"
    if not form.validate_on_submit():
        return _refused(form, back)
    return act(
        lambda: partner_reports.schedule_report(
            actor=current_user, project=project, kind=form.kind.data, due_on=form.due_on.data
        ),
        done=_("Report due date recorded."),
        back=back,
        form=form,
    )


@bp.post("/projects/<int:project_id>/reports/<int:report_id>/received")
@requires(Permission.RECORD_LEDGER)
def receive_report(project_id: int, report_id: int) -> View:
    report = db.get_or_404(ProjectReport, report_id)
    if report.project_id != project_id:
        abort(404)
    form, back = ReportReceivedForm(), url_for("ledger.project", project_id=project_id) + "#reports"
    if not form.validate_on_submit():
        return _refused(form, back)
    return act(
        lambda: partner_reports.receive_report(
            actor=current_user,
            report=report,
            received_on=form.received_on.data,
            reference=form.reference.data,
            today=today(),
        ),
        done=_("Report recorded as received."),
        back=back,
    )
