"""Victims blueprint: parse, call one service, commit once, redirect. Scope is applied by the
service's queries; an id outside the user's scope answers 404."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    stream_template,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # in WTForms 3.3, not its 3.2 stubs

from vat.allegations import clock
from vat.allegations import services as allegation_services
from vat.auth.forms import EmptyForm
from vat.auth.models import Role
from vat.auth.policy import Permission, fresh_required, in_scope, requires
from vat.db import commit_keeping_loaded, db, read_only
from vat.errors import DomainError, NotAllowed
from vat.inputs import InvalidField
from vat.victims import assistance, consents, family, identity, importer, labels, listing, outcomes, timeline
from vat.victims.forms import (
    AssistanceForm,
    BreakGlassForm,
    ChildForm,
    CommunicationForm,
    ConsentForm,
    DisclosureForm,
    ExportForm,
    ImportForm,
    LinkAllegationForm,
    NameSearchForm,
    SearchForm,
    StatusForm,
    VictimForm,
    WithdrawForm,
)
from vat.victims.models import Assistance, Child, Consent, Disclosure, Victim

bp = Blueprint("victims", __name__, url_prefix="/vat")


@bp.app_context_processor
def label_helpers() -> dict[str, Any]:
    return labels.HELPERS


def show_error(form: FlaskForm, error: DomainError) -> None:
    """Put a service's refusal on the field it names, or at the top of the page."""
    if isinstance(error, InvalidField) and error.field in form:
        form[error.field].errors = [*form[error.field].errors, str(error)]
    else:
        flash(str(error), "error")


def form_values(form: FlaskForm, *skip: str) -> dict[str, Any]:
    return {k: v for k, v in form.data.items() if k not in ("csrf_token", *skip)}


def load_victim(victim_id: int) -> Victim:
    victim = identity.get_victim(current_user, victim_id)
    if victim is None:
        abort(404)
    return victim


def scope_countries() -> list[SelectChoice]:
    codes = sorted({s.country_code for s in current_user.scopes})
    return [SelectChoice(c, c) for c in codes]


def advocate_choices() -> list[SelectChoice]:
    advocates = identity.advocates_for(current_user)
    return [SelectChoice("", "—")] + [SelectChoice(str(u.id), u.username) for u in advocates]


def prepare_victim_form(form: VictimForm) -> None:
    form.country_code.choices = scope_countries()
    form.advocate_id.choices = advocate_choices()


def to_victim_page(victim: Victim, anchor: str = "") -> Response:
    return redirect(url_for("victims.show", victim_id=victim.id) + (f"#{anchor}" if anchor else ""))


# --- list, search, register ------------------------------------------------------------------


@bp.get("/victims")
@requires(Permission.VIEW_IDENTITY)
def index() -> str:
    # Read-only: on SQLite a default (IMMEDIATE) transaction would hold the write lock while the
    # list counts, one request at a time across workers (docs/benchmarks.md).
    with read_only():
        return _index()


def _index() -> str:
    form = SearchForm(request.args)
    form.country_code.choices = [SelectChoice("", "—"), *scope_countries()]
    form.advocate_id.choices = advocate_choices()
    filters = listing.VictimFilters()
    if form.validate():
        filters = listing.VictimFilters(
            case_code=form.case_code.data or "",
            country_code=form.country_code.data or "",
            status=form.status.data or "",
            advocate_id=int(form.advocate_id.data) if form.advocate_id.data else None,
            minor=form.minor.data,
            no_assistance=form.no_assistance.data,
            no_update=form.no_update.data,
        )
    page = listing.paginate_rows(
        listing.victim_rows(current_user, filters),
        page=request.args.get("page", 1, type=lambda v: max(1, int(v))),
        per_page=request.args.get("per_page", 20, type=lambda v: min(100, max(1, int(v)))),
        kept_as=("victims", current_user.id, filters),
    )
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "vat/victims/index.html",
        form=form,
        name_form=NameSearchForm(),
        page=page,
        args=args,
        no_update_days=listing.no_update_days(),
    )


