"""Victims: the list and searches, registering, the victim's page, editing, the case status, and
the allegations the victim is named in."""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Any

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # in WTForms 3.3, not its 3.2 stubs

from vat.allegations import clock
from vat.allegations import services as allegation_services
from vat.auth.forms import EmptyForm
from vat.auth.policy import Permission, in_scope, requires
from vat.db import db
from vat.inputs import InvalidField
from vat.paging import page_number, page_size
from vat.record_form import RecordForm
from vat.sorting import without_sort
from vat.submission import act, written_apart
from vat.victims import identity, labels, letters, listing, needs, outcomes, payments, timeline
from vat.victims.forms import LinkAllegationForm, NameSearchForm, SearchForm, StatusForm, VictimForm
from vat.victims.models import Victim
from vat.victims.views import name_search
from vat.victims.views.blueprint import (
    advocate_choices,
    bp,
    load_victim,
    prepare_victim_form,
    scope_countries,
    to_victim_page,
    victim_url,
)

# --- list, search, register ------------------------------------------------------------------


@bp.get("/victims")
@requires(Permission.VIEW_IDENTITY)
def index() -> str:
    form = _search_form(request.args)
    filters = _filters(form) if form.validate() else listing.VictimFilters()
    found = name_search.recalled(request.args.get("found"))
    if found is not None:
        filters = listing.VictimFilters(name_digests=found)
    sort = listing.SORTS.chosen(request.args)
    page = listing.victims_page(
        current_user,
        filters,
        sort,
        page=page_number(request.args.get("page")),
        per_page=page_size(request.args.get("per_page", type=int)),
    )
    args = without_sort(request.args)
    if found is None:
        args.pop("found", None)  # a search this session no longer holds: the whole list
    return _index_page(form, NameSearchForm(), page, args=args, sort=sort, searched_name=found is not None)


def _filters(form: SearchForm) -> listing.VictimFilters:
    """The list's filters, from a valid search form."""
    return listing.VictimFilters(
        case_code=form.case_code.data or "",
        country_code=form.country_code.data or "",
        status=form.status.data or "",
        advocate_id=int(form.advocate_id.data) if form.advocate_id.data else None,
        minor=form.minor.data,
        no_assistance=form.no_assistance.data,
        no_update=form.no_update.data,
        needs_not_met=form.needs_not_met.data,
    )


@bp.post("/victims/by-name")
@requires(Permission.VIEW_IDENTITY)
def by_name() -> Response | str:
    """Search by any words of a name (blind indexes): posted, so the name stays out of URLs, and
    audited; the list that answers carries only a token of the search held in the session."""
    name_form = NameSearchForm()
    if name_form.validate_on_submit():
        try:
            digests = listing.search_by_name(actor=current_user, name=name_form.name.data or "")
        except InvalidField as error:
            db.session.rollback()
            name_form.name.errors = [str(error)]
        else:
            db.session.commit()
            return redirect(url_for("victims.index", found=name_search.remember(digests)))
    page = listing.victims_page(current_user, listing.VictimFilters(), page=1, per_page=20)
    return _index_page(_search_form(None), name_form, page, sort=listing.SORTS.default)


def _search_form(formdata: Any) -> SearchForm:
    """The list's filters, offering the countries of the user's scope and its advocates."""
    form = SearchForm(formdata)
    form.country_code.choices = [SelectChoice("", "—"), *scope_countries()]
    form.advocate_id.choices = advocate_choices()
    return form


def _index_page(
    form: SearchForm, name_form: NameSearchForm, page: Any, *, args: dict[str, str] | None = None, **more: Any
) -> str:
    return render_template(
        "vat/victims/index.html",
        form=form,
        name_form=name_form,
        page=page,
        args=args or {},
        no_update_days=listing.no_update_days(),
        **more,
    )


def _victim_form(victim: Victim | None) -> VictimForm:
    form = VictimForm()
    prepare_victim_form(form)
    if victim is not None:
        del form.prefix  # the case code stays
    return form


