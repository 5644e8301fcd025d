"""The accountability cycle's pages on the allegations blueprint: record a dated step, record a
letter with the member state, and each member state's correspondence log."""

from __future__ import annotations

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from vat import inputs
from vat.allegations import accountability
from vat.allegations.cycle_forms import CycleStepForm
from vat.allegations.views import bp, load_allegation
from vat.auth.policy import Permission, requires
from vat.claims.correspondence import unanswered
from vat.claims.forms import LetterForm
from vat.claims.labels import claim_label
from vat.inputs import today
from vat.submission import submit
from vat.victims.views.blueprint import form_values

RECORD_FORM = "vat/allegations/record_form.html"


@bp.context_processor
def letter_labels() -> dict[str, object]:
    """The letters' directions and channels are the claims' words."""
    return {"claim_label": claim_label}


def _step_page() -> dict[str, str]:
    return {"title": _("Record a step of the accountability cycle"), "submit": _("Save")}


@bp.get("/<int:allegation_id>/cycle/new")
@requires(Permission.EDIT_CASES)
def cycle_step(allegation_id: int) -> str:
    allegation = load_allegation(allegation_id)
    form = CycleStepForm()
    chosen = request.args.get("step", "")
    form.offer(chosen)
    form.step.data = chosen or None
    form.dated_on.data = today()
    return render_template(RECORD_FORM, form=form, allegation=allegation, **_step_page())


@bp.post("/<int:allegation_id>/cycle/new")
@requires(Permission.EDIT_CASES)
def record_cycle_step(allegation_id: int) -> Response | tuple[str, int]:
    allegation = load_allegation(allegation_id)
    form = CycleStepForm()
    form.offer(None)
    return submit(
        form,
        lambda: accountability.record_step(actor=current_user, allegation=allegation, **form_values(form)),
        done=_("Step recorded."),
        then=lambda _step: url_for("allegations.show", allegation_id=allegation.id, _anchor="cycle"),
        template=RECORD_FORM,
        refused_status=200,
        allegation=allegation,
        **_step_page(),
    )


def _letter_page() -> dict[str, str]:
    return {"title": _("Member-state correspondence"), "submit": _("Save")}


@bp.get("/<int:allegation_id>/letters/new")
@requires(Permission.EDIT_CASES)
def letter(allegation_id: int) -> str:
    allegation = load_allegation(allegation_id)
    form = LetterForm()
    form.dated_on.data = today()
    form.direction.data = "received" if request.args.get("direction") == "received" else "sent"
    return render_template(RECORD_FORM, form=form, allegation=allegation, **_letter_page())


@bp.post("/<int:allegation_id>/letters/new")
@requires(Permission.EDIT_CASES)
def record_letter(allegation_id: int) -> Response | tuple[str, int]:
    allegation = load_allegation(allegation_id)
    form = LetterForm()
    return submit(
        form,
        lambda: accountability.record_letter(actor=current_user, allegation=allegation, **form_values(form)),
        done=_("Correspondence recorded."),
        then=lambda _letter: url_for("allegations.show", allegation_id=allegation.id, _anchor="letters"),
        template=RECORD_FORM,
        refused_status=200,
        allegation=allegation,
        **_letter_page(),
    )


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
