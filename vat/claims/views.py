"""Claims blueprint: parse, call one service, commit once, redirect. Scope is applied by the
service's queries (a claim of a victim outside the user's scope answers 404)."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3 has it; its stubs predate it

from vat.auth.policy import Permission, requires
from vat.claims import correspondence, listing, pipeline, support
from vat.claims.forms import (
    STEP_FORMS,
    ChooseVictimForm,
    ClaimForm,
    FatherForm,
    FilterForm,
    InformForm,
    LetterForm,
    PaymentForm,
    ReopenForm,
    step_details,
)
from vat.claims.labels import claim_label
from vat.claims.models import Claim, ClaimStep
from vat.db import commit_keeping_loaded, db, read_only
from vat.errors import DomainError
from vat.inputs import InvalidField, country_choices, today
from vat.victims import identity
from vat.victims import listing as victim_listing

bp = Blueprint("claims", __name__, url_prefix="/vat/claims")

PER_PAGE = 50


@bp.context_processor
def helpers() -> dict[str, Any]:
    return {"claim_label": claim_label}


def show_error(form: FlaskForm, error: DomainError) -> None:
    """Put a service's refusal on the field it names, or at the top of the page."""
    if isinstance(error, InvalidField) and error.field in form:
        form[error.field].errors = [*form[error.field].errors, str(error)]
    else:
        flash(str(error), "error")


def load_claim(claim_id: int) -> Claim:
    claim = listing.get_claim(current_user, claim_id, for_update=request.method == "POST")
    if claim is None:
        abort(404)
    return claim


def to_claim(claim: Claim, anchor: str = "") -> Response:
    return redirect(url_for("claims.show", claim_id=claim.id) + (f"#{anchor}" if anchor else ""))


def countries(blank: str = "—") -> list[SelectChoice]:
    return [SelectChoice("", blank)] + [SelectChoice(code, label) for code, label in country_choices()]


# --- list and dashboard -----------------------------------------------------------------------


@bp.get("/")
@requires(Permission.VIEW_CASES)
def index() -> str:
    form = FilterForm(request.args)
    filters = listing.ClaimFilters()
    if form.validate():
        filters = listing.ClaimFilters(
            country_code=(form.country_code.data or "").strip().upper(),
            step=form.step.data if form.step.data in set(ClaimStep) else "",
            member_state=(form.member_state.data or "").strip().upper(),
            victim_id=request.args.get("victim", type=int),
        )
    page = listing.claims_page(
        current_user,
        filters,
        page=request.args.get("page", 1, type=int) or 1,
        per_page=PER_PAGE,
        kept_as=("claims", current_user.id, filters),
    )
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "vat/claims/index.html",
        form=form,
        rows=page.items,
        count=page.total,
        page_number=page.page,
        pages=page.pages,
        args=args,
        summary=listing.dashboard(current_user),
        no_update_days=victim_listing.no_update_days(),
    )


# --- open a claim -----------------------------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
@requires(Permission.EDIT_CASES)
def new() -> str | tuple[str, int] | Response:
    victim_id = request.args.get("victim", type=int)
    if victim_id is None:
        with read_only():  # a lookup: on SQLite it need not wait for the write lock
            return choose_victim()
    victim = identity.get_victim(current_user, victim_id)
    if victim is None:
        abort(404)
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
    if request.method == "GET":
        form.opened_on.data = today()
        form.child_ids.data = [c.id for c in victim.children]
        if victim.allegations and victim.allegations[0].perpetrator_country:
            form.father_nationality.data = victim.allegations[0].perpetrator_country
    if form.validate_on_submit():
        try:
            claim = pipeline.open_claim(
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
                with_consent=form.with_consent.data,
            )
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            commit_keeping_loaded()  # what follows reads no expired row
            flash(_("Claim %(code)s opened.", code=claim.code), "success")
            return to_claim(claim)
    return render_template("vat/claims/new.html", form=form, victim=victim)


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
    identity = pipeline.read_father_identity(actor=current_user, claim=claim)
    db.session.commit()
    plan = support.schedule(claim.orders, claim.payments) if claim.orders else None
    return render_template(
        "vat/claims/show.html",
        claim=claim,
        identity=identity,
        next_steps=[s for s in pipeline.allowed_steps(claim) if s in STEP_FORMS],
        waiting=correspondence.waiting(claim),
        plan=plan,
        update_owed=correspondence.victim_update_owed(claim),
        no_update=correspondence.victim_without_update(claim),
        no_update_days=victim_listing.no_update_days(),
        consent_in_force=claim.share_consent is not None and claim.share_consent.active,
        steps=ClaimStep,
    )


@bp.route("/<int:claim_id>/father", methods=["GET", "POST"])
@requires(Permission.EDIT_CASES)
def edit_father(claim_id: int) -> str | Response:
    claim = load_claim(claim_id)
    form = FatherForm()
    form.father_nationality.choices = countries()
    if request.method == "GET":
        identity = pipeline.read_father_identity(actor=current_user, claim=claim)
        db.session.commit()
        form.process(
            data={
                **identity,
                "father_nationality": claim.father_nationality or "",
                "father_category": claim.father_category,
            }
        )
    if form.validate_on_submit():
        try:
            pipeline.update_father(actor=current_user, claim=claim, **step_details(form))
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            commit_keeping_loaded()  # what follows reads no expired row
            flash(_("Alleged father's details saved."), "success")
            return to_claim(claim)
    return render_template(
        "vat/claims/record_form.html", form=form, claim=claim, title=_("Alleged father"), submit=_("Save")
    )


