"""Allegations blueprint: list, record, update, the clock, victims linked, and the clock rules."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # in WTForms 3.3, not its 3.2 stubs

from ledger.reports import withheld
from vat import inputs
from vat.allegations import accountability, clock, services
from vat.allegations.forms import AllegationForm, ClockRuleForm, LinkVictimForm
from vat.allegations.models import STEP_LABELS, Allegation, ClockRule, Outcome, Step
from vat.auth.forms import EmptyForm
from vat.auth.policy import Permission, requires
from vat.db import db
from vat.paging import page_number
from vat.record_form import RecordForm
from vat.sorting import Sort, SortableColumns, without_sort
from vat.submission import act, given, or_404
from vat.victims import identity, outcomes
from vat.victims.labels import step_label
from vat.victims.models import Victim, VictimAllegation

bp = Blueprint("allegations", __name__, url_prefix="/vat/allegations")

NOT_RECORDED_FIELDS = (
    "perpetrator_country",
    "entity_category",
    "sub_type",
    "investigating_entity",
    "investigation_status",
)

ALLEGATION_SORTS = SortableColumns.of(
    Allegation,
    ("received_on", "reference", "country_code", "type", "outcome"),
    Sort("received_on", descending=True),
)


def load_allegation(allegation_id: int) -> Allegation:
    return or_404(services.get_allegation(current_user, allegation_id))


def prepare(form: AllegationForm) -> None:
    countries = sorted({s.country_code for s in current_user.scopes})
    form.country_code.choices = [SelectChoice(c, c) for c in countries]
    form.perpetrator_country.choices = [SelectChoice("", "— unknown —")] + [
        SelectChoice(code, name) for code, name in inputs.country_choices()
    ]


def _allegation_form(allegation: Allegation | None) -> AllegationForm:
    form = AllegationForm()
    prepare(form)
    if allegation is not None:
        form.reference.render_kw = {"readonly": True}
    return form


def _allegation_page_form(allegation: Allegation | None) -> AllegationForm:
    if allegation is None:
        return _allegation_form(None)
    form = AllegationForm(obj=allegation)
    prepare(form)
    for name in NOT_RECORDED_FIELDS:  # NULL, not recorded: the empty choice
        form[name].data = getattr(allegation, name) or ""
    form.reference.render_kw = {"readonly": True}
    return form


ALLEGATION_FORM: RecordForm[Allegation, AllegationForm] = RecordForm(
    template="vat/allegations/form.html",
    name="allegation",
    form=_allegation_form,
    create=services.create_allegation,
    update=services.update_allegation,
    created=lambda allegation: _("Allegation %(reference)s recorded.", reference=allegation.reference),
    updated=_l("Allegation updated."),
    then=lambda allegation: url_for("allegations.show", allegation_id=allegation.id),
    page_form=_allegation_page_form,
    kept=("reference",),
    refused_status=200,
)
ALLEGATION_FORM.route(
    bp, Permission.EDIT_CASES, new_url="/new", edit_url="/<int:allegation_id>/edit", load=load_allegation
)


@bp.get("/")
@requires(Permission.VIEW_IDENTITY)
def index() -> str:
    sort = ALLEGATION_SORTS.chosen(request.args)
    query = ALLEGATION_SORTS.apply(services.visible_allegations(current_user), sort)
    reference = request.args.get("reference", "").strip()[:40]
    if reference:
        query = query.where(Allegation.reference == reference)
    outcome = request.args.get("outcome", "")
    if outcome in {o.value for o in Outcome}:
        query = query.where(Allegation.outcome == outcome)
    page = db.paginate(query, page=page_number(request.args.get("page")), max_per_page=100, error_out=False)
    ids = [a.id for a in page.items]
    victims = dict(
        db.session.execute(
            select(VictimAllegation.allegation_id, func.count())
            .where(VictimAllegation.allegation_id.in_(ids))
            .group_by(VictimAllegation.allegation_id)
        ).all()
    )
    rule_list = clock.rules()
    overdue = {a.id: clock.overdue_steps(a, rule_list) for a in page.items}
    return render_template(
        "vat/allegations/index.html",
        page=page,
        sort=sort,
        args=without_sort(request.args),
        victims=victims,
        overdue=overdue,
        reference=reference,
        outcome=outcome,
        outcomes=Outcome,
    )


@bp.get("/<int:allegation_id>")
@requires(Permission.VIEW_IDENTITY)
def show(allegation_id: int) -> str:
    allegation = load_allegation(allegation_id)
    linked = db.session.execute(
        select(VictimAllegation.victim_id, Victim.case_code)
        .join(Victim, Victim.id == VictimAllegation.victim_id)
        .where(VictimAllegation.allegation_id == allegation.id, identity.in_scope_condition(current_user))
        .order_by(Victim.case_code)
    ).all()
    return render_template(
        "vat/allegations/show.html",
        allegation=allegation,
        clock=clock.clock(allegation),
        withheld=withheld.for_allegation(allegation.reference),
        linked=linked,
        link_form=LinkVictimForm(),
        button=EmptyForm(),
        **accountability.cycle_page(allegation),
    )


@bp.post("/<int:allegation_id>/victims")
@requires(Permission.EDIT_CASES)
def link_victim(allegation_id: int) -> Response:
    allegation = load_allegation(allegation_id)
    form = LinkVictimForm()
    victim = identity.find_by_case_code(current_user, form.case_code.data or "") if form.validate() else None
    back = url_for("allegations.show", allegation_id=allegation.id)
    if victim is None:
        flash(_("No victim in your scope has that case code."), "error")
        return redirect(back)
    return act(
        lambda: outcomes.link_victim(actor=current_user, victim=victim, allegation=allegation),
        done=_("%(code)s linked.", code=victim.case_code),
        back=back,
        form=form,
    )


@bp.get("/clock-rules")
@requires(Permission.VIEW_IDENTITY)
def clock_rules() -> str:
    rule_list = clock.rules()
    forms = {r.step: ClockRuleForm(obj=r, prefix=r.step) for r in rule_list}
    return render_template(
        "vat/allegations/rules.html", rules=rule_list, forms=forms, labels=STEP_LABELS, Step=Step
    )


@bp.post("/clock-rules/<step>")
@requires(Permission.EDIT_POLICY)
def update_clock_rule(step: str) -> Response:
    or_404(db.session.get(ClockRule, step))
    form = ClockRuleForm(prefix=step)
    if not form.validate_on_submit():
        flash(_("Check the limit: a whole number of days or months between 1 and 3650."), "error")
        return redirect(url_for("allegations.clock_rules"))
    return act(
        lambda: services.update_rule(
            actor=current_user,
            step=step,
            amount=given(form.amount.data),
            unit=form.unit.data,
            reduced_amount=form.reduced_amount.data,
            reduced_from=form.reduced_from.data or None,
        ),
        done=_("Rule for “%(step)s” updated; every clock uses it from now on.", step=step_label(step)),
        back=url_for("allegations.clock_rules"),
    )
