"""The claim as a case at law and the care around it (legal details, DNA cost, the child linked
once born, interim support, payment reversals), and the member states' frameworks. Each form is a
GET that shows it and a POST that records it through one service; most are rows registered by
route_form."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3 has it; its stubs predate it

from vat.auth.policy import Permission, requires
from vat.claims import correspondence, frameworks, legal, support
from vat.claims.blueprint import (
    CLAIM,
    bp,
    claim_url,
    countries,
    load_claim,
)
from vat.claims.forms import (
    DnaCostForm,
    FrameworkForm,
    LegalForm,
    LinkChildForm,
    LinkSupportForm,
    ReversalForm,
)
from vat.claims.labels import claim_label
from vat.claims.models import Claim
from vat.forms_on_parent import FormOn, route_form
from vat.inputs import today
from vat.submission import form_values, submit, text
from vat.victims.forms import LetterForm
from vat.victims.labels import vat_label
from vat.victims.models import Child
from vat.victims.views.letters import letter_download

# --- the case at law ----------------------------------------------------------------------------


def _prefill_legal(form: LegalForm, claim: Claim) -> None:
    form.process(
        data={
            "applicable_law": claim.applicable_law or "",
            "forum": claim.forum or "",
            "representation": claim.representation or "",
            "represented_by": claim.represented_by,
            "filed_on": claim.filed_on,
            "hearing_on": claim.hearing_on,
            "judgment_on": claim.judgment_on,
        }
    )


def _law_choices(form: LegalForm, _claim: Claim) -> None:
    form.applicable_law.choices = countries()


route_form(
    CLAIM,
    "legal_details",
    "save_legal",
    FormOn(
        path="legal",
        title=_l("Law, forum and representation"),
        form_class=LegalForm,
        choices=_law_choices,
        prefill=_prefill_legal,
        service=legal.record_legal,
        done=_l("Law, forum and representation saved."),
        then="legal",
    ),
)


def _prefill_dna_cost(form: DnaCostForm, claim: Claim) -> None:
    form.process(
        data={
            "amount": claim.dna_cost,
            "currency": claim.dna_cost_currency,
            "paid_by": claim.dna_cost_paid_by,
        }
    )


route_form(
    CLAIM,
    "dna_cost",
    "save_dna_cost",
    FormOn(
        path="dna-cost",
        title=_l("DNA test cost"),
        form_class=DnaCostForm,
        prefill=_prefill_dna_cost,
        service=legal.record_dna_cost,
        usual=lambda form: (legal.DNA_COSTS, text(form.currency)),
        done=_l("DNA test cost saved."),
        then="legal",
    ),
)


# --- the child born, and interim support -----------------------------------------------------------


def _child_choices(form: LinkChildForm, claim: Claim) -> None:
    form.child_id.choices = [SelectChoice("", _("— the child just born (below)"))] + [
        SelectChoice(
            str(c.id),
            _("born %(date)s", date=c.birth_date.isoformat() if c.birth_date else _("date unknown"))
            + f" ({claim_label(c.sex)})",
        )
        for c in legal.unlinked_children(claim)
    ]


def _prefill_birth(form: LinkChildForm, _claim: Claim) -> None:
    form.birth_date.data = today()


def _link_child(form: LinkChildForm, claim: Claim) -> Child:
    return legal.link_child(
        actor=current_user,
        claim=claim,
        child_id=int(form.child_id.data) if form.child_id.data else None,
        birth_date=form.birth_date.data,
        sex=form.sex.data,
    )


route_form(
    CLAIM,
    "link_child",
    "save_child_link",
    FormOn(
        path="children/link",
        title=_l("Link the child to the claim"),
        button=_l("Link"),
        form_class=LinkChildForm,
        choices=_child_choices,
        prefill=_prefill_birth,
        record=_link_child,
        done=_l("Child linked to the claim."),
    ),
)


def _support_choices(form: LinkSupportForm, claim: Claim) -> None:
    form.assistance_id.choices = [SelectChoice("", "—")] + [
        SelectChoice(
            str(s.id),
            " · ".join(
                part
                for part in (
                    vat_label(s.service_type),
                    vat_label(s.status),
                    s.start_date.isoformat() if s.start_date else "",
                )
                if part
            ),
        )
        for s in legal.unlinked_services(claim)
    ]


route_form(
    CLAIM,
    "link_support",
    "save_support_link",
    FormOn(
        path="support/link",
        title=_l("Link interim support to the claim"),
        button=_l("Link"),
        form_class=LinkSupportForm,
        choices=_support_choices,
        record=lambda form, claim: legal.link_support(
            actor=current_user, claim=claim, assistance_id=int(form.assistance_id.data or 0)
        ),
        done=_l("Interim support linked to the claim."),
        then="interim-support",
    ),
)


# --- corrections: a payment reversed ---------------------------------------------------------------


def reversal_page() -> dict[str, Any]:
    return {"title": _("Reverse a payment"), "submit": _("Reverse the payment")}


@bp.get("/<int:claim_id>/payments/<int:payment_id>/reverse")
@requires(Permission.EDIT_CASES)
def reversal(claim_id: int, payment_id: int) -> str:
    claim = load_claim(claim_id)
    if all(p.id != payment_id for p in claim.payments):
        abort(404)
    form = ReversalForm()
    form.payment_id.data = str(payment_id)
    form.on.data = today()
    return CLAIM.show(form, claim, **reversal_page())


@bp.post("/<int:claim_id>/payments/<int:payment_id>/reverse")
@requires(Permission.EDIT_CASES)
def reverse_payment(claim_id: int, payment_id: int) -> tuple[str, int] | Response:
    claim = load_claim(claim_id, for_update=True)
    form = ReversalForm()
    return CLAIM.save(
        form,
        claim,
        lambda: support.reverse_payment(
            actor=current_user, claim=claim, payment_id=payment_id, reason=form.reason.data, on=form.on.data
        ),
        done=_("Payment reversed. Record the right payment if one was received."),
        then=lambda _reversal: claim_url(claim, "schedule"),
        **reversal_page(),
    )


# --- the member states' frameworks -----------------------------------------------------------------


@bp.get("/frameworks")
@requires(Permission.EDIT_FRAMEWORKS)
def framework_list() -> str:
    return render_template("vat/claims/frameworks.html", frameworks=frameworks.all_frameworks())


def framework_form() -> FrameworkForm:
    form = FrameworkForm()
    form.member_state.choices = countries()
    return form


FRAMEWORK_FORM = "vat/claims/framework_form.html"


@bp.get("/frameworks/edit")
@requires(Permission.EDIT_FRAMEWORKS)
def framework() -> str:
    form = framework_form()
    state = (request.args.get("state") or "").strip().upper()
    found = frameworks.framework_for(state) if state else None
    if found is not None:
        form.process(
            data={
                name: getattr(found, name)
                for name in ("member_state", "focal_point", "documents", "laboratory", *frameworks.DAY_FIELDS)
            }
            | {"forum": found.forum or ""}
        )
    elif state:
        form.member_state.data = state
    return render_template(FRAMEWORK_FORM, form=form)


@bp.post("/frameworks/edit")
@requires(Permission.EDIT_FRAMEWORKS)
def save_framework() -> str | tuple[str, int] | Response:
    form = framework_form()
    return submit(
        form,
        lambda: frameworks.save_framework(actor=current_user, **form_values(form)),
        done=lambda saved: _("Framework for %(state)s saved.", state=saved.member_state),
        then=lambda _saved: url_for("claims.framework_list"),
        template=FRAMEWORK_FORM,
        refused_status=200,
    )


# --- the letter telling the victim the claim's step ---------------------------------------------


def _step_letter_page(claim: Claim, form: LetterForm) -> str:
    told = next(iter(correspondence.steps_to_tell(claim)), None)  # the open one first
    return render_template("vat/claims/step_letter.html", claim=claim, form=form, told=told)


@bp.get("/<int:claim_id>/step-letter")
@requires(Permission.EDIT_CASES)
def step_letter_page(claim_id: int) -> str:
    return _step_letter_page(load_claim(claim_id), LetterForm())


@bp.post("/<int:claim_id>/step-letter")
@requires(Permission.EDIT_CASES)
def step_letter(claim_id: int) -> Response | tuple[str, int]:
    claim, form = load_claim(claim_id), LetterForm()
    return letter_download(
        form,
        lambda: correspondence.step_letter(actor=current_user, claim=claim, language=form.language.data),
        again=lambda: _step_letter_page(claim, form),
        name=f"{claim.code}-step-letter-{claim.current_step.value}",
    )