@bp.route("/<int:claim_id>/step/<step>", methods=["GET", "POST"])
@requires(Permission.EDIT_CASES)
def step(claim_id: int, step: str) -> str | Response:
    claim = load_claim(claim_id)
    try:
        target = ClaimStep(step)
    except ValueError:
        abort(404)
    if target not in STEP_FORMS:
        abort(404)
    form = STEP_FORMS[target]()
    if request.method == "GET":
        form.on.data = today()
        if "starts_on" in form:
            form["starts_on"].data = today()
        if "father_sampled_on" in form:
            form["father_sampled_on"].data = today()
        if target not in pipeline.TRANSITIONS[claim.current_step]:
            flash(str(pipeline.illegal_move(claim, target)), "error")
    if form.validate_on_submit():
        try:
            pipeline.advance(actor=current_user, claim=claim, to=target, **step_details(form))
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            commit_keeping_loaded()  # what follows reads no expired row
            flash(
                _("Claim %(code)s: %(step)s. Now tell the victim.", code=claim.code, step=target.label),
                "success",
            )
            return redirect(url_for("claims.inform", claim_id=claim.id))
    return render_template(
        "vat/claims/record_form.html",
        form=form,
        claim=claim,
        title=target.action,
        submit=_("Record this step"),
    )


@bp.route("/<int:claim_id>/reopen", methods=["GET", "POST"])
@requires(Permission.EDIT_CASES)
def reopen(claim_id: int) -> str | Response:
    claim = load_claim(claim_id)
    form = ReopenForm()
    if request.method == "GET":
        form.on.data = today()
    if form.validate_on_submit():
        try:
            pipeline.reopen(actor=current_user, claim=claim, on=form.on.data)
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            commit_keeping_loaded()  # what follows reads no expired row
            flash(_("Claim %(code)s reopened. Now tell the victim.", code=claim.code), "success")
            return redirect(url_for("claims.inform", claim_id=claim.id))
    return render_template(
        "vat/claims/record_form.html", form=form, claim=claim, title=_("Reopen the claim"), submit=_("Reopen")
    )


@bp.route("/<int:claim_id>/letters/new", methods=["GET", "POST"])
@requires(Permission.EDIT_CASES)
def letter(claim_id: int) -> str | Response:
    claim = load_claim(claim_id)
    form = LetterForm()
    if request.method == "GET":
        form.dated_on.data = today()
        form.direction.data = request.args.get("direction", "sent")
    if form.validate_on_submit():
        try:
            correspondence.record_letter(actor=current_user, claim=claim, **step_details(form))
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            commit_keeping_loaded()  # what follows reads no expired row
            flash(_("Correspondence recorded."), "success")
            return to_claim(claim, "letters")
    return render_template(
        "vat/claims/record_form.html",
        form=form,
        claim=claim,
        title=_("Member-state correspondence"),
        submit=_("Save"),
    )


@bp.route("/<int:claim_id>/payments/new", methods=["GET", "POST"])
@requires(Permission.EDIT_CASES)
def payment(claim_id: int) -> str | Response:
    claim = load_claim(claim_id)
    form = PaymentForm()
    if request.method == "GET":
        form.token.data = secrets.token_urlsafe(24)
        form.received_on.data = today()
        if claim.orders:
            form.currency_code.data = claim.orders[-1].currency
    if form.validate_on_submit():
        before = claim.step
        try:
            support.record_payment(actor=current_user, claim=claim, **step_details(form))
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            commit_keeping_loaded()  # what follows reads no expired row
            flash(_("Payment recorded."), "success")
            if claim.step != before:
                return redirect(url_for("claims.inform", claim_id=claim.id))
            return to_claim(claim, "schedule")
    return render_template(
        "vat/claims/record_form.html", form=form, claim=claim, title=_("Record a payment"), submit=_("Save")
    )


@bp.route("/<int:claim_id>/inform", methods=["GET", "POST"])
@requires(Permission.EDIT_CASES)
def inform(claim_id: int) -> str | Response:
    claim = load_claim(claim_id)
    form = InformForm()
    if request.method == "GET":
        form.occurred_on.data = today()
        form.summary.data = correspondence.update_text(claim)
    if form.validate_on_submit():
        values: dict[str, Any] = step_details(form)
        try:
            correspondence.inform_victim(actor=current_user, claim=claim, **values)
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            commit_keeping_loaded()  # what follows reads no expired row
            flash(_("Update to the victim recorded."), "success")
            return to_claim(claim)
    return render_template(
        "vat/claims/record_form.html",
        form=form,
        claim=claim,
        title=_("Record the update given to the victim"),
        submit=_("Save"),
        prompt=correspondence.victim_update_owed(claim),
    )
