"""What is recorded for a victim: assistance, children and communications."""

from __future__ import annotations

from flask import abort, flash, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # in WTForms 3.3, not its 3.2 stubs

from vat.auth.policy import Permission, requires
from vat.db import commit_keeping_loaded, db
from vat.errors import DomainError
from vat.submission import writes
from vat.victims import assistance, family, identity
from vat.victims.forms import AssistanceForm, ChildForm, CommunicationForm
from vat.victims.models import Assistance, Child
from vat.victims.views.blueprint import bp, form_values, load_victim, show_error, to_victim_page


@bp.route("/victims/<int:victim_id>/assistance/new", methods=["GET", "POST"])
@requires(Permission.EDIT_CASES)
def new_assistance(victim_id: int) -> str | Response:
    victim = load_victim(victim_id)
    form = AssistanceForm()
    if form.validate_on_submit():
        try:
            assistance.record_assistance(actor=current_user, victim=victim, **form_values(form))
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            commit_keeping_loaded()  # what follows reads no expired row
            flash(_("Service recorded."), "success")
            return to_victim_page(victim, "services")
    return render_template(
        "vat/victims/record_form.html", form=form, victim=victim, title=_("Record a service")
    )


@bp.route("/victims/<int:victim_id>/assistance/<int:service_id>", methods=["GET", "POST"])
@requires(Permission.EDIT_CASES)
@writes
def edit_assistance(victim_id: int, service_id: int) -> str | Response:
    victim = load_victim(victim_id)
    service = db.session.get(Assistance, service_id)
    if service is None or service.victim_id != victim.id:
        abort(404)
    if request.method == "GET":
        identity.record_read(actor=current_user, victim=victim, what="assistance", record_id=service.id)
        db.session.commit()
    form = AssistanceForm(obj=service) if request.method == "GET" else AssistanceForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            assistance.update_assistance(
                actor=current_user, victim=victim, service=service, **form_values(form)
            )
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            commit_keeping_loaded()  # what follows reads no expired row
            flash(_("Service updated."), "success")
            return to_victim_page(victim, "services")
    return render_template(
        "vat/victims/record_form.html", form=form, victim=victim, title=_("Update a service")
    )


@bp.route("/victims/<int:victim_id>/children/new", methods=["GET", "POST"])
@requires(Permission.EDIT_CASES)
def new_child(victim_id: int) -> str | Response:
    victim = load_victim(victim_id)
    form = ChildForm()
    if form.validate_on_submit():
        try:
            family.add_child(actor=current_user, victim=victim, **form_values(form))
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            commit_keeping_loaded()  # what follows reads no expired row
            flash(_("Child recorded."), "success")
            return to_victim_page(victim, "children")
    return render_template(
        "vat/victims/record_form.html", form=form, victim=victim, title=_("Record a child")
    )


@bp.route("/victims/<int:victim_id>/children/<int:child_id>", methods=["GET", "POST"])
@requires(Permission.EDIT_CASES)
@writes
def edit_child(victim_id: int, child_id: int) -> str | Response:
    victim = load_victim(victim_id)
    child = db.session.get(Child, child_id)
    if child is None or child.victim_id != victim.id:
        abort(404)
    if request.method == "GET":
        identity.record_read(actor=current_user, victim=victim, what="child", record_id=child.id)
        db.session.commit()
    form = ChildForm(obj=child) if request.method == "GET" else ChildForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            family.update_child(actor=current_user, victim=victim, child=child, **form_values(form))
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            commit_keeping_loaded()  # what follows reads no expired row
            flash(_("Child updated."), "success")
            return to_victim_page(victim, "children")
    return render_template(
        "vat/victims/record_form.html", form=form, victim=victim, title=_("Update a child")
    )


@bp.route("/victims/<int:victim_id>/communications/new", methods=["GET", "POST"])
@requires(Permission.EDIT_CASES)
def new_communication(victim_id: int) -> str | Response:
    victim = load_victim(victim_id)
    form = CommunicationForm()
    open_tasks = [t for t in victim.tasks if t.closed_at is None]
    form.closes_tasks.choices = [SelectChoice(t.id, t.label) for t in open_tasks]
    if not open_tasks:
        del form.closes_tasks
    if request.method == "GET":
        form.by_whom.data = current_user.username
    if form.validate_on_submit():
        values = form_values(form, "closes_tasks")
        try:
            family.log_communication(
                actor=current_user,
                victim=victim,
                closes_task_ids=(form.closes_tasks.data or []) if open_tasks else (),
                **values,
            )
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            commit_keeping_loaded()  # what follows reads no expired row
            flash(_("Communication recorded."), "success")
            return to_victim_page(victim, "communications")
    return render_template(
        "vat/victims/record_form.html", form=form, victim=victim, title=_("Record a communication")
    )
