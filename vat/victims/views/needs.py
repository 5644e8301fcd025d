"""The victim's needs assessed, and the victim's feedback on a service or a case update."""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from vat.auth.policy import Permission, requires
from vat.victims import needs
from vat.victims.forms import FeedbackForm, NeedForm
from vat.victims.labels import vat_label
from vat.victims.models import Assistance, Communication, ServiceType, Victim
from vat.victims.views.blueprint import RECORD_FORM, bp, load_victim, on_file, record_on_file

NEED_LEDE = _l("Assessing a need already assessed replaces its status and reason.")


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
    return render_template(
        RECORD_FORM, form=_need_form(victim), victim=victim, title=_("Assess a need"), lede=NEED_LEDE
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
        lede=NEED_LEDE,
    )


FEEDBACK_TITLE = _l("Record the victim's feedback")


def _feedback_page(victim: Victim, about: str) -> str:
    return render_template(RECORD_FORM, form=FeedbackForm(), victim=victim, title=FEEDBACK_TITLE, lede=about)


def _record_feedback(victim: Victim, about: str, anchor: str, **record: Any) -> Response | tuple[str, int]:
    """The feedback form's POST, about the service or the case update in `record`."""
    return record_on_file(
        victim,
        FeedbackForm(),
        partial(needs.record_feedback, **record),
        done=_("Feedback recorded."),
        anchor=anchor,
        title=str(FEEDBACK_TITLE),
        lede=about,
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
    return _feedback_page(victim, _about_service(on_file(victim, Assistance, service_id)))


@bp.post("/victims/<int:victim_id>/assistance/<int:service_id>/feedback/new")
@requires(Permission.EDIT_CASES)
def record_service_feedback(victim_id: int, service_id: int) -> Response | tuple[str, int]:
    victim = load_victim(victim_id)
    service = on_file(victim, Assistance, service_id)
    return _record_feedback(victim, _about_service(service), "services", service=service)


@bp.get("/victims/<int:victim_id>/communications/<int:communication_id>/feedback/new")
@requires(Permission.EDIT_CASES)
def new_update_feedback(victim_id: int, communication_id: int) -> str:
    victim = load_victim(victim_id)
    return _feedback_page(victim, _about_update(on_file(victim, Communication, communication_id)))


@bp.post("/victims/<int:victim_id>/communications/<int:communication_id>/feedback/new")
@requires(Permission.EDIT_CASES)
def record_update_feedback(victim_id: int, communication_id: int) -> Response | tuple[str, int]:
    victim = load_victim(victim_id)
    communication = on_file(victim, Communication, communication_id)
    return _record_feedback(
        victim, _about_update(communication), "communications", communication=communication
    )