def _victim_page_form(victim: Victim | None) -> VictimForm:
    """A new victim's advocate is the user; an edit shows the identity, its reading audited."""
    form = _victim_form(victim)
    if victim is None:
        form.advocate_id.data = str(current_user.id)
        return form
    with written_apart():
        person = identity.read_identity(actor=current_user, victim=victim)
    form.process(data={**person, "date_of_birth": None})
    form.country_code.data = victim.country_code
    form.mission.data = victim.mission
    form.sex.data, form.age_group.data = victim.sex, victim.age_group
    form.advocate_id.data = str(victim.advocate_id or "")
    if person["date_of_birth"]:
        form.date_of_birth.data = date.fromisoformat(person["date_of_birth"])
    return form


VICTIM_FORM: RecordForm[Victim, VictimForm] = RecordForm(
    template="vat/victims/form.html",
    name="victim",
    form=_victim_form,
    create=identity.register_victim,
    update=identity.update_victim,
    created=lambda victim: _("Victim registered as %(code)s.", code=victim.case_code),
    updated=_l("Victim updated."),
    then=victim_url,
    page_form=_victim_page_form,
)
VICTIM_FORM.route(
    bp,
    Permission.EDIT_CASES,
    new_url="/victims/new",
    edit_url="/victims/<int:victim_id>/edit",
    load=load_victim,
)


# --- the victim page -------------------------------------------------------------------------


@bp.get("/victims/<int:victim_id>")
@requires(Permission.VIEW_IDENTITY)
def show(victim_id: int) -> str:
    victim = load_victim(victim_id)
    timeline.load_victim_file(victim)
    with written_apart():  # the identity shown once its reading is recorded
        person = identity.read_identity(actor=current_user, victim=victim)
    rule_list = clock.rules()
    return render_template(
        "vat/victims/show.html",
        victim=victim,
        identity=person,
        timeline=timeline.timeline(victim),
        open_items=timeline.open_items(victim, rule_list),
        payments=payments.payments_of(victim.id),
        routes=payments.DIRECT_ROUTES,
        outcomes=letters.outcomes_to_tell(victim),
        needs=needs.needs_of(victim),
        feedback=needs.feedback_by_record(victim),
        status_form=StatusForm(status=victim.status),
        link_form=LinkAllegationForm(),
        button=EmptyForm(),
        through_glass=not in_scope(current_user, victim.country_code, victim.mission),
    )


@bp.post("/victims/<int:victim_id>/status")
@requires(Permission.EDIT_CASES)
def set_status(victim_id: int) -> Response:
    victim = load_victim(victim_id)
    form = StatusForm()
    if not form.validate_on_submit():
        return to_victim_page(victim, refusal=_("Choose a listed status."))
    status = form.status.data
    return act(
        partial(identity.set_status, actor=current_user, victim=victim, status=status),
        done=_("Status set to %(status)s.", status=labels.vat_label(status)),
        back=victim_url(victim),
    )


# --- allegations linked ----------------------------------------------------------------------


@bp.post("/victims/<int:victim_id>/allegations")
@requires(Permission.EDIT_CASES)
def link_allegation(victim_id: int) -> Response:
    victim = load_victim(victim_id)
    form = LinkAllegationForm()
    if not form.validate_on_submit():
        return to_victim_page(victim, "allegations", refusal=_("Give an allegation reference number."))
    allegation = allegation_services.find_by_reference(current_user, form.reference.data or "")
    if allegation is None:
        return to_victim_page(
            victim, "allegations", refusal=_("No allegation in your scope has that reference number.")
        )
    return act(
        partial(outcomes.link_victim, actor=current_user, victim=victim, allegation=allegation),
        done=_("Linked to allegation %(reference)s.", reference=allegation.reference),
        back=victim_url(victim, "allegations"),
        form=form,
    )


@bp.post("/victims/<int:victim_id>/allegations/<int:allegation_id>/unlink")
@requires(Permission.EDIT_CASES)
def unlink_allegation(victim_id: int, allegation_id: int) -> Response:
    victim = load_victim(victim_id)
    allegation = allegation_services.get_allegation(current_user, allegation_id)
    if allegation is None or not EmptyForm().validate_on_submit():
        abort(404)
    return act(
        partial(outcomes.unlink_victim, actor=current_user, victim=victim, allegation=allegation),
        done=_("Unlinked from allegation %(reference)s.", reference=allegation.reference),
        back=victim_url(victim, "allegations"),
    )
