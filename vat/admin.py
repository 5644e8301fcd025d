"""User administration and the audit log viewer."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import Select, select
from werkzeug.wrappers import Response

from vat import audit
from vat.auth import services
from vat.auth.forms import EditUserForm, NewUserForm
from vat.auth.models import Role, User
from vat.auth.policy import Permission, fresh_required, requires
from vat.db import db
from vat.submission import submit, text

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
    return render_template("admin/user_form.html", form=form, user=user)


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
    )


def visible_audit_events(user: User) -> Select[audit.AuditEvent]:
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
