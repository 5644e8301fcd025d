"""User administration and the audit log viewer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import partial

from flask import Blueprint, abort, flash, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from vat import audit_log as audit_log_service
from vat.audit_log import AuditFilterForm, AuditFilters
from vat.auth import admin_requests, break_glass, services
from vat.auth.forms import EditUserForm, EmptyForm, NewUserForm
from vat.auth.models import AdminRequest, BreakGlass, Role, User
from vat.auth.policy import Permission, fresh_required, requires
from vat.auth.resets import RESET_HOURS
from vat.db import db, utcnow
from vat.errors import DomainError, NotAllowed
from vat.paging import other_args, page_number
from vat.reports.exports import csv_lines
from vat.sorting import without_sort
from vat.submission import button, post_on_row, submit, text, written_apart
from vat.victims.models import Victim

bp = Blueprint("admin", __name__, url_prefix="/admin")
on_row = partial(post_on_row, bp)  # a POST about one account, request or grant


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


def _done(applied: str) -> Callable[[admin_requests.Outcome], str]:
    """The message once an act is asked for, applied, or applied alone in a one-admin office."""

    def message(outcome: admin_requests.Outcome) -> str:
        if outcome.waiting:
            return _(
                "Request recorded: another administrator must approve it within %(hours)d hours.",
                hours=admin_requests.REQUEST_HOURS,
            )
        if outcome.request is not None:
            return _("%(done)s Done alone (one-admin office): listed for review.", done=applied)
        return applied

    return message


def _after(outcome: admin_requests.Outcome) -> str:
    return url_for("admin.requests") if outcome.waiting else url_for("admin.users")


@bp.post("/users/new")
@requires(Permission.MANAGE_USERS)
@fresh_required
def create_user() -> Response | tuple[str, int]:
    form = NewUserForm()
    return submit(
        form,
        lambda: admin_requests.propose_new_user(
            actor=current_user,
            username=text(form.username),
            password=text(form.password),
            role=Role(form.role.data),
            scope=text(form.scope),
        ),
        done=_done(_("User created.")),
        then=_after,
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
    return _user_page(form, user)


def _user_page(form: EditUserForm, user: User) -> str:
    return render_template(
        "admin/user_form.html",
        form=form,
        user=user,
        action_form=EmptyForm(),
        privileged=admin_requests.is_privileged(user.role),
        waiting=[r for r in admin_requests.pending() if r.user_id == user.id],
    )


@on_row("/users/<int:user_id>", User, Permission.MANAGE_USERS, fresh=True)
def update_user(user: User) -> Response | tuple[str, int]:
    form = EditUserForm()
    return submit(
        form,
        lambda: admin_requests.propose_change(
            actor=current_user,
            user=user,
            role=Role(form.role.data),
            scope=text(form.scope),
            active=bool(form.active.data),
        ),
        done=_done(_("User updated.")),
        then=_after,
        template="admin/user_form.html",
        refused_status=200,
        user=user,
        action_form=EmptyForm(),
        privileged=admin_requests.is_privileged(user.role),
        waiting=[],
    )


@on_row("/users/<int:user_id>/reset-password", User, Permission.MANAGE_USERS, fresh=True)
def reset_password(user: User) -> Response | str:
    """Reset a password: the one-time code is on this response only (never flashed: the flash
    travels in the readable session cookie); a privileged account's reset waits for approval."""
    return _run_act(
        lambda: admin_requests.propose_password_reset(actor=current_user, user=user),
        done=_("Password reset."),
        back=url_for("admin.edit_user", user_id=user.id),
    )


@on_row("/users/<int:user_id>/reset-second-factor", User, Permission.MANAGE_USERS, fresh=True)
def reset_second_factor(user: User) -> Response | str:
    return _run_act(
        lambda: admin_requests.propose_second_factor_reset(
            actor=current_user, user=user, identity_check=request.form.get("identity_check", "")
        ),
        done=_("Second factor reset: the user enrols a new authenticator at next sign-in."),
        back=url_for("admin.edit_user", user_id=user.id),
    )