@bp.post("/victims/by-name")
@requires(Permission.VIEW_IDENTITY)
def by_name() -> str:
    """Exact-name search (blind index): posted, so the name stays out of URLs; audited."""
    name_form = NameSearchForm()
    form = SearchForm(formdata=None)
    form.country_code.choices = [SelectChoice("", "—"), *scope_countries()]
    form.advocate_id.choices = advocate_choices()
    if not name_form.validate_on_submit():
        page = listing.paginate_rows(
            listing.victim_rows(current_user, listing.VictimFilters()), page=1, per_page=20
        )
        return render_template(
            "vat/victims/index.html",
            form=form,
            name_form=name_form,
            page=page,
            args={},
            no_update_days=listing.no_update_days(),
        )
    page = listing.find_by_name(actor=current_user, name=name_form.name.data or "")
    db.session.commit()
    return render_template(
        "vat/victims/index.html",
        form=form,
        name_form=name_form,
        page=page,
        args={},
        no_update_days=listing.no_update_days(),
        searched_name=True,
    )


@bp.route("/victims/new", methods=["GET", "POST"])
@requires(Permission.EDIT_CASES)
def new() -> str | Response:
    form = VictimForm()
    prepare_victim_form(form)
    if request.method == "GET":
        form.advocate_id.data = str(current_user.id)
    if form.validate_on_submit():
        try:
            victim = identity.register_victim(actor=current_user, **form_values(form))
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            commit_keeping_loaded()  # what follows reads no expired row
            flash(_("Victim registered as %(code)s.", code=victim.case_code), "success")
            return to_victim_page(victim)
    return render_template("vat/victims/form.html", form=form, victim=None)


# --- the victim page -------------------------------------------------------------------------


@bp.get("/victims/<int:victim_id>")
@requires(Permission.VIEW_IDENTITY)
def show(victim_id: int) -> str:
    victim = load_victim(victim_id)
    timeline.load_victim_file(victim)
    person = identity.read_identity(actor=current_user, victim=victim)
    db.session.commit()
    rule_list = clock.rules()
    return render_template(
        "vat/victims/show.html",
        victim=victim,
        identity=person,
        timeline=timeline.timeline(victim),
        open_items=timeline.open_items(victim, rule_list),
        status_form=StatusForm(status=victim.status),
        link_form=LinkAllegationForm(),
        button=EmptyForm(),
        through_glass=not in_scope(current_user, victim.country_code, victim.mission),
    )


@bp.route("/victims/<int:victim_id>/edit", methods=["GET", "POST"])
@requires(Permission.EDIT_CASES)
def edit(victim_id: int) -> str | Response:
    victim = load_victim(victim_id)
    form = VictimForm()
    prepare_victim_form(form)
    del form.prefix
    if request.method == "GET":
        person = identity.read_identity(actor=current_user, victim=victim)
        db.session.commit()
        form.process(data={**person, "date_of_birth": None})
        form.country_code.data = victim.country_code
        form.mission.data = victim.mission
        form.sex.data, form.age_group.data = victim.sex, victim.age_group
        form.advocate_id.data = str(victim.advocate_id or "")
        if person["date_of_birth"]:
            form.date_of_birth.data = date.fromisoformat(person["date_of_birth"])
    elif form.validate_on_submit():
        try:
            identity.update_victim(actor=current_user, victim=victim, **form_values(form))
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            commit_keeping_loaded()  # what follows reads no expired row
            flash(_("Victim updated."), "success")
            return to_victim_page(victim)
    return render_template("vat/victims/form.html", form=form, victim=victim)


@bp.post("/victims/<int:victim_id>/status")
@requires(Permission.EDIT_CASES)
def set_status(victim_id: int) -> Response:
    victim = load_victim(victim_id)
    form = StatusForm()
    if form.validate_on_submit():
        try:
            identity.set_status(actor=current_user, victim=victim, status=form.status.data)
        except DomainError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            commit_keeping_loaded()  # what follows reads no expired row
            flash(_("Status set to %(status)s.", status=labels.vat_label(victim.status)), "success")
    else:
        flash(_("Choose a listed status."), "error")
    return to_victim_page(victim)


# --- consents and disclosures ----------------------------------------------------------------


