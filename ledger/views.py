"""The ledger's blueprint: parse the form, call one service, commit once, redirect."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import lazyload
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import SelectChoice

from ledger import engine, kept
from ledger.cli import attach
from ledger.forms import (
    CloseForm,
    DirectSupportFilterForm,
    DirectSupportForm,
    DonorForm,
    JournalFilterForm,
    PledgeForm,
    ProjectFilterForm,
    ProjectForm,
    ProjectProgressForm,
    RateForm,
    ReceiptForm,
    RejectForm,
    ReleaseForm,
    ReversalForm,
    TrancheForm,
    TransferForm,
    WithholdingForm,
)
from ledger.models import (
    Account,
    Donor,
    DonorKind,
    Entry,
    ExchangeRate,
    Period,
    Pledge,
    Posting,
    Project,
    ProjectFocus,
    ProjectStatus,
    Tranche,
    Withholding,
    WithholdingTransfer,
)
from ledger.reports import (
    direct_support_list,
    donor_figures,
    project_figures,
    statements,
    subledgers,
    withheld,
)
from ledger.services import contributions, corrections, grants, months, victim_support, withholdings
from vat.auth.forms import EmptyForm
from vat.auth.policy import Permission, fresh_required, requires
from vat.db import commit_keeping_loaded, db, read_only
from vat.errors import DomainError, NotAllowed
from vat.paging import page_of, page_of_rows

bp = Blueprint("ledger", __name__, url_prefix="/ledger", static_folder="static", static_url_path="/static")
attach(bp.cli)

View = str | WerkzeugResponse


def _book(
    form: Any, template: str, run: Callable[[], Any], done: str, then: Callable[[Any], str], **context: Any
) -> View:
    """The shape of every booking view: validate, call the service, commit once, redirect."""
    if form.validate_on_submit():
        try:
            result = run()
        except NotAllowed as error:
            db.session.rollback()
            flash(str(error), "error")
            return render_template(template, form=form, **context), 403
        except DomainError as error:
            db.session.rollback()
            flash(str(error), "error")
            return render_template(template, form=form, **context), 422
        commit_keeping_loaded()  # what follows reads no expired row
        flash(done, "success")
        return redirect(then(result))
    return render_template(template, form=form, **context)


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


LIST_PAGE = 50  # rows on a page of the donors, projects and direct-support lists
MAX_PAGE = 100_000  # a larger page number is read as this one (past the end: an empty page)


def _page_number() -> int:
    return request.args.get("page", 1, type=lambda v: min(max(1, int(v)), MAX_PAGE))


def _filters() -> dict[str, str]:
    """The list's filters as given, for the pager's links."""
    return {k: v for k, v in request.args.items() if k != "page" and v}


# --- overview --------------------------------------------------------------------------------


@bp.get("/")
@requires(Permission.READ_LEDGER)
def index() -> str:
    today = date.today()
    with read_only():
        statement, withheld, pending = kept.figures("overview", lambda: _overview(today), today)
        recent = db.session.scalars(select(Entry).order_by(Entry.seq.desc()).limit(8)).all()
        projects, behind = project_figures.project_counts(today)
        return render_template(
            "ledger/index.html",
            position=statement["position"],
            pending=pending,
            withheld=withheld,
            statement=statement,
            recent=recent,
            projects=projects,
            behind=behind,
        )


def _overview(today: date) -> tuple[dict[str, Any], dict[str, dict[str, Decimal]], int]:
    """The fund statement, the withheld totals and how many disbursements await approval."""
    pending = db.session.scalar(select(func.count(Tranche.id)).where(Tranche.status == "pending"))
    return statements.fund_statement(), withheld.withheld_totals(today), pending or 0


# --- donors, pledges, receipts ---------------------------------------------------------------


@bp.get("/donors")
@requires(Permission.READ_LEDGER)
def donors() -> str:
    with read_only():
        page = page_of(
            select(Donor).order_by(Donor.name, Donor.id),
            page=_page_number(),
            per_page=LIST_PAGE,
            count=lambda: db.session.scalar(select(func.count(Donor.id))) or 0,
        )
        # Kept while the ledger is unchanged (ledger.kept): a pass over 250,000 postings.
        figures = kept.figures("donor figures", donor_figures.donor_figures)
        return render_template(
            "ledger/donors.html",
            page=page,
            rows=[(donor, figures.get(donor.id, donor_figures.DonorFigures())) for (donor,) in page.items],
            total=sum(figures.values(), donor_figures.DonorFigures()),
        )


@bp.route("/donors/new", methods=["GET", "POST"])
@requires(Permission.RECORD_LEDGER)
def new_donor() -> View:
    form = DonorForm()
    return _book(
        form,
        "ledger/form.html",
        lambda: contributions.create_donor(
            actor=current_user,
            name=form.name.data or "",
            kind=DonorKind(form.kind.data),
            country_code=form.country_code.data or None,
        ),
        _("Donor added."),
        lambda donor: url_for("ledger.donor", donor_id=donor.id),
        title=_("New donor"),
    )


@bp.get("/donors/<int:donor_id>")
@requires(Permission.READ_LEDGER)
def donor(donor_id: int) -> str:
    """The donor's figures and one page of its pledges and of its receipts (one page number for
    both: page 2 shows the next 50 of each)."""
    number = _page_number()
    with read_only():
        row = db.get_or_404(Donor, donor_id)
        pledges = donor_figures.donor_pledges(row, page=number, per_page=LIST_PAGE)
        receipts = donor_figures.donor_receipts(row, page=number, per_page=LIST_PAGE)
        # Kept while the ledger is unchanged (ledger.kept), shared with the donors list.
        figures = kept.figures("donor figures", donor_figures.donor_figures)
        return render_template(
            "ledger/donor.html",
            donor=row,
            figures=figures.get(row.id, donor_figures.DonorFigures()),
            pledges=pledges,
            receipts=receipts,
            page=max(pledges, receipts, key=lambda p: p.pages),
        )


@bp.route("/donors/<int:donor_id>/pledge", methods=["GET", "POST"])
@requires(Permission.RECORD_LEDGER)
def new_pledge(donor_id: int) -> View:
    row = db.get_or_404(Donor, donor_id)
    form = PledgeForm()
    return _book(
        form,
        "ledger/form.html",
        lambda: contributions.record_pledge(
            actor=current_user,
            key=form.key.data,
            donor=row,
            currency=form.currency.data,
            amount=form.amount.data,
            pledged_on=form.pledged_on.data,
            earmark=form.earmark.data,
            reference=form.reference.data,
        ),
        _("Pledge recorded."),
        lambda _: url_for("ledger.donor", donor_id=row.id),
        title=_("Pledge by %(donor)s", donor=row.name),
    )


OPEN_PLEDGES_OFFERED = 100  # the receipt form's choice of pledges: the oldest open ones


@bp.route("/donors/<int:donor_id>/receipt", methods=["GET", "POST"])
@requires(Permission.RECORD_LEDGER)
def new_receipt(donor_id: int) -> View:
    row = db.get_or_404(Donor, donor_id)
    form = ReceiptForm()
    open_pledges = donor_figures.open_pledges(row, limit=OPEN_PLEDGES_OFFERED + 1)
    form.pledge_id.choices = [SelectChoice("", _("Unpledged contribution"))] + [
        SelectChoice(
            str(pledge.id),
            _(
                "%(day)s · %(currency)s %(amount)s outstanding",
                day=pledge.pledged_on,
                currency=pledge.currency,
                amount=f"{outstanding:,}",
            ),
        )
        for pledge, outstanding in open_pledges[:OPEN_PLEDGES_OFFERED]
    ]
    if request.method == "GET" and open_pledges:
        form.pledge_id.data = str(open_pledges[0][0].id)
        form.currency.data = open_pledges[0][0].currency
    note = (
        _("Only the %(count)s oldest pledges not yet fully received are listed.", count=OPEN_PLEDGES_OFFERED)
        if len(open_pledges) > OPEN_PLEDGES_OFFERED
        else None
    )

    def run() -> Any:
        pledge = db.session.get(Pledge, int(form.pledge_id.data)) if form.pledge_id.data else None
        return contributions.record_receipt(
            actor=current_user,
            key=form.key.data,
            donor=row,
            pledge=pledge,
            amount=form.amount.data,
            currency=form.currency.data,
            received_on=form.received_on.data,
            bank_reference=form.bank_reference.data,
            rate=form.rate.data,
        )

    return _book(
        form,
        "ledger/form.html",
        run,
        _("Receipt recorded."),
        lambda _: url_for("ledger.donor", donor_id=row.id),
        title=_("Receipt from %(donor)s", donor=row.name),
        note=note,
    )


# --- exchange rates --------------------------------------------------------------------------


@bp.get("/rates")
@requires(Permission.READ_LEDGER)
def rates() -> str:
    return render_template("ledger/rates.html", form=RateForm(), rows=_rate_rows())


@bp.post("/rates")
@requires(Permission.RECORD_LEDGER)
def record_rate() -> View:
    form = RateForm()
    return _book(
        form,
        "ledger/rates.html",
        lambda: months.set_rate(
            actor=current_user,
            currency=form.currency.data,
            month=form.month.data,
            rate=form.rate.data,
            source=form.source.data,
        ),
        _("Rate recorded."),
        lambda _: url_for("ledger.rates"),
        rows=_rate_rows(),
    )


def _rate_rows() -> list[tuple[ExchangeRate, bool]]:
    used = set(
        db.session.scalars(select(Posting.fx_rate_id).where(Posting.fx_rate_id.is_not(None)).distinct())
    )
    rows = db.session.scalars(select(ExchangeRate).order_by(ExchangeRate.month.desc(), ExchangeRate.currency))
    return [(r, r.id in used) for r in rows]


# --- withholdings ----------------------------------------------------------------------------


@bp.get("/withholdings")
@requires(Permission.READ_LEDGER)
def reconciliation() -> str:
    """The totals, ageing and countries, and one page of the lines (50,000 at 100,000 victims),
    all worked out once per ledger version and day."""
    today = date.today()
    number = _page_number()
    with read_only():
        recon = kept.figures("reconciliation", lambda: withheld.reconciliation(today), today)
        page = page_of_rows(recon.lines, page=number, per_page=LIST_PAGE)
        return render_template(
            "ledger/reconciliation.html",
            recon=recon,
            page=page,
            buckets=withheld.AGEING_BUCKETS,
            bucket_labels=_bucket_labels(),
        )


def _bucket_labels() -> dict[str, str]:
    return {
        "0–90 days": _("0–90 days"),
        "91–180 days": _("91–180 days"),
        "181–365 days": _("181–365 days"),
        "over 365 days": _("over 365 days"),
    }


@bp.route("/withholdings/new", methods=["GET", "POST"])
@requires(Permission.RECORD_LEDGER)
def new_withholding() -> View:
    form = WithholdingForm()
    if request.method == "GET" and request.args.get("allegation"):
        form.allegation_ref.data = request.args["allegation"][:40]
    return _book(
        form,
        "ledger/form.html",
        lambda: withholdings.record_withholding(
            actor=current_user,
            key=form.key.data,
            allegation_ref=form.allegation_ref.data,
            country_code=form.country_code.data,
            amount=form.amount.data,
            currency=form.currency.data,
            decided_on=form.decided_on.data,
            decision_reference=form.decision_reference.data,
        ),
        _("Withholding recorded."),
        lambda w: url_for("ledger.withholding", withholding_id=w.id),
        title=_("Payment withheld for a substantiated allegation"),
    )


@bp.get("/withholdings/<int:withholding_id>")
@requires(Permission.READ_LEDGER)
def withholding(withholding_id: int) -> str:
    row = db.get_or_404(Withholding, withholding_id)
    transfers = db.session.scalars(
        select(WithholdingTransfer)
        .where(WithholdingTransfer.withholding_id == row.id)
        .order_by(WithholdingTransfer.transferred_on)
    ).all()
    return render_template(
        "ledger/withholding.html",
        w=row,
        transfers=[(t, engine.from_minor(t.amount_minor, row.currency)) for t in transfers],
        withheld=engine.from_minor(row.amount_minor, row.currency),
        outstanding=withholdings.withholding_outstanding(row),
    )


@bp.route("/withholdings/<int:withholding_id>/transfer", methods=["GET", "POST"])
@requires(Permission.RECORD_LEDGER)
def new_transfer(withholding_id: int) -> View:
    row = db.get_or_404(Withholding, withholding_id)
    form = TransferForm()
    return _book(
        form,
        "ledger/form.html",
        lambda: withholdings.record_withholding_transfer(
            actor=current_user,
            key=form.key.data,
            withholding=row,
            amount=form.amount.data,
            transferred_on=form.transferred_on.data,
            reference=form.reference.data,
        ),
        _("Transfer recorded."),
        lambda _: url_for("ledger.withholding", withholding_id=row.id),
        title=_(
            "Transfer into the fund: %(country)s, allegation %(reference)s",
            country=row.country_code,
            reference=row.allegation_ref,
        ),
    )


# --- projects and disbursements --------------------------------------------------------------


@bp.get("/projects")
@requires(Permission.READ_LEDGER)
def projects() -> str:
    with read_only():
        form = ProjectFilterForm(request.args)
        query = select(Project).order_by(Project.approved_on.desc(), Project.id.desc())
        if form.validate():
            if form.status.data:
                query = query.where(Project.status == form.status.data)
            if form.focus.data:
                query = query.where(Project.focus == form.focus.data)
            if form.country.data:
                query = query.where(Project.country_code == form.country.data)
        # Beneficiaries are not shown here: not loaded with the page (selectin by default).
        query = query.options(lazyload(Project.beneficiaries))
        page = page_of(
            query,
            page=_page_number(),
            per_page=LIST_PAGE,
            count=lambda: db.session.scalar(select(func.count()).select_from(query.subquery())) or 0,
        )
        rows = [project for (project,) in page.items]
        return render_template(
            "ledger/projects.html",
            form=form,
            page=page,
            rows=list(zip(rows, project_figures.projects_figures(rows), strict=True)),
            filters=_filters(),
            focus={f.value: f.label for f in ProjectFocus},
            statuses=_status_labels(),
            position=grants.fund_position(),
        )


def _status_labels() -> dict[str, str]:
    """The `status_label` macro's words, translated once for a page of projects, not once a row."""
    return {
        ProjectStatus.APPROVED: _("approved"),
        ProjectStatus.ONGOING: _("ongoing"),
        ProjectStatus.COMPLETED: _("completed"),
        ProjectStatus.CANCELLED: _("cancelled"),
    }