def _run_act(run: Callable[[], admin_requests.Outcome], *, done: str, back: str) -> Response | str:
    """A button that acts on an account: commit once; show a reset code once, else redirect."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        outcome = run()
    except NotAllowed as error:
        db.session.rollback()
        flash(str(error), "error")
        abort(403)
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(back)
    db.session.commit()
    if outcome.reset_code is not None and outcome.user is not None:
        return render_template(
            "admin/reset_code.html", user=outcome.user, code=outcome.reset_code, hours=RESET_HOURS
        )
    flash(_done(done)(outcome), "success")
    return redirect(url_for("admin.requests") if outcome.waiting else back)


@bp.get("/requests")
@requires(Permission.MANAGE_USERS)
def requests() -> str:
    """Requests waiting for a second administrator, and what became of the latest ones."""
    return render_template(
        "admin/requests.html",
        waiting=admin_requests.pending(),
        latest=admin_requests.recent(),
        now=utcnow(),
        button=EmptyForm(),
        admins=admin_requests.active_admins(),
        hours=admin_requests.REQUEST_HOURS,
    )


@on_row("/requests/<int:request_id>/approve", AdminRequest, Permission.MANAGE_USERS, fresh=True)
def approve_request(asked: AdminRequest) -> Response | str:
    approved, back = _("Approved and applied."), url_for("admin.requests")
    return _run_act(
        lambda: admin_requests.approve(actor=current_user, request=asked), done=approved, back=back
    )


@on_row("/requests/<int:request_id>/refuse", AdminRequest, Permission.MANAGE_USERS, fresh=True)
def refuse_request(asked: AdminRequest) -> Response:
    refused = _("Refused: nothing was changed.")
    return _button(
        lambda: admin_requests.refuse(actor=current_user, request=asked), refused, "admin.requests"
    )


@bp.get("/acted-alone")
@requires(Permission.REVIEW_ADMIN_ACTS)
def acted_alone() -> str:
    """What an administrator did alone in a one-admin office, for an auditor to read."""
    everything = request.args.get("all") == "1"
    return render_template(
        "admin/acted_alone.html",
        acts=admin_requests.acted_alone(unreviewed_only=not everything),
        everything=everything,
        button=EmptyForm(),
    )


@on_row("/acted-alone/<int:request_id>/acknowledge", AdminRequest, Permission.REVIEW_ADMIN_ACTS)
def acknowledge_act(done_alone: AdminRequest) -> Response:
    read = _("Acknowledged.")
    return _button(
        lambda: admin_requests.acknowledge(actor=current_user, request=done_alone), read, "admin.acted_alone"
    )


def _button(run: Callable[[], object], done: str, back: str) -> Response:
    """A button's POST: run, commit, back to the page `back`."""
    return button(run, done=done, back=url_for(back))


@on_row("/users/<int:user_id>/sessions/end", User, Permission.MANAGE_USERS, fresh=True)
def end_user_sessions(user: User) -> Response:
    return button(
        lambda: services.end_sessions_of(actor=current_user, user=user),
        done=lambda ended: _("Sessions ended: %(count)d.", count=ended),
        back=url_for("admin.edit_user", user_id=user.id),
    )


@on_row("/users/<int:user_id>/unlock", User, Permission.MANAGE_USERS, fresh=True)
def unlock_user(user: User) -> Response:
    return button(
        lambda: services.unlock_account(actor=current_user, user=user),
        done=_("Account unlocked."),
        back=url_for("admin.edit_user", user_id=user.id),
    )


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


@on_row("/break-glass/<int:grant_id>/acknowledge", BreakGlass, Permission.REVIEW_BREAK_GLASS)
def acknowledge_break_glass(grant: BreakGlass) -> Response:
    read = _("Acknowledged.")
    return _button(
        lambda: break_glass.acknowledge(actor=current_user, grant=grant), read, "admin.break_glass_review"
    )


@bp.get("/audit")
@requires(Permission.READ_AUDIT)
def audit_log() -> str:
    form = AuditFilterForm.of(current_user, request.args)
    filters = form.filters() if request.args else AuditFilters()
    sort = audit_log_service.SORTS.chosen(request.args)
    page = audit_log_service.page(current_user, filters, sort, page_number(request.args.get("page")))
    args = other_args(request.args)
    return render_template(
        "admin/audit.html",
        page=page,
        form=form,
        args=args,
        sort=sort,
        sort_args=without_sort(request.args),
        action_label=audit_log_service.action_label,
        object_label=audit_log_service.object_label,
    )


@bp.get("/audit/export.csv")
@requires(Permission.READ_AUDIT)
def audit_export() -> Response:
    """The filtered log as CSV, streamed; the export is itself an event of the log, written in a
    short transaction of its own (as the reports' exports are)."""
    form = AuditFilterForm.of(current_user, request.args)
    filters = form.filters() if request.args else AuditFilters()
    rows = audit_log_service.count(current_user, filters)
    with written_apart():
        audit_log_service.record_export(current_user, filters, rows)
    lines = csv_lines(audit_log_service.EXPORT_HEADER, audit_log_service.export_rows(current_user, filters))
    response = Response(stream_with_context(lines), mimetype="text/csv")
    filename = f"audit-log-{date.today().isoformat()}.csv"  # made here, never from the request
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