@bp.route("/victims/<int:victim_id>/consents/new", methods=["GET", "POST"])
@requires(Permission.EDIT_CASES)
def new_consent(victim_id: int) -> str | Response:
    victim = load_victim(victim_id)
    form = ConsentForm()
    if form.validate_on_submit():
        try:
            consents.record_consent(actor=current_user, victim=victim, **form_values(form))
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            commit_keeping_loaded()  # what follows reads no expired row
            flash(_("Consent recorded."), "success")
            return to_victim_page(victim, "consents")
    return render_template(
        "vat/victims/record_form.html", form=form, victim=victim, title=_("Record a consent")
    )


@bp.route("/victims/<int:victim_id>/consents/<int:consent_id>/withdraw", methods=["GET", "POST"])
@requires(Permission.EDIT_CASES)
def withdraw_consent(victim_id: int, consent_id: int) -> str | Response:
    victim = load_victim(victim_id)
    consent = db.session.get(Consent, consent_id)
    if consent is None or consent.victim_id != victim.id:
        abort(404)
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            result = consents.withdraw_consent(
                actor=current_user, victim=victim, consent=consent, withdrawn_on=form.withdrawn_on.data
            )
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            commit_keeping_loaded()  # what follows reads no expired row
            flash(
                _(
                    "Consent withdrawn. Cancelled %(services)s service(s) and %(shares)s share(s) "
                    "that depended on it.",
                    services=len(result.cancelled_services),
                    shares=len(result.cancelled_disclosures),
                ),
                "success",
            )
            return to_victim_page(victim, "consents")
    return render_template(
        "vat/victims/record_form.html",
        form=form,
        victim=victim,
        title=_("Withdraw a consent"),
        submit=_("Withdraw"),
        lede=_("Withdrawing cancels pending referrals and shares that need this consent."),
    )


@bp.route("/victims/<int:victim_id>/disclosures/new", methods=["GET", "POST"])
@requires(Permission.EDIT_CASES)
def new_disclosure(victim_id: int) -> str | Response:
    victim = load_victim(victim_id)
    form = DisclosureForm()
    if form.validate_on_submit():
        try:
            consents.record_disclosure(actor=current_user, victim=victim, **form_values(form))
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            commit_keeping_loaded()  # what follows reads no expired row
            flash(_("Share recorded."), "success")
            return to_victim_page(victim, "disclosures")
    return render_template(
        "vat/victims/record_form.html",
        form=form,
        victim=victim,
        title=_("Record a share or a referral of the file"),
    )


@bp.post("/victims/<int:victim_id>/export")
@requires(Permission.VIEW_IDENTITY)
@fresh_required
def export_disclosure(victim_id: int) -> Response:
    """Download the file of a recorded share (senior advocates; refused in the service too)."""
    if Role(current_user.role) is not Role.SENIOR_ADVOCATE:
        abort(403)
    victim = load_victim(victim_id)
    form = ExportForm()
    disclosure = db.session.get(Disclosure, form.disclosure_id.data) if form.validate_on_submit() else None
    if disclosure is None or disclosure.victim_id != victim.id:
        flash(_("Choose one of this victim's shares."), "error")
        return to_victim_page(victim, "disclosures")
    timeline.load_victim_file(victim)
    try:
        workbook = consents.export_disclosure(actor=current_user, victim=victim, disclosure=disclosure)
    except NotAllowed:
        db.session.rollback()
        abort(403)
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
        return to_victim_page(victim, "disclosures")
    db.session.commit()
    return send_file(
        io.BytesIO(workbook),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"{victim.case_code}-share-{disclosure.id}.xlsx",
    )


# --- assistance, children, communications ----------------------------------------------------


@bp.route("/victims/<int:victim_id>/assistance/new", methods=["GET", "POST"])
@requires(Permission.EDIT_CASES)
def new_assistance(victim_id: int) -> str | Response:
    victim = load_victim(victim_id)
    form = AssistanceForm()
    if form.validate_on_submit():
        try:
            assistance.record_assistance(actor=current_user, victim=victim, **form_values(form))
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            commit_keeping_loaded()  # what follows reads no expired row
            flash(_("Service recorded."), "success")
            return to_victim_page(victim, "services")
    return render_template(
        "vat/victims/record_form.html", form=form, victim=victim, title=_("Record a service")
    )


