"""Claims blueprint: a GET shows a page or a form; a POST hands its form and one service call to
`submit` (validate, commit once, redirect). Scope is applied by the services' queries (a claim of
a victim outside the user's scope answers 404)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3 has it; its stubs predate it

from vat.addresses import record_id
from vat.auth.policy import Permission, requires
from vat.claims import case_views, correspondence, frameworks, legal, listing, pipeline, support
from vat.claims.blueprint import (
    CLAIM,
    bp,
    claim_url,
    countries,
    inform_url,
    letter_form,
    load_claim,
)
from vat.claims.forms import (
    STEP_FORMS,
    ChooseVictimForm,
    ClaimForm,
    FatherForm,
    FilterForm,
    InformForm,
    OrderForm,
    PaymentForm,
    ReopenForm,
)
from vat.claims.labels import claim_label
from vat.claims.models import Claim, ClaimStep
from vat.forms_on_parent import FormOn, route_form
from vat.inputs import today
from vat.paging import page_number
from vat.plausibility import checked
from vat.sorting import without_sort
from vat.submission import form_values, submit, written_apart
from vat.victims import identity
from vat.victims import listing as victim_listing
from vat.victims.models import Victim
from vat.victims.views.blueprint import load_victim

__all__ = ["bp", "case_views"]  # case_views registers its pages on bp as it is imported

PER_PAGE = 50


# --- list and dashboard -----------------------------------------------------------------------


@bp.get("/")
@requires(Permission.VIEW_CASES)
def index() -> str:
    form = FilterForm(request.args)
    filters = _filters(form) if form.validate() else listing.ClaimFilters()
    sort = listing.SORTS.chosen(request.args)
    page = listing.claims_page(
        current_user, filters, page=page_number(request.args.get("page")), per_page=PER_PAGE, sort=sort
    )
    args = without_sort(request.args)
    return render_template(
        "vat/claims/index.html",
        form=form,
        rows=page.items,
        count=page.total,
        page_number=page.page,
        pages=page.pages,
        args=args,
        sort=sort,
        summary=listing.dashboard(current_user),
        no_update_days=victim_listing.no_update_days(),
    )


def _filters(form: FilterForm) -> listing.ClaimFilters:
    """The list's filters, from a valid filter form."""
    return listing.ClaimFilters(
        country_code=(form.country_code.data or "").strip().upper(),
        step=form.step.data if form.step.data in set(ClaimStep) else "",
        member_state=(form.member_state.data or "").strip().upper(),
        victim_id=record_id(request.args.get("victim")),
    )


# --- open a claim -----------------------------------------------------------------------------


def chosen_victim() -> Victim | None:
    """The victim the address names (404 outside the user's scope); None if it names none yet."""
    victim_id = record_id(request.args.get("victim"))
    return None if victim_id is None else load_victim(victim_id)


def claim_form(victim: Victim) -> ClaimForm:
    """The form to open a claim, offering this victim's children and allegations."""
    form = ClaimForm()
    form.child_ids.choices = [
        SelectChoice(
            c.id,
            _("Child %(num)s, born %(date)s, %(sex)s")
            % {
                "num": n,
                "date": c.birth_date.isoformat() if c.birth_date else _("date unknown"),
                "sex": claim_label(c.sex),
            },
        )
        for n, c in enumerate(victim.children, start=1)
    ]
    form.allegation_id.choices = [SelectChoice("", "—")] + [
        SelectChoice(str(a.id), a.reference) for a in victim.allegations
    ]
    form.father_nationality.choices = countries()
    form.member_state.choices = countries(_("same as nationality"))
    return form


@bp.get("/new")
@requires(Permission.EDIT_CASES)
def new() -> str | tuple[str, int] | Response:
    victim = chosen_victim()
    if victim is None:
        return choose_victim()
    form = claim_form(victim)
    form.opened_on.data = today()
    form.child_ids.data = [c.id for c in victim.children] if request.args.get("expecting") != "1" else []
    if victim.allegations and victim.allegations[0].perpetrator_country:
        form.father_nationality.data = victim.allegations[0].perpetrator_country
    return render_template("vat/claims/new.html", form=form, victim=victim)