@bp.route("/projects/new", methods=["GET", "POST"])
@requires(Permission.RECORD_LEDGER)
def new_project() -> View:
    form = ProjectForm()
    return _book(
        form,
        "ledger/form.html",
        lambda: grants.approve_project(
            actor=current_user,
            key=form.key.data,
            title=form.title.data,
            partner=form.partner.data,
            country_code=form.country_code.data,
            focus=ProjectFocus(form.focus.data),
            currency=form.currency.data,
            amount=form.amount.data,
            approved_on=form.approved_on.data,
            planned_start=form.planned_start.data,
            planned_end=form.planned_end.data,
            case_codes=_lines(form.case_codes.data),
        ),
        _("Project approved."),
        lambda p: url_for("ledger.project", project_id=p.id),
        title=_("Approve a project"),
        note=_("Available to commit: US$%(amount)s", amount=f"{grants.fund_position()['available']:,.2f}"),
    )


@bp.get("/projects/<int:project_id>")
@requires(Permission.READ_LEDGER)
def project(project_id: int) -> str:
    row = db.get_or_404(Project, project_id)
    tranches = db.session.scalars(
        select(Tranche).where(Tranche.project_id == row.id).order_by(Tranche.paid_on, Tranche.id)
    ).all()
    progress = ProjectProgressForm(obj=row)
    return render_template(
        "ledger/project.html",
        p=row,
        figures=project_figures.project_figures(row),
        tranches=[(t, engine.from_minor(t.amount_minor, row.currency)) for t in tranches],
        focus=ProjectFocus(row.focus).label,
        progress=progress,
    )