@bp.route("/victims/<int:victim_id>/assistance/<int:service_id>", methods=["GET", "POST"])
@requires(Permission.EDIT_CASES)
def edit_assistance(victim_id: int, service_id: int) -> str | Response:
    victim = load_victim(victim_id)
    service = db.session.get(Assistance, service_id)
    if service is None or service.victim_id != victim.id:
        abort(404)
    if request.method == "GET":
        identity.record_read(actor=current_user, victim=victim, what="assistance", record_id=service.id)
        db.session.commit()
    form = AssistanceForm(obj=service) if request.method == "GET" else AssistanceForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            assistance.update_assistance(
                actor=current_user, victim=victim, service=service, **form_values(form)
            )
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            commit_keeping_loaded()  # what follows reads no expired row
            flash(_("Service updated."), "success")
            return to_victim_page(victim, "services")
    return render_template(
        "vat/victims/record_form.html", form=form, victim=victim, title=_("Update a service")
    )


@bp.route("/victims/<int:victim_id>/children/new", methods=["GET", "POST"])
@requires(Permission.EDIT_CASES)
def new_child(victim_id: int) -> str | Response:
    victim = load_victim(victim_id)
    form = ChildForm()
    if form.validate_on_submit():
        try:
            family.add_child(actor=current_user, victim=victim, **form_values(form))
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            commit_keeping_loaded()  # what follows reads no expired row
            flash(_("Child recorded."), "success")
            return to_victim_page(victim, "children")
    return render_template(
        "vat/victims/record_form.html", form=form, victim=victim, title=_("Record a child")
    )


@bp.route("/victims/<int:victim_id>/children/<int:child_id>", methods=["GET", "POST"])
@requires(Permission.EDIT_CASES)
def edit_child(victim_id: int, child_id: int) -> str | Response:
    victim = load_victim(victim_id)
    child = db.session.get(Child, child_id)
    if child is None or child.victim_id != victim.id:
        abort(404)
    if request.method == "GET":
        identity.record_read(actor=current_user, victim=victim, what="child", record_id=child.id)
        db.session.commit()
    form = ChildForm(obj=child) if request.method == "GET" else ChildForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            family.update_child(actor=current_user, victim=victim, child=child, **form_values(form))
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            commit_keeping_loaded()  # what follows reads no expired row
            flash(_("Child updated."), "success")
            return to_victim_page(victim, "children")
    return render_template(
        "vat/victims/record_form.html", form=form, victim=victim, title=_("Update a child")
    )


@bp.route("/victims/<int:victim_id>/communications/new", methods=["GET", "POST"])
@requires(Permission.EDIT_CASES)
def new_communication(victim_id: int) -> str | Response:
    victim = load_victim(victim_id)
    form = CommunicationForm()
    open_tasks = [t for t in victim.tasks if t.closed_at is None]
    form.closes_tasks.choices = [SelectChoice(t.id, t.label) for t in open_tasks]
    if not open_tasks:
        del form.closes_tasks
    if request.method == "GET":
        form.by_whom.data = current_user.username
    if form.validate_on_submit():
        values = form_values(form, "closes_tasks")
        try:
            family.log_communication(
                actor=current_user,
                victim=victim,
                closes_task_ids=(form.closes_tasks.data or []) if open_tasks else (),
                **values,
            )
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            commit_keeping_loaded()  # what follows reads no expired row
            flash(_("Communication recorded."), "success")
            return to_victim_page(victim, "communications")
    return render_template(
        "vat/victims/record_form.html", form=form, victim=victim, title=_("Record a communication")
    )


# --- allegations linked ----------------------------------------------------------------------


@bp.post("/victims/<int:victim_id>/allegations")
@requires(Permission.EDIT_CASES)
def link_allegation(victim_id: int) -> Response:
    victim = load_victim(victim_id)
    form = LinkAllegationForm()
    if not form.validate_on_submit():
        flash(_("Give an allegation reference number."), "error")
        return to_victim_page(victim, "allegations")
    allegation = allegation_services.find_by_reference(current_user, form.reference.data or "")
    if allegation is None:
        flash(_("No allegation in your scope has that reference number."), "error")
        return to_victim_page(victim, "allegations")
    try:
        outcomes.link_victim(actor=current_user, victim=victim, allegation=allegation)
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        commit_keeping_loaded()  # what follows reads no expired row
        flash(_("Linked to allegation %(reference)s.", reference=allegation.reference), "success")
    return to_victim_page(victim, "allegations")


