"""Projects, their progress, tranches and the approval of large disbursements."""

from __future__ import annotations

from typing import Any

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import lazyload

from ledger import engine
from ledger.forms import (
    COUNTRY_NAMES,
    ProjectFilterForm,
    ProjectForm,
    ProjectProgressForm,
    RejectForm,
    ReleaseForm,
    ReportDueForm,
    ReportReceivedForm,
    TrancheForm,
    offer,
    payment_lines,
)
from ledger.models import Project, ProjectFocus, ProjectPayment, ProjectStatus, Tranche
from ledger.outflows import Outflow
from ledger.reports import approvals_list, project_figures
from ledger.services import four_eyes, grants, partner_reports
from ledger.usual_amounts import PROJECTS, TRANCHES
from ledger.views.blueprint import (
    LIST_PAGE,
    Recording,
    View,
    bp,
    lines_of,
    list_filters,
    page_number,
    post_on_row,
    recording_page,
    small_form,
    waits_or_booked,
)
from vat.auth.forms import EmptyForm
from vat.auth.policy import Permission, requires
from vat.db import db
from vat.inputs import today
from vat.money import shown
from vat.paging import page_of
from vat.sorting import Sort, SortableColumns, without_sort
from vat.submission import submit, text

# --- projects and disbursements --------------------------------------------------------------


PROJECT_SORTS = SortableColumns.of(
    Project,
    ("approved_on", "title", "partner", "country_code", "focus", "status", "victims_supported"),
    Sort("approved_on", descending=True),
)


@bp.get("/projects")
@requires(Permission.READ_LEDGER)
def projects() -> str:
    form = ProjectFilterForm(request.args)
    offer(form.country, project_figures.project_countries(), COUNTRY_NAMES)
    sort = PROJECT_SORTS.chosen(request.args)
    query = PROJECT_SORTS.apply(select(Project), sort)
    if form.validate():
        if form.status.data:
            query = query.where(Project.status == form.status.data)
        if form.focus.data:
            query = query.where(Project.focus == form.focus.data)
        if form.country.data:
            query = query.where(Project.country_code == form.country.data)
    # Beneficiaries are not shown here: not loaded with the page (selectin by default).
    query = query.options(lazyload(Project.beneficiaries))
    page = page_of(
        query,
        page=page_number(),
        per_page=LIST_PAGE,
        count=lambda: db.session.scalar(select(func.count()).select_from(query.subquery())) or 0,
    )
    rows = [project for (project,) in page.items]
    return render_template(
        "ledger/projects.html",
        form=form,
        page=page,
        rows=list(zip(rows, project_figures.projects_figures(rows), strict=True)),
        filters=list_filters(),
        focus={f.value: f.label for f in ProjectFocus},
        statuses=status_labels(),
        position=grants.fund_position(),
        overdue_reports=partner_reports.overdue_reports(today()),
        report_kinds=partner_reports.KIND_LABELS,
        sort=sort,
        args=without_sort(request.args),
    )


def status_labels() -> dict[str, str]:
    """The `status_label` macro's words, translated once for a page of projects, not once a row."""
    return {
        ProjectStatus.APPROVED: _("approved"),
        ProjectStatus.ONGOING: _("ongoing"),
        ProjectStatus.COMPLETED: _("completed"),
        ProjectStatus.CANCELLED: _("cancelled"),
    }


def _new_project_page(_form: ProjectForm, _row: None) -> dict[str, Any]:
    available = grants.fund_position()["available"]
    return {
        "title": _("Approve a project"),
        "note": _("Available to commit: US$%(amount)s", amount=shown(available)),
    }


@recording_page("/projects/new", ProjectForm, show="new_project", page=_new_project_page)
def approve_project(form: ProjectForm, _row: None) -> Recording[Project]:
    return Recording(
        lambda: grants.approve_project(
            actor=current_user,
            focus=ProjectFocus(form.focus.data),
            case_codes=lines_of(form.case_codes.data),
            **form.values("focus", "case_codes"),
        ),
        done=_("Project approved."),
        usual=(PROJECTS, text(form.currency)),
        then=lambda p: url_for("ledger.project", project_id=p.id),
    )


@bp.get("/projects/<int:project_id>")
@requires(Permission.READ_LEDGER)
def project(project_id: int) -> str:
    row = db.get_or_404(Project, project_id)
    tranches = db.session.scalars(
        select(Tranche).where(Tranche.project_id == row.id).order_by(Tranche.paid_on, Tranche.id)
    ).all()
    progress = ProjectProgressForm(obj=row)
    paid: dict[int, list[tuple[str, Any]]] = {}
    for payment in db.session.scalars(
        select(ProjectPayment).where(ProjectPayment.project_id == row.id).order_by(ProjectPayment.case_code)
    ):
        paid.setdefault(payment.tranche_id, []).append(
            (payment.case_code, engine.from_minor(payment.amount_minor, row.currency))
        )
    return render_template(
        "ledger/project.html",
        p=row,
        figures=project_figures.project_figures(row),
        tranches=[(t, engine.from_minor(t.amount_minor, row.currency)) for t in tranches],
        paid=paid,
        focus=ProjectFocus(row.focus).label,
        progress=progress,
        reports=partner_reports.reports_of(row),
        report_kinds=partner_reports.KIND_LABELS,
        report_due=ReportDueForm(),
        report_received=ReportReceivedForm(),
        on=today(),
    )