@bp.post("/projects/<int:project_id>/progress")
@requires(Permission.RECORD_LEDGER)
def project_progress(project_id: int) -> View:
    row = db.get_or_404(Project, project_id)
    form = ProjectProgressForm()
    if not form.validate_on_submit():
        flash(
            _(
                "Check the progress form: %(errors)s",
                errors="; ".join(e for errs in form.errors.values() for e in errs),
            ),
            "error",
        )
        return redirect(url_for("ledger.project", project_id=row.id))
    try:
        grants.update_project(
            actor=current_user,
            project=row,
            status=ProjectStatus(form.status.data),
            actual_start=form.actual_start.data,
            actual_end=form.actual_end.data,
            victims_supported=form.victims_supported.data or 0,
            add_case_codes=_lines(form.case_codes.data),
        )
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("ledger.project", project_id=row.id))
    commit_keeping_loaded()  # what follows reads no expired row
    flash(_("Project updated."), "success")
    return redirect(url_for("ledger.project", project_id=row.id))


@bp.route("/projects/<int:project_id>/release", methods=["GET", "POST"])
@requires(Permission.RECORD_LEDGER)
def release_project(project_id: int) -> View:
    row = db.get_or_404(Project, project_id)
    form = ReleaseForm()
    return _book(
        form,
        "ledger/form.html",
        lambda: grants.release_project(
            actor=current_user,
            key=form.key.data,
            project=row,
            on=form.on.data,
            reason=form.reason.data,
            status=ProjectStatus(form.status.data),
        ),
        _("Project ended; its undisbursed balance is back in the fund."),
        lambda _: url_for("ledger.project", project_id=row.id),
        title=_("End %(project)s", project=row.title),
        note=_(
            "Undisbursed: %(currency)s %(amount)s",
            currency=row.currency,
            amount=f"{grants.undisbursed(row):,}",
        ),
    )


