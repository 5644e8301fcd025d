"""What is recorded for a victim: assistance, children and communications."""

from __future__ import annotations

from functools import partial
from typing import TypeVar

from flask import abort, render_template
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # in WTForms 3.3, not its 3.2 stubs

from vat.auth.policy import Permission, requires
from vat.db import db
from vat.submission import submit, writes
from vat.victims import assistance, family, identity
from vat.victims.forms import AssistanceForm, ChildForm, CommunicationForm
from vat.victims.models import Assistance, Child, Victim
from vat.victims.views.blueprint import RECORD_FORM, bp, form_values, load_victim, record_on_file, victim_url


@bp.get("/victims/<int:victim_id>/assistance/new")
@requires(Permission.EDIT_CASES)
def new_assistance(victim_id: int) -> str:
    victim = load_victim(victim_id)
    return render_template(RECORD_FORM, form=AssistanceForm(), victim=victim, title=_("Record a service"))


@bp.post("/victims/<int:victim_id>/assistance/new")
@requires(Permission.EDIT_CASES)
def create_assistance(victim_id: int) -> Response | tuple[str, int]:
    return record_on_file(
        load_victim(victim_id),
        AssistanceForm(),
        assistance.record_assistance,
        done=_("Service recorded."),
        anchor="services",
        title=_("Record a service"),
        refused_status=200,  # the form is shown again as it always was
    )


R = TypeVar("R", Assistance, Child)


def _on_file(victim: Victim, kind: type[R], record_id: int) -> R:
    """A record of this victim's file; any other id answers 404, as one outside scope does."""
    record = db.session.get(kind, record_id)
    if record is None or record.victim_id != victim.id:
        abort(404)
    return record


@bp.get("/victims/<int:victim_id>/assistance/<int:service_id>")
@requires(Permission.EDIT_CASES)
@writes
def edit_assistance(victim_id: int, service_id: int) -> str:
    victim = load_victim(victim_id)
    service = _on_file(victim, Assistance, service_id)
    identity.record_read(actor=current_user, victim=victim, what="assistance", record_id=service.id)
    db.session.commit()
    form = AssistanceForm(obj=service)
    return render_template(RECORD_FORM, form=form, victim=victim, title=_("Update a service"))


@bp.post("/victims/<int:victim_id>/assistance/<int:service_id>")
@requires(Permission.EDIT_CASES)
def update_assistance(victim_id: int, service_id: int) -> Response | tuple[str, int]:
    victim = load_victim(victim_id)
    return record_on_file(
        victim,
        AssistanceForm(),
        partial(assistance.update_assistance, service=_on_file(victim, Assistance, service_id)),
        done=_("Service updated."),
        anchor="services",
        title=_("Update a service"),
        refused_status=200,  # the form is shown again as it always was
    )


@bp.get("/victims/<int:victim_id>/children/new")
@requires(Permission.EDIT_CASES)
def new_child(victim_id: int) -> str:
    victim = load_victim(victim_id)
    return render_template(RECORD_FORM, form=ChildForm(), victim=victim, title=_("Record a child"))


@bp.post("/victims/<int:victim_id>/children/new")
@requires(Permission.EDIT_CASES)
def create_child(victim_id: int) -> Response | tuple[str, int]:
    return record_on_file(
        load_victim(victim_id),
        ChildForm(),
        family.add_child,
        done=_("Child recorded."),
        anchor="children",
        title=_("Record a child"),
    )


@bp.get("/victims/<int:victim_id>/children/<int:child_id>")
@requires(Permission.EDIT_CASES)
@writes
def edit_child(victim_id: int, child_id: int) -> str:
    victim = load_victim(victim_id)
    child = _on_file(victim, Child, child_id)
    identity.record_read(actor=current_user, victim=victim, what="child", record_id=child.id)
    db.session.commit()
    return render_template(RECORD_FORM, form=ChildForm(obj=child), victim=victim, title=_("Update a child"))


@bp.post("/victims/<int:victim_id>/children/<int:child_id>")
@requires(Permission.EDIT_CASES)
def update_child(victim_id: int, child_id: int) -> Response | tuple[str, int]:
    victim = load_victim(victim_id)
    return record_on_file(
        victim,
        ChildForm(),
        partial(family.update_child, child=_on_file(victim, Child, child_id)),
        done=_("Child updated."),
        anchor="children",
        title=_("Update a child"),
    )


def communication_form(victim: Victim) -> CommunicationForm:
    """The form offers the victim's open tasks (informing of an outcome) to close, if any."""
    form = CommunicationForm()
    open_tasks = [t for t in victim.tasks if t.closed_at is None]
    form.closes_tasks.choices = [SelectChoice(t.id, t.label) for t in open_tasks]
    if not open_tasks:
        del form.closes_tasks
    return form


@bp.get("/victims/<int:victim_id>/communications/new")
@requires(Permission.EDIT_CASES)
def new_communication(victim_id: int) -> str:
    victim = load_victim(victim_id)
    form = communication_form(victim)
    form.by_whom.data = current_user.username
    return render_template(RECORD_FORM, form=form, victim=victim, title=_("Record a communication"))


@bp.post("/victims/<int:victim_id>/communications/new")
@requires(Permission.EDIT_CASES)
def create_communication(victim_id: int) -> Response | tuple[str, int]:
    victim = load_victim(victim_id)
    form = communication_form(victim)
    closes = form.closes_tasks if "closes_tasks" in form else None
    return submit(
        form,
        lambda: family.log_communication(
            actor=current_user,
            victim=victim,
            closes_task_ids=(closes.data or []) if closes is not None else (),
            **form_values(form, "closes_tasks"),
        ),
        done=_("Communication recorded."),
        then=lambda _communication: victim_url(victim, "communications"),
        template=RECORD_FORM,
        victim=victim,
        title=_("Record a communication"),
    )