@bp.post("/new")
@requires(Permission.EDIT_CASES)
def open_claim() -> str | tuple[str, int] | Response:
    victim = chosen_victim()
    if victim is None:
        return choose_victim()
    form = claim_form(victim)
    return submit(
        form,
        lambda: pipeline.open_claim(
            actor=current_user,
            victim=victim,
            child_ids=form.child_ids.data or [],
            allegation_id=int(form.allegation_id.data) if form.allegation_id.data else None,
            father_name=form.father_name.data,
            father_service_number=form.father_service_number.data,
            father_unit=form.father_unit.data,
            father_nationality=form.father_nationality.data,
            father_category=form.father_category.data,
            member_state=form.member_state.data,
            opened_on=form.opened_on.data,
            expected_birth_on=form.expected_birth_on.data,
            with_consent=form.with_consent.data,
        ),
        done=lambda claim: _("Claim %(code)s opened.", code=claim.code),
        then=claim_url,
        template="vat/claims/new.html",
        refused_status=200,
        victim=victim,
    )


def choose_victim() -> str | tuple[str, int] | Response:
    """The first step: the victim by case code. A code outside the user's scope gets the same
    answer as one that does not exist."""
    chooser = ChooseVictimForm(request.args)
    if "case_code" not in request.args or not chooser.validate():
        return render_template("vat/claims/choose_victim.html", form=chooser)
    victim = identity.find_by_case_code(current_user, chooser.case_code.data or "")
    if victim is None:
        chooser.case_code.errors = [_("No victim in your scope has that case code.")]
        return render_template("vat/claims/choose_victim.html", form=chooser), 404
    return redirect(url_for("claims.new", victim=victim.id))


# --- the claim page ---------------------------------------------------------------------------


@bp.get("/<int:claim_id>")
@requires(Permission.VIEW_IDENTITY)
def show(claim_id: int) -> str:
    claim = load_claim(claim_id)
    with written_apart():  # the father's identity shown once its reading is recorded
        identity_shown = pipeline.read_father_identity(actor=current_user, claim=claim)
    plan = support.schedule(claim.orders, claim.payments) if claim.orders else None
    return render_template(
        "vat/claims/show.html",
        claim=claim,
        identity=identity_shown,
        next_steps=[s for s in pipeline.allowed_steps(claim) if s in STEP_FORMS],
        waiting=correspondence.waiting(claim),
        plan=plan,
        update_owed=correspondence.victim_update_owed(claim),
        steps_told=correspondence.steps_to_tell(claim),
        no_update=correspondence.victim_without_update(claim),
        no_update_days=victim_listing.no_update_days(),
        consent_in_force=claim.share_consent is not None and claim.share_consent.active,
        steps=ClaimStep,
        framework=frameworks.framework_for(claim.member_state),
        reversed_ids={p.reverses_id for p in claim.payments if p.reverses_id is not None},
        can_link_child=bool(legal.unlinked_children(claim)) or claim.expecting,
        can_link_support=bool(legal.unlinked_services(claim)),
    )


# --- the forms that record on a claim -----------------------------------------------------------
#
# Each is a GET that shows the form (prefilled) and a POST that records it; both render
# record_form.html with the page's title and button.


def _father_choices(form: FatherForm, _claim: Claim) -> None:
    form.father_nationality.choices = countries()


def _prefill_father(form: FatherForm, claim: Claim) -> None:
    """The father's identity shown is audited, and the audit row committed before the page."""
    with written_apart():
        identity_shown = pipeline.read_father_identity(actor=current_user, claim=claim)
    form.process(
        data={
            **identity_shown,
            "father_nationality": claim.father_nationality or "",
            "father_category": claim.father_category,
        }
    )


route_form(
    CLAIM,
    "edit_father",
    "save_father",
    FormOn(
        path="father",
        title=_l("Alleged father"),
        button=_l("Save"),
        form_class=FatherForm,
        choices=_father_choices,
        prefill=_prefill_father,
        service=pipeline.update_father,
        done=_l("Alleged father's details saved."),
    ),
)