@bp.route("/projects/<int:project_id>/disburse", methods=["GET", "POST"])
@requires(Permission.RECORD_LEDGER)
def disburse(project_id: int) -> View:
    row = db.get_or_404(Project, project_id)
    form = TrancheForm()

    def done(tranche: Tranche) -> str:
        if tranche.status == "pending":
            flash(_("Above the approval threshold: another fund manager must approve it."), "info")
        return url_for("ledger.project", project_id=row.id)

    return _book(
        form,
        "ledger/form.html",
        lambda: grants.request_disbursement(
            actor=current_user,
            key=form.key.data,
            project=row,
            amount=form.amount.data,
            paid_on=form.paid_on.data,
            reference=form.reference.data,
        ),
        _("Disbursement recorded."),
        done,
        title=_("Disburse a tranche to %(partner)s", partner=row.partner),
        note=_(
            "Undisbursed: %(currency)s %(amount)s. A programme support cost of %(rate)s%% is booked with it. "
            "Above US$%(threshold)s a second fund manager approves.",
            currency=row.currency,
            amount=f"{grants.undisbursed(row):,}",
            rate=f"{grants.psc_rate() * 100:.0f}",
            threshold=f"{grants.approval_threshold():,}",
        ),
    )


def _approvals_page(status: int = 200) -> tuple[str, int]:
    rows = db.session.scalars(
        select(Tranche).where(Tranche.status == "pending").order_by(Tranche.requested_at)
    ).all()
    page = render_template(
        "ledger/approvals.html",
        rows=[(t, engine.from_minor(t.amount_minor, t.project.currency)) for t in rows],
        form=EmptyForm(),
        reject=RejectForm(),
    )
    return page, status


