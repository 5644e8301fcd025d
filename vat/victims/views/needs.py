"""The victim's needs assessed, and the victim's feedback on a service or a case update."""

from __future__ import annotations

from flask import abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from vat.auth.policy import Permission, requires
from vat.db import db
from vat.submission import submit
from vat.victims import needs
from vat.victims.forms import FeedbackForm, NeedForm
from vat.victims.labels import vat_label
from vat.victims.models import Assistance, Communication, ServiceType, Victim
from vat.victims.views.blueprint import RECORD_FORM, bp, form_values, load_victim, record_on_file, victim_url


def _need_form(victim: Victim) -> NeedForm:
    """The form, opened on a need type named in the address (the victim page's "reassess")."""
    form = NeedForm()
    asked = request.args.get("need_type", "")
    if request.method == "GET" and asked in {t.value for t in ServiceType}:
        form.need_type.data = asked
        current = next((n for n in victim.needs if n.need_type == asked), None)
        if current is not None:
            form.status.data, form.reason.data = current.status, current.reason or ""
    return form


@bp.get("/victims/<int:victim_id>/needs/new")
@requires(Permission.EDIT_CASES)
def new_need(victim_id: int) -> str:
    victim = load_victim(victim_id)
    lede = _("Assessing a need already assessed replaces its status and reason.")
    return render_template(
        RECORD_FORM, form=_need_form(victim), victim=victim, title=_("Assess a need"), lede=lede
    )


@bp.post("/victims/<int:victim_id>/needs/new")
@requires(Permission.EDIT_CASES)
def assess_need(victim_id: int) -> Response | tuple[str, int]:
    return record_on_file(
        load_victim(victim_id),
        NeedForm(),
        needs.assess_need,
        done=_("Need assessed."),
        anchor="needs",
        title=_("Assess a need"),
    )


def _service(victim: Victim, service_id: int) -> Assistance:
    service = db.session.get(Assistance, service_id)
    if service is None or service.victim_id != victim.id:
        abort(404)
    return service


def _update(victim: Victim, communication_id: int) -> Communication:
    communication = db.session.get(Communication, communication_id)
    if communication is None or communication.victim_id != victim.id:
        abort(404)
    return communication


def _feedback_page(victim: Victim, about: str) -> str:
    return render_template(
        RECORD_FORM, form=FeedbackForm(), victim=victim, title=_("Record the victim's feedback"), lede=about
    )


def _about_service(service: Assistance) -> str:
    provider = f" ({service.provider})" if service.provider else ""
    return _("About the %(service)s service", service=vat_label(service.service_type)) + provider + "."


def _about_update(communication: Communication) -> str:
    return _("About the contact of %(date)s.", date=communication.occurred_on.isoformat())


@bp.get("/victims/<int:victim_id>/assistance/<int:service_id>/feedback/new")
@requires(Permission.EDIT_CASES)
def new_service_feedback(victim_id: int, service_id: int) -> str:
    victim = load_victim(victim_id)
    return _feedback_page(victim, _about_service(_service(victim, service_id)))


@bp.post("/victims/<int:victim_id>/assistance/<int:service_id>/feedback/new")
@requires(Permission.EDIT_CASES)
def record_service_feedback(victim_id: int, service_id: int) -> Response | tuple[str, int]:
    victim = load_victim(victim_id)
    service = _service(victim, service_id)
    form = FeedbackForm()
    return submit(
        form,
        lambda: needs.record_feedback(
            actor=current_user, victim=victim, service=service, **form_values(form)
        ),
        done=_("Feedback recorded."),
        then=lambda _feedback: victim_url(victim, "services"),
        template=RECORD_FORM,
        victim=victim,
        title=_("Record the victim's feedback"),
        lede=_about_service(service),
    )


@bp.get("/victims/<int:victim_id>/communications/<int:communication_id>/feedback/new")
@requires(Permission.EDIT_CASES)
def new_update_feedback(victim_id: int, communication_id: int) -> str:
    victim = load_victim(victim_id)
    return _feedback_page(victim, _about_update(_update(victim, communication_id)))


@bp.post("/victims/<int:victim_id>/communications/<int:communication_id>/feedback/new")
@requires(Permission.EDIT_CASES)
def record_update_feedback(victim_id: int, communication_id: int) -> Response | tuple[str, int]:
    victim = load_victim(victim_id)
    communication = _update(victim, communication_id)
    form = FeedbackForm()
    return submit(
        form,
        lambda: needs.record_feedback(
            actor=current_user, victim=victim, communication=communication, **form_values(form)
        ),
        done=_("Feedback recorded."),
        then=lambda _feedback: victim_url(victim, "communications"),
        template=RECORD_FORM,
        victim=victim,
        title=_("Record the victim's feedback"),
        lede=_about_update(communication),
    )
