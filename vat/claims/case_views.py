"""The claim as a case at law and the care around it (legal details, DNA cost, the child linked
once born, interim support, payment reversals), and the member states' frameworks. Each form is a
GET that shows it and a POST that records it through one service."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3 has it; its stubs predate it

from vat.auth.policy import Permission, requires
from vat.claims import frameworks, legal, support
from vat.claims.blueprint import bp, claim_url, countries, load_claim, record_form, record_on_claim
from vat.claims.forms import (
    DnaCostForm,
    FrameworkForm,
    LegalForm,
    LinkChildForm,
    LinkSupportForm,
    ReversalForm,
    step_details,
)
from vat.claims.labels import claim_label
from vat.claims.models import Claim
from vat.inputs import today
from vat.submission import submit
from vat.victims.labels import vat_label

# --- the case at law ----------------------------------------------------------------------------


def legal_form() -> LegalForm:
    form = LegalForm()
    form.applicable_law.choices = countries()
    return form


def legal_page() -> dict[str, Any]:
    return {"title": _("Law, forum and representation"), "submit": _("Save")}


@bp.get("/<int:claim_id>/legal")
@requires(Permission.EDIT_CASES)
def legal_details(claim_id: int) -> str:
    claim = load_claim(claim_id)
    form = legal_form()
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
    return record_form(form, claim, legal_page())


@bp.post("/<int:claim_id>/legal")
@requires(Permission.EDIT_CASES)
def save_legal(claim_id: int) -> tuple[str, int] | Response:
    claim = load_claim(claim_id, for_update=True)
    form = legal_form()
    return record_on_claim(
        form,
        claim,
        legal_page(),
        lambda: legal.record_legal(actor=current_user, claim=claim, **step_details(form)),
        done=_("Law, forum and representation saved."),
        then=lambda saved: claim_url(saved, "legal"),
    )


def dna_cost_page() -> dict[str, Any]:
    return {"title": _("DNA test cost"), "submit": _("Save")}


@bp.get("/<int:claim_id>/dna-cost")
@requires(Permission.EDIT_CASES)
def dna_cost(claim_id: int) -> str:
    claim = load_claim(claim_id)
    form = DnaCostForm()
    form.process(
        data={
            "amount": claim.dna_cost,
            "currency": claim.dna_cost_currency,
            "paid_by": claim.dna_cost_paid_by,
        }
    )
    return record_form(form, claim, dna_cost_page())


@bp.post("/<int:claim_id>/dna-cost")
@requires(Permission.EDIT_CASES)
def save_dna_cost(claim_id: int) -> tuple[str, int] | Response:
    claim = load_claim(claim_id, for_update=True)
    form = DnaCostForm()
    return record_on_claim(
        form,
        claim,
        dna_cost_page(),
        lambda: legal.record_dna_cost(actor=current_user, claim=claim, **step_details(form)),
        done=_("DNA test cost saved."),
        then=lambda saved: claim_url(saved, "legal"),
    )


# --- the child born, and interim support -----------------------------------------------------------


def link_child_form(claim: Claim) -> LinkChildForm:
    form = LinkChildForm()
    form.child_id.choices = [SelectChoice("", _("— the child just born (below)"))] + [
        SelectChoice(
            str(c.id),
            _("born %(date)s", date=c.birth_date.isoformat() if c.birth_date else _("date unknown"))
            + f" ({claim_label(c.sex)})",
        )
        for c in legal.unlinked_children(claim)
    ]
    return form


def link_child_page() -> dict[str, Any]:
    return {"title": _("Link the child to the claim"), "submit": _("Link")}


@bp.get("/<int:claim_id>/children/link")
@requires(Permission.EDIT_CASES)
def link_child(claim_id: int) -> str:
    claim = load_claim(claim_id)
    form = link_child_form(claim)
    form.birth_date.data = today()
    return record_form(form, claim, link_child_page())


@bp.post("/<int:claim_id>/children/link")
@requires(Permission.EDIT_CASES)
def save_child_link(claim_id: int) -> tuple[str, int] | Response:
    claim = load_claim(claim_id, for_update=True)
    form = link_child_form(claim)
    return record_on_claim(
        form,
        claim,
        link_child_page(),
        lambda: legal.link_child(
            actor=current_user,
            claim=claim,
            child_id=int(form.child_id.data) if form.child_id.data else None,
            birth_date=form.birth_date.data,
            sex=form.sex.data,
        ),
        done=_("Child linked to the claim."),
        then=lambda _child: claim_url(claim),
    )


def link_support_form(claim: Claim) -> LinkSupportForm:
    form = LinkSupportForm()
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
    return form


def link_support_page() -> dict[str, Any]:
    return {"title": _("Link interim support to the claim"), "submit": _("Link")}


@bp.get("/<int:claim_id>/support/link")
@requires(Permission.EDIT_CASES)
def link_support(claim_id: int) -> str:
    claim = load_claim(claim_id)
    return record_form(link_support_form(claim), claim, link_support_page())


@bp.post("/<int:claim_id>/support/link")
@requires(Permission.EDIT_CASES)
def save_support_link(claim_id: int) -> tuple[str, int] | Response:
    claim = load_claim(claim_id, for_update=True)
    form = link_support_form(claim)
    return record_on_claim(
        form,
        claim,
        link_support_page(),
        lambda: legal.link_support(
            actor=current_user, claim=claim, assistance_id=int(form.assistance_id.data or 0)
        ),
        done=_("Interim support linked to the claim."),
        then=lambda _service: claim_url(claim, "interim-support"),
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
    return record_form(form, claim, reversal_page())


@bp.post("/<int:claim_id>/payments/<int:payment_id>/reverse")
@requires(Permission.EDIT_CASES)
def reverse_payment(claim_id: int, payment_id: int) -> tuple[str, int] | Response:
    claim = load_claim(claim_id, for_update=True)
    form = ReversalForm()
    return record_on_claim(
        form,
        claim,
        reversal_page(),
        lambda: support.reverse_payment(
            actor=current_user, claim=claim, payment_id=payment_id, reason=form.reason.data, on=form.on.data
        ),
        done=_("Payment reversed. Record the right payment if one was received."),
        then=lambda _reversal: claim_url(claim, "schedule"),
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
        lambda: frameworks.save_framework(actor=current_user, **step_details(form)),
        done=lambda saved: _("Framework for %(state)s saved.", state=saved.member_state),
        then=lambda _saved: url_for("claims.framework_list"),
        template=FRAMEWORK_FORM,
        refused_status=200,
    )