def step_target(step: str) -> ClaimStep:
    """The step named in the URL, if it is one an advocate records with a form (404 otherwise)."""
    try:
        target = ClaimStep(step)
    except ValueError:
        abort(404)
    if target not in STEP_FORMS:
        abort(404)
    return target


def step_page(target: ClaimStep) -> dict[str, Any]:
    return {"title": target.action, "submit": _("Record this step")}


@bp.get("/<int:claim_id>/step/<step>")
@requires(Permission.EDIT_CASES)
def step(claim_id: int, step: str) -> str:
    claim = load_claim(claim_id)
    target = step_target(step)
    form = STEP_FORMS[target]()
    form.on.data = today()
    for starts_today in ("starts_on", "father_sampled_on"):
        if starts_today in form:
            form[starts_today].data = today()
    if target not in pipeline.TRANSITIONS[claim.current_step]:
        flash(str(pipeline.illegal_move(claim, target)), "error")
    return CLAIM.show(form, claim, **step_page(target))


@bp.post("/<int:claim_id>/step/<step>")
@requires(Permission.EDIT_CASES)
def record_step(claim_id: int, step: str) -> tuple[str, int] | Response:
    claim = load_claim(claim_id, for_update=True)
    target = step_target(step)
    form = STEP_FORMS[target]()
    run: Callable[[], Any] = lambda: pipeline.advance(  # noqa: E731
        actor=current_user, claim=claim, to=target, **form_values(form, "amount_confirmed")
    )
    if isinstance(form, OrderForm):  # a court order's amount: far beyond the usual, confirmed first
        run = checked(form, run, support.ORDERS, form.currency.data or "")
    return CLAIM.save(
        form,
        claim,
        run,
        done=_("Claim %(code)s: %(step)s. Now tell the victim.", code=claim.code, step=target.label),
        then=lambda _event: inform_url(claim),
        **step_page(target),
    )


def _prefill_reopen(form: ReopenForm, _claim: Claim) -> None:
    form.on.data = today()


route_form(
    CLAIM,
    "reopen",
    "reopen_claim",
    FormOn(
        path="reopen",
        title=_l("Reopen the claim"),
        button=_l("Reopen"),
        form_class=ReopenForm,
        prefill=_prefill_reopen,
        service=pipeline.reopen,
        done=lambda claim: _("Claim %(code)s reopened. Now tell the victim.", code=claim.code),
        then=lambda claim, _event: inform_url(claim),
    ),
)


route_form(CLAIM, "letter", "record_letter", letter_form(correspondence.record_letter))


def _prefill_payment(form: PaymentForm, claim: Claim) -> None:
    form.token.data = secrets.token_urlsafe(24)
    form.received_on.data = today()
    if claim.orders:
        form.currency_code.data = claim.orders[-1].currency


def _record_payment(form: PaymentForm, claim: Claim) -> bool:
    """Record the payment; whether it moved the claim on (the first payment does)."""
    before = claim.step
    support.record_payment(actor=current_user, claim=claim, **form_values(form))
    return claim.step != before


route_form(
    CLAIM,
    "payment",
    "record_payment",
    FormOn(
        path="payments/new",
        title=_l("Record a payment"),
        button=_l("Save"),
        form_class=PaymentForm,
        prefill=_prefill_payment,
        record=_record_payment,
        done=_l("Payment recorded."),
        # a claim moved on owes the victim an update
        then=lambda claim, moved: inform_url(claim) if moved else claim_url(claim, "schedule"),
    ),
)


def _prefill_update(form: InformForm, claim: Claim) -> None:
    form.occurred_on.data = today()
    form.summary.data = correspondence.update_text(claim)


route_form(
    CLAIM,
    "inform",
    "record_update",
    FormOn(
        path="inform",
        title=_l("Record the update given to the victim"),
        form_class=InformForm,
        prefill=_prefill_update,
        service=correspondence.inform_victim,
        done=_l("Update to the victim recorded."),
        more=lambda claim: {"prompt": correspondence.victim_update_owed(claim)},
    ),
)