@bp.post("/victims/<int:victim_id>/allegations/<int:allegation_id>/unlink")
@requires(Permission.EDIT_CASES)
def unlink_allegation(victim_id: int, allegation_id: int) -> Response:
    victim = load_victim(victim_id)
    allegation = allegation_services.get_allegation(current_user, allegation_id)
    if allegation is None or not EmptyForm().validate_on_submit():
        abort(404)
    try:
        outcomes.unlink_victim(actor=current_user, victim=victim, allegation=allegation)
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        commit_keeping_loaded()  # what follows reads no expired row
        flash(_("Unlinked from allegation %(reference)s.", reference=allegation.reference), "success")
    return to_victim_page(victim, "allegations")


# --- dashboard, break-glass, import ----------------------------------------------------------


@bp.get("/attention")
@requires(Permission.VIEW_IDENTITY)
def attention() -> str:
    mine_only = request.args.get("all") != "1"
    return render_template(
        "vat/victims/attention.html",
        attention=listing.attention(current_user, mine_only=mine_only),
        mine_only=mine_only,
        no_update_days=listing.no_update_days(),
        stuck_days=assistance.STUCK_DAYS,
        attention_limit=listing.ATTENTION_LIMIT,
    )


@bp.route("/break-glass", methods=["GET", "POST"])
@requires(Permission.BREAK_GLASS)
def break_glass() -> str | Response:
    form = BreakGlassForm()
    if request.method == "GET" and request.args.get("case_code"):
        form.case_code.data = request.args["case_code"][:40]
    if form.validate_on_submit():
        try:
            victim = identity.break_glass_victim(
                actor=current_user, case_code=form.case_code.data or "", reason=form.reason.data or ""
            )
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            commit_keeping_loaded()  # what follows reads no expired row
            flash(_("Access granted for a few hours; the victim's advocate will see your reason."), "success")
            return to_victim_page(victim)
    return render_template("vat/victims/break_glass.html", form=form)


@bp.route("/import", methods=["GET", "POST"])
@requires(Permission.EDIT_CASES)
def import_records() -> str | Response:
    """The report streams in: progress lines while a large file is checked, then the outcome."""
    form = ImportForm()
    if not form.validate_on_submit():
        return render_template("vat/victims/import.html", form=form, steps=None, columns=importer.COLUMNS)
    upload = form.file.data
    try:
        sheets = importer.read_file(upload.filename or "", io.BytesIO(upload.read()), form.kind.data)
    except importer.FileRefused as error:
        return render_template(
            "vat/victims/import.html", form=form, steps=[importer.refused(error)], columns=importer.COLUMNS
        )
    finally:
        upload.close()
    steps = committed(importer.import_sheets(actor=current_user, sheets=sheets))
    if importer.row_count(sheets) <= importer.PROGRESS_EVERY:  # small: one plain page
        return render_template(
            "vat/victims/import.html", form=form, steps=list(steps), columns=importer.COLUMNS
        )
    # Large: the page streams (progress lines, then the report); all the work runs in the stream,
    # inside the request context that stream_template keeps for it.
    page = stream_template("vat/victims/import.html", form=form, steps=steps, columns=importer.COLUMNS)
    return current_app.response_class(page, mimetype="text/html")


def committed(steps: Iterator[Any]) -> Iterator[Any]:
    """Pass progress through; commit a clean import, roll back anything else."""
    try:
        for step in steps:
            if isinstance(step, importer.ImportReport):
                if step.ok:
                    db.session.commit()
                else:
                    db.session.rollback()
            yield step
    except Exception:
        db.session.rollback()
        current_app.logger.exception("import failed")
        failed = importer.ImportReport()
        failed.errors.append(importer.RowError("file", 0, "", _("The import failed; nothing was saved.")))
        yield failed


@bp.get("/import/template.xlsx")
@requires(Permission.EDIT_CASES)
def import_template() -> Response:
    return send_file(
        importer.template_workbook(),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name="vat-import-template.xlsx",
    )
