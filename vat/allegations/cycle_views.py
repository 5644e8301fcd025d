"""The accountability cycle's pages on the allegations blueprint: record a dated step, record a
letter with the member state, and each member state's correspondence log."""

from __future__ import annotations

from flask import render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from vat import inputs
from vat.allegations import accountability
from vat.allegations.cycle_forms import CycleStepForm
from vat.allegations.models import Allegation
from vat.allegations.views import bp, load_allegation
from vat.auth.policy import Permission, requires
from vat.claims.blueprint import letter_form
from vat.claims.correspondence import unanswered
from vat.claims.labels import claim_label
from vat.forms_on_parent import FormOn, Parent, route_form
from vat.inputs import today

RECORD_FORM = "vat/allegations/record_form.html"


@bp.context_processor
def letter_labels() -> dict[str, object]:
    """The letters' directions and channels are the claims' words."""
    return {"claim_label": claim_label}


def _load(allegation_id: int, _for_update: bool) -> Allegation:
    return load_allegation(allegation_id)


def _page_url(allegation: Allegation, anchor: str) -> str:
    return url_for("allegations.show", allegation_id=allegation.id, _anchor=anchor or None)


ALLEGATION = Parent(
    bp, "allegation", "/<int:allegation_id>", _load, RECORD_FORM, _page_url, refused_status=200
)


def _prefill_step(form: CycleStepForm, _allegation: Allegation) -> None:
    chosen = request.args.get("step", "")
    form.offer(chosen)
    form.step.data = chosen or None
    form.dated_on.data = today()


route_form(
    ALLEGATION,
    "cycle_step",
    "record_cycle_step",
    FormOn(
        path="cycle/new",
        title=_l("Record a step of the accountability cycle"),
        form_class=CycleStepForm,
        choices=lambda form, _allegation: form.offer(None),
        prefill=_prefill_step,
        service=accountability.record_step,
        done=_l("Step recorded."),
        then="cycle",
    ),
)


route_form(ALLEGATION, "letter", "record_letter", letter_form(accountability.record_letter))


@bp.get("/correspondence")
@requires(Permission.VIEW_IDENTITY)
def correspondence() -> str:
    """A member state's log: the letters about claims and allegations in the user's scope."""
    member_state = request.args.get("member_state", "").strip().upper()[:3]
    lines = accountability.member_state_log(current_user, member_state) if member_state else []
    subjects: dict[tuple[int | None, int | None], list] = {}
    for line in lines:
        subjects.setdefault((line.claim_id, line.allegation_id), []).append(line.letter)
    waits = [
        (key, wait)
        for key, letters in subjects.items()
        if (wait := unanswered(member_state, letters)) is not None
    ]
    return render_template(
        "vat/allegations/correspondence.html",
        member_state=member_state,
        countries=inputs.country_choices(),
        lines=lines,
        waits=dict(waits),
    )
