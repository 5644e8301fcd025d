"""The victim's needs assessed, and the victim's feedback on a service or a case update."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from vat.auth.policy import Permission, requires
from vat.forms_on_parent import FormOn, route_form
from vat.victims import needs
from vat.victims.forms import FeedbackForm, NeedForm
from vat.victims.labels import vat_label
from vat.victims.models import Assistance, Communication, ServiceType, Victim
from vat.victims.views.blueprint import VICTIM, bp, load_victim, on_file, record_on_file

NEED_LEDE = _l("Assessing a need already assessed replaces its status and reason.")


def _prefill_need(form: NeedForm, victim: Victim) -> None:
    """The form opened on a need type named in the address (the victim page's "reassess")."""
    asked = request.args.get("need_type", "")
    if asked in {t.value for t in ServiceType}:
        form.need_type.data = asked
        current = next((n for n in victim.needs if n.need_type == asked), None)
        if current is not None:
            form.status.data, form.reason.data = current.status, current.reason or ""


route_form(
    VICTIM,
    "new_need",
    "assess_need",
    FormOn(
        path="needs/new",
        title=_l("Assess a need"),
        form_class=NeedForm,
        prefill=_prefill_need,
        service=needs.assess_need,
        done=_l("Need assessed."),
        then="needs",
        more=lambda _victim: {"lede": NEED_LEDE},
    ),
)


FEEDBACK_TITLE = _l("Record the victim's feedback")


def _about_service(service: Assistance) -> str:
    provider = f" ({service.provider})" if service.provider else ""
    return _("About the %(service)s service", service=vat_label(service.service_type)) + provider + "."


def _about_update(communication: Communication) -> str:
    return _("About the contact of %(date)s.", date=communication.occurred_on.isoformat())


About = TypeVar("About", Assistance, Communication)


def _feedback_pages(
    endpoint: str,
    kind: str,
    model: type[About],
    path: str,
    about: Callable[[About], str],
    anchor: str,
) -> None:
    """Route the feedback form on one kind of record of the file: `kind` is the record's keyword
    for `needs.record_feedback` and names its id in the URL, below the victim's `path`."""
    id_name = f"{kind}_id"

    def new(victim_id: int, **ids: int) -> str:
        victim = load_victim(victim_id)
        lede = about(on_file(victim, model, ids[id_name]))
        return VICTIM.show(FeedbackForm(), victim, title=FEEDBACK_TITLE, lede=lede)

    def create(victim_id: int, **ids: int) -> Response | tuple[str, int]:
        victim = load_victim(victim_id)
        record = on_file(victim, model, ids[id_name])
        about_record: dict[str, Any] = {kind: record}
        return record_on_file(
            victim,
            FeedbackForm(),
            partial(needs.record_feedback, **about_record),
            done=_("Feedback recorded."),
            anchor=anchor,
            title=FEEDBACK_TITLE,
            lede=about(record),
        )

    url = f"/victims/<int:victim_id>/{path}/<int:{id_name}>/feedback/new"
    allowed = requires(Permission.EDIT_CASES)
    bp.add_url_rule(url, f"new_{endpoint}_feedback", allowed(new), methods=["GET"])
    bp.add_url_rule(url, f"record_{endpoint}_feedback", allowed(create), methods=["POST"])


_feedback_pages("service", "service", Assistance, "assistance", _about_service, "services")
_feedback_pages("update", "communication", Communication, "communications", _about_update, "communications")