@bp.get("/approvals")
@requires(Permission.APPROVE_DISBURSEMENT)
def approvals() -> tuple[str, int]:
    return _approvals_page()


@bp.post("/approvals/<int:tranche_id>/approve")
@requires(Permission.APPROVE_DISBURSEMENT)
@fresh_required
def approve(tranche_id: int) -> View | tuple[str, int]:
    tranche = db.get_or_404(Tranche, tranche_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        grants.approve_disbursement(actor=current_user, tranche=tranche)
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
        return _approvals_page(403 if isinstance(error, NotAllowed) else 409)
    commit_keeping_loaded()  # what follows reads no expired row
    flash(_("Disbursement approved and posted."), "success")
    return redirect(url_for("ledger.approvals"))


@bp.post("/approvals/<int:tranche_id>/reject")
@requires(Permission.APPROVE_DISBURSEMENT)
@fresh_required
def reject(tranche_id: int) -> View:
    tranche = db.get_or_404(Tranche, tranche_id)
    form = RejectForm()
    if not form.validate_on_submit():
        flash(_("Give a reason for rejecting."), "error")
        return redirect(url_for("ledger.approvals"))
    try:
        grants.reject_disbursement(actor=current_user, tranche=tranche, reason=form.reason.data)
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("ledger.approvals"))
    commit_keeping_loaded()  # what follows reads no expired row
    flash(_("Disbursement rejected."), "success")
    return redirect(url_for("ledger.approvals"))