@post_on_row("/projects/<int:project_id>/progress", Project, Permission.RECORD_LEDGER)
def project_progress(row: Project) -> View:
    form = ProjectProgressForm()
    return small_form(
        form,
        lambda: grants.update_project(
            actor=current_user,
            project=row,
            status=ProjectStatus(form.status.data),
            actual_start=form.actual_start.data,
            actual_end=form.actual_end.data,
            victims_supported=form.victims_supported.data or 0,
            add_case_codes=lines_of(form.case_codes.data),
        ),
        done=_("Project updated."),
        back=url_for("ledger.project", project_id=row.id),
        refused=lambda errors: _("Check the progress form: %(errors)s", errors=errors),
    )


def _release_page(_form: ReleaseForm, project: Project) -> dict[str, Any]:
    return {
        "title": _("End %(project)s", project=project.title),
        "note": _(
            "Undisbursed: %(currency)s %(amount)s", currency=project.currency, amount=_undisbursed(project)
        ),
    }


@recording_page(
    "/projects/<int:project_id>/release",
    ReleaseForm,
    show="release_project",
    page=_release_page,
    load=Project,
)
def end_project(form: ReleaseForm, row: Project) -> Recording[Any]:
    return Recording(
        lambda: grants.release_project(
            actor=current_user, project=row, status=ProjectStatus(form.status.data), **form.values("status")
        ),
        done=_("Project ended; its undisbursed balance is back in the fund."),
        then=lambda _: url_for("ledger.project", project_id=row.id),
    )


def _disburse_page(_form: TrancheForm, project: Project) -> dict[str, Any]:
    return {
        "title": _("Disburse a tranche to %(partner)s", partner=project.partner),
        "note": _(
            "Undisbursed: %(currency)s %(amount)s. A programme support cost of %(rate)s%% is booked with it. "
            "Above US$%(threshold)s in 30 days to a project or partner a second fund manager approves.",
            currency=project.currency,
            amount=_undisbursed(project),
            rate=f"{grants.psc_rate() * 100:.0f}",
            threshold=shown(grants.approval_threshold()),
        ),
    }


@recording_page(
    "/projects/<int:project_id>/disburse",
    TrancheForm,
    show="disburse",
    page=_disburse_page,
    load=Project,
    fresh=True,
)
def request_disbursement(form: TrancheForm, row: Project) -> Recording[Tranche]:
    return Recording(
        lambda: grants.request_disbursement(
            actor=current_user,
            project=row,
            victim_payments=payment_lines(form.victim_payments.data),
            **form.values("victim_payments"),
        ),
        done=waits_or_booked(
            lambda tranche: tranche.status == "pending",
            waiting=_("Beyond the four-eyes limits: the tranche waits for another fund manager's approval."),
            booked=_("Disbursement recorded."),
        ),
        usual=(TRANCHES, row.currency),
        then=lambda _: url_for("ledger.project", project_id=row.id),
    )


def _undisbursed(project: Project) -> str:
    return shown(grants.undisbursed(project))


@bp.get("/approvals")
@requires(Permission.APPROVE_DISBURSEMENT)
def approvals() -> str:
    return render_template("ledger/approvals.html", form=EmptyForm(), **_approvals_page())


@post_on_row("/approvals/<int:outflow_id>/approve", Outflow, Permission.APPROVE_DISBURSEMENT, fresh=True)
def approve(outflow: Outflow) -> View:
    return submit(
        EmptyForm(),
        lambda: four_eyes.approve(actor=current_user, outflow=outflow),
        done=_("Approved and posted."),
        then=lambda _: url_for("ledger.approvals"),
        template="ledger/approvals.html",
        refused_status=409,
        **_approvals_page(),
    )


def _approvals_page() -> dict[str, Any]:
    return {"rows": approvals_list.pending_outflows(), "reject": RejectForm()}


@post_on_row("/approvals/<int:outflow_id>/reject", Outflow, Permission.APPROVE_DISBURSEMENT, fresh=True)
def reject(outflow: Outflow) -> View:
    form = RejectForm()
    return small_form(
        form,
        lambda: four_eyes.reject(actor=current_user, outflow=outflow, reason=text(form.reason)),
        done=_("Request rejected: nothing was posted."),
        back=url_for("ledger.approvals"),
        refused=lambda _errors: _("Give a reason for rejecting."),
    )
