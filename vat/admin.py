"""User administration and the audit log viewer."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import Select, select
from werkzeug.wrappers import Response

from vat import audit
from vat.auth import services
from vat.auth.forms import EditUserForm, NewUserForm
from vat.auth.models import Role, User
from vat.auth.policy import Permission, fresh_required, requires
from vat.db import commit_keeping_loaded, db
from vat.errors import DomainError

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@requires(Permission.MANAGE_USERS)
def users() -> str:
    rows = db.session.scalars(select(User).order_by(User.username)).all()
    return render_template("admin/users.html", users=rows)


@bp.route("/users/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_USERS)
@fresh_required
def new_user() -> str | Response:
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            services.create_user(
                actor=current_user,
                username=form.username.data,
                password=form.password.data,
                role=Role(form.role.data),
                scope=form.scope.data or "",
            )
        except DomainError as error:
            flash(str(error), "error")
            return render_template("admin/user_form.html", form=form, user=None)
        commit_keeping_loaded()  # what follows reads no expired row
        flash(_("User created."), "success")
        return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@requires(Permission.MANAGE_USERS)
@fresh_required
def edit_user(user_id: int) -> str | Response:
    user = db.get_or_404(User, user_id)
    form = EditUserForm(obj=user) if request.method == "GET" else EditUserForm()
    if request.method == "GET":
        form.scope.data = ", ".join(str(s) for s in user.scopes)
    if form.validate_on_submit():
        try:
            services.update_user(
                actor=current_user,
                user=user,
                role=Role(form.role.data),
                scope=form.scope.data or "",
                active=form.active.data,
            )
        except DomainError as error:
            flash(str(error), "error")
            return render_template("admin/user_form.html", form=form, user=user)
        commit_keeping_loaded()  # what follows reads no expired row
        flash(_("User updated."), "success")
        return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=user)


def visible_audit_events(user: User) -> Select[tuple[audit.AuditEvent]]:
    """Auditors and admins read everything; fund managers the ledger; senior advocates their scope."""
    query = select(audit.AuditEvent).order_by(audit.AuditEvent.id.desc())
    role = Role(user.role)
    if role is Role.FUND_MANAGER:
        return query.where(audit.AuditEvent.object_type.like("ledger%"))
    if role is Role.SENIOR_ADVOCATE:
        countries = [s.country_code for s in user.scopes]
        return query.where(audit.AuditEvent.country_code.in_(countries))
    return query


@bp.get("/audit")
@requires(Permission.READ_AUDIT)
def audit_log() -> str:
    page = db.paginate(visible_audit_events(current_user), per_page=50, max_per_page=50)
    return render_template("admin/audit.html", page=page)