# --- direct support --------------------------------------------------------------------------


@bp.get("/direct-support")
@requires(Permission.READ_LEDGER)
def direct_support() -> str:
    with read_only():
        form = DirectSupportFilterForm(request.args)
        filters = direct_support_list.DirectSupportFilters()
        if form.validate():
            filters = direct_support_list.DirectSupportFilters(
                start=form.start.data,
                end=form.end.data,
                currency=(form.currency.data or "").upper(),
                country_code=form.country.data or "",
                case_code=(form.case_code.data or "").strip().upper(),
            )
        # Kept while the ledger is unchanged (ledger.kept): every payment is an entry.
        totals = kept.figures(
            "direct support totals", lambda: direct_support_list.direct_support_totals(filters), filters
        )
        page = page_of(
            direct_support_list.direct_support_rows(filters),
            page=_page_number(),
            per_page=LIST_PAGE,
            count=lambda: sum(t.payments for t in totals),
        )
        return render_template(
            "ledger/direct_support.html",
            form=form,
            page=page,
            rows=direct_support_list.with_amounts([payment for (payment,) in page.items]),
            totals=totals,
            filters=_filters(),
        )


@bp.route("/direct-support/new", methods=["GET", "POST"])
@requires(Permission.RECORD_LEDGER)
def new_direct_support() -> View:
    form = DirectSupportForm()
    return _book(
        form,
        "ledger/form.html",
        lambda: victim_support.pay_direct_support(
            actor=current_user,
            key=form.key.data,
            case_code=form.case_code.data,
            country_code=form.country_code.data or None,
            purpose=form.purpose.data,
            amount=form.amount.data,
            currency=form.currency.data,
            paid_on=form.paid_on.data,
        ),
        _("Payment recorded."),
        lambda _: url_for("ledger.direct_support"),
        title=_("Direct support to a victim"),
    )


# --- journal, entries, trial balance, fund statement -----------------------------------------


@bp.get("/journal")
@requires(Permission.READ_LEDGER)
def journal() -> str:
    form = JournalFilterForm(request.args)
    accounts = db.session.scalars(select(Account).order_by(Account.code)).all()
    form.account.choices = [SelectChoice("", _("All"))] + [
        SelectChoice(a.code, f"{a.code} {a.name}") for a in accounts
    ]
    form.kind.choices = [SelectChoice("", _("All"))] + [
        SelectChoice(k, label) for k, label in _kind_labels().items()
    ]
    form.donor.choices = [SelectChoice("", _("All"))] + [
        SelectChoice(str(d.id), d.name) for d in db.session.scalars(select(Donor).order_by(Donor.name))
    ]
    query = select(Entry).order_by(Entry.seq.desc())
    filters = {}
    if form.validate():
        posting_filter = []
        if form.account.data:
            posting_filter.append(Posting.account_id == engine.account_id(form.account.data))
        if form.project.data:
            posting_filter.append(Posting.project_id == form.project.data)
        if form.donor.data:
            posting_filter.append(Posting.donor_id == int(form.donor.data))
        if form.country.data:
            posting_filter.append(Posting.country_code == form.country.data)
        if posting_filter:
            query = query.where(Entry.id.in_(select(Posting.entry_id).where(*posting_filter)))
        if form.start.data:
            query = query.where(Entry.entry_date >= form.start.data)
        if form.end.data:
            query = query.where(Entry.entry_date <= form.end.data)
        if form.kind.data:
            query = query.where(Entry.kind == form.kind.data)
        filters = {k: v for k, v in request.args.items() if k != "page" and v}
    page = db.paginate(query, per_page=50, max_per_page=50)
    return render_template("ledger/journal.html", form=form, page=page, filters=filters)


