"""User administration and the audit log viewer."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from vat import audit_log as audit_log_service
from vat.audit_log import AuditFilterForm, AuditFilters
from vat.auth import break_glass, services
from vat.auth.forms import EditUserForm, EmptyForm, NewUserForm
from vat.auth.models import BreakGlass, Role, User
from vat.auth.policy import Permission, fresh_required, requires
from vat.db import BeginMode, begin_mode, db
from vat.paging import page_number
from vat.reports.exports import csv_lines
from vat.submission import act, submit, text
from vat.victims.models import Victim

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@requires(Permission.MANAGE_USERS)
def users() -> str:
    rows = db.session.scalars(select(User).order_by(User.username)).all()
    return render_template("admin/users.html", users=rows)


@bp.get("/users/new")
@requires(Permission.MANAGE_USERS)
@fresh_required
def new_user() -> str:
    return render_template("admin/user_form.html", form=NewUserForm(), user=None)


@bp.post("/users/new")
@requires(Permission.MANAGE_USERS)
@fresh_required
def create_user() -> Response | tuple[str, int]:
    form = NewUserForm()
    return submit(
        form,
        lambda: services.create_user(
            actor=current_user,
            username=text(form.username),
            password=text(form.password),
            role=Role(form.role.data),
            scope=text(form.scope),
        ),
        done=_("User created."),
        then=lambda _user: url_for("admin.users"),
        template="admin/user_form.html",
        refused_status=200,
        user=None,
    )


@bp.get("/users/<int:user_id>")
@requires(Permission.MANAGE_USERS)
@fresh_required
def edit_user(user_id: int) -> str:
    user = db.get_or_404(User, user_id)
    form = EditUserForm(obj=user)
    form.scope.data = ", ".join(str(s) for s in user.scopes)
    return render_template("admin/user_form.html", form=form, user=user, action_form=EmptyForm())


@bp.post("/users/<int:user_id>")
@requires(Permission.MANAGE_USERS)
@fresh_required
def update_user(user_id: int) -> Response | tuple[str, int]:
    user = db.get_or_404(User, user_id)
    form = EditUserForm()
    return submit(
        form,
        lambda: services.update_user(
            actor=current_user,
            user=user,
            role=Role(form.role.data),
            scope=text(form.scope),
            active=bool(form.active.data),
        ),
        done=_("User updated."),
        then=lambda _user: url_for("admin.users"),
        template="admin/user_form.html",
        refused_status=200,
        user=user,
        action_form=EmptyForm(),
    )


@bp.post("/users/<int:user_id>/sessions/end")
@requires(Permission.MANAGE_USERS)
@fresh_required
def end_user_sessions(user_id: int) -> Response:
    user = db.get_or_404(User, user_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    ended = services.end_sessions_of(actor=current_user, user=user)
    db.session.commit()
    flash(_("Sessions ended: %(count)d.", count=ended), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.post("/users/<int:user_id>/unlock")
@requires(Permission.MANAGE_USERS)
@fresh_required
def unlock_user(user_id: int) -> Response:
    user = db.get_or_404(User, user_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.unlock_account(actor=current_user, user=user)
    db.session.commit()
    flash(_("Account unlocked."), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.get("/break-glass")
@requires(Permission.REVIEW_BREAK_GLASS)
def break_glass_review() -> str:
    """Every use of the glass (those not yet acknowledged first), for another senior advocate or
    an auditor to read and acknowledge."""
    everything = request.args.get("all") == "1"
    grants = break_glass.to_review(unacknowledged_only=not everything)
    victim_ids = {g.record_id for g in grants if g.record_type == "victim"}
    codes = dict(
        db.session.execute(select(Victim.id, Victim.case_code).where(Victim.id.in_(victim_ids))).all()
    )
    return render_template(
        "admin/break_glass.html", grants=grants, codes=codes, everything=everything, button=EmptyForm()
    )


@bp.post("/break-glass/<int:grant_id>/acknowledge")
@requires(Permission.REVIEW_BREAK_GLASS)
def acknowledge_break_glass(grant_id: int) -> Response:
    grant = db.get_or_404(BreakGlass, grant_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    return act(
        lambda: break_glass.acknowledge(actor=current_user, grant=grant),
        done=_("Acknowledged."),
        back=url_for("admin.break_glass_review"),
    )


@bp.get("/audit")
@requires(Permission.READ_AUDIT)
def audit_log() -> str:
    form = AuditFilterForm(request.args)
    filters = form.filters() if request.args else AuditFilters()
    page = db.paginate(
        audit_log_service.events(current_user, filters),
        page=page_number(request.args.get("page")),
        per_page=50,
        max_per_page=50,
        error_out=False,
    )
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "admin/audit.html",
        page=page,
        form=form,
        args=args,
        action_label=audit_log_service.action_label,
        object_label=audit_log_service.object_label,
    )


@bp.get("/audit/export.csv")
@requires(Permission.READ_AUDIT)
def audit_export() -> Response:
    """The filtered log as CSV, streamed; the export is itself an event of the log, written in a
    short transaction of its own (as the reports' exports are)."""
    form = AuditFilterForm(request.args)
    filters = form.filters() if request.args else AuditFilters()
    rows = audit_log_service.count(current_user, filters)
    db.session.commit()  # end the reading transaction
    with begin_mode(BeginMode.IMMEDIATE):
        audit_log_service.record_export(current_user, filters, rows)
        db.session.commit()
    lines = csv_lines(audit_log_service.EXPORT_HEADER, audit_log_service.export_rows(current_user, filters))
    response = Response(stream_with_context(lines), mimetype="text/csv")
    filename = f"audit-log-{date.today().isoformat()}.csv"  # made here, never from the request
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