def _kind_labels() -> dict[str, str]:
    return {
        engine.EntryKind.PLEDGE: _("pledge"),
        engine.EntryKind.RECEIPT: _("receipt"),
        engine.EntryKind.WITHHOLDING: _("withholding"),
        engine.EntryKind.WITHHELD_TRANSFER: _("withheld transfer"),
        engine.EntryKind.GRANT_APPROVAL: _("grant approval"),
        engine.EntryKind.GRANT_RELEASE: _("grant release"),
        engine.EntryKind.DISBURSEMENT: _("disbursement"),
        engine.EntryKind.PROGRAMME_SUPPORT: _("programme support cost"),
        engine.EntryKind.VICTIM_SUPPORT: _("victim support"),
        engine.EntryKind.REVERSAL: _("reversal"),
    }


def _entry_context(row: Entry) -> dict[str, Any]:
    return {
        "entry": row,
        "reversal": engine.reversal_of(row),
        "accounts": {a.id: a for a in db.session.scalars(select(Account))},
        "donors": {d.id: d.name for d in db.session.scalars(select(Donor))},
        "amounts": {p.id: engine.from_minor(p.amount_minor, p.currency) for p in row.postings},
    }


@bp.get("/entries/<int:entry_id>")
@requires(Permission.READ_LEDGER)
def entry(entry_id: int) -> str:
    row = db.get_or_404(Entry, entry_id)
    form = ReversalForm()
    form.on.data = date.today()
    return render_template("ledger/entry.html", form=form, **_entry_context(row))


@bp.post("/entries/<int:entry_id>")
@requires(Permission.RECORD_LEDGER)
def reverse(entry_id: int) -> View:
    row = db.get_or_404(Entry, entry_id)
    form = ReversalForm()
    return _book(
        form,
        "ledger/entry.html",
        lambda: corrections.reverse_entry(
            actor=current_user, key=form.key.data, entry=row, on=form.on.data, reason=form.reason.data
        ),
        _("Entry reversed."),
        lambda reversal: url_for("ledger.entry", entry_id=reversal.id),
        **_entry_context(row),
    )


@bp.get("/trial-balance")
@requires(Permission.READ_LEDGER)
def trial_balance() -> str:
    as_of = request.args.get("as_of")
    try:
        day = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        day = None
    with read_only():
        rows, checks = kept.figures(
            "trial balance", lambda: (statements.trial_balance(day), subledgers.subledger_checks()), day
        )
        return render_template(
            "ledger/trial_balance.html",
            rows=rows,
            as_of=day,
            debit=sum(r.debit for r in rows),
            credit=sum(r.credit for r in rows),
            checks=checks,
            subledger_names={
                "pledges": _("pledges"),
                "withholdings": _("withholdings"),
                "grant commitments": _("grant commitments"),
            },
        )


@bp.get("/statement")
@requires(Permission.READ_LEDGER)
def statement() -> str:
    with read_only():
        fund, by_donor = kept.figures(
            "statement", lambda: (statements.fund_statement(), donor_figures.donor_figures())
        )
        donors = db.session.scalars(select(Donor).order_by(Donor.name))
        return render_template(
            "ledger/statement.html",
            s=fund,
            donors=[(donor, by_donor.get(donor.id, donor_figures.DonorFigures())) for donor in donors],
        )


# --- periods ---------------------------------------------------------------------------------


@bp.get("/periods")
@requires(Permission.READ_LEDGER)
def periods() -> str:
    return render_template("ledger/periods.html", form=CloseForm(), rows=months.periods())


@bp.post("/periods")
@requires(Permission.RECORD_LEDGER)
def close_period() -> View:
    form = CloseForm()
    return _book(
        form,
        "ledger/periods.html",
        lambda: months.close_period(actor=current_user, month=form.month.data),
        _("Month closed."),
        lambda p: url_for("ledger.period", period_id=p.id),
        rows=months.periods(),
    )


@bp.get("/periods/<int:period_id>")
@requires(Permission.READ_LEDGER)
def period(period_id: int) -> str:
    row = db.get_or_404(Period, period_id)
    return render_template("ledger/close_pack.html", period=row, pack=json.loads(row.close_pack))


@bp.get("/periods/<int:period_id>/close-pack.json")
@requires(Permission.READ_LEDGER)
def period_export(period_id: int) -> Response:
    row = db.get_or_404(Period, period_id)
    return Response(
        row.close_pack,
        mimetype="application/json",
        headers={"Content-Disposition": f"attachment; filename=close-pack-{row.month:%Y-%m}.json"},
    )
