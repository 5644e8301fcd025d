"""Donors, their pledges and receipts, and the exchange rates."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs are of wtforms 3.2

from ledger.forms import DonorForm, PledgeForm, RateForm, RatesFileForm, ReceiptForm
from ledger.labels import donor_name
from ledger.models import Donor, DonorKind, ExchangeRate, Pledge, Posting, Receipt
from ledger.reports import donor_figures
from ledger.services import contributions, months
from ledger.usual_amounts import PLEDGES, RECEIPTS
from ledger.views.blueprint import (
    LIST_PAGE,
    Recording,
    View,
    bp,
    page_number,
    post_on_row,
    recording_page,
)
from vat import human_time
from vat.auth.forms import EmptyForm
from vat.auth.policy import Permission, fresh_required, requires
from vat.db import db
from vat.errors import DomainError, NotAllowed
from vat.paging import page_of
from vat.sorting import Sort, SortableColumns, without_sort
from vat.submission import button, given, show_hidden_errors, submit, text
from vat.templating import money

# --- donors, pledges, receipts ---------------------------------------------------------------


DONOR_SORTS = SortableColumns.of(Donor, ("name", "kind", "country_code"), Sort("name", descending=False))


@bp.get("/donors")
@requires(Permission.READ_LEDGER)
def donors() -> str:
    sort = DONOR_SORTS.chosen(request.args)
    page = page_of(
        DONOR_SORTS.apply(select(Donor), sort),
        page=page_number(),
        per_page=LIST_PAGE,
        count=lambda: db.session.scalar(select(func.count(Donor.id))) or 0,
    )
    figures = donor_figures.donor_figures()
    return render_template(
        "ledger/donors.html",
        page=page,
        rows=[(donor, figures.get(donor.id, donor_figures.DonorFigures())) for (donor,) in page.items],
        total=sum(figures.values(), donor_figures.DonorFigures()),
        sort=sort,
        args=without_sort(request.args),
    )


@recording_page(
    "/donors/new", DonorForm, show="new_donor", page=lambda _form, _row: {"title": _("New donor")}
)
def create_donor(form: DonorForm, _row: None) -> Recording[Donor]:
    return Recording(
        lambda: contributions.create_donor(
            actor=current_user,
            name=text(form.name),
            kind=DonorKind(form.kind.data),
            country_code=form.country_code.data or None,
        ),
        done=_("Donor added."),
        then=lambda donor: url_for("ledger.donor", donor_id=donor.id),
    )


@bp.get("/donors/<int:donor_id>")
@requires(Permission.READ_LEDGER)
def donor(donor_id: int) -> str:
    """The donor's figures and one page of its pledges and of its receipts (one page number for
    both: page 2 shows the next 50 of each)."""
    number = page_number()
    row = db.get_or_404(Donor, donor_id)
    pledges = donor_figures.donor_pledges(row, page=number, per_page=LIST_PAGE)
    receipts = donor_figures.donor_receipts(row, page=number, per_page=LIST_PAGE)
    figures = donor_figures.donor_figures()
    return render_template(
        "ledger/donor.html",
        donor=row,
        figures=figures.get(row.id, donor_figures.DonorFigures()),
        pledges=pledges,
        receipts=receipts,
        page=max(pledges, receipts, key=lambda p: p.pages),
    )


def _pledge_page(_form: PledgeForm, donor: Donor) -> dict[str, Any]:
    return {"title": _("Pledge by %(donor)s", donor=donor_name(donor))}


@recording_page("/donors/<int:donor_id>/pledge", PledgeForm, show="new_pledge", page=_pledge_page, load=Donor)
def record_pledge(form: PledgeForm, row: Donor) -> Recording[Pledge]:
    return Recording(
        lambda: contributions.record_pledge(actor=current_user, donor=row, **form.values()),
        done=_("Pledge recorded."),
        usual=(PLEDGES, text(form.currency)),
        then=lambda _: url_for("ledger.donor", donor_id=row.id),
    )


OPEN_PLEDGES_OFFERED = 100  # the receipt form's choice of pledges: the oldest open ones


def _receipt_page(form: ReceiptForm, donor: Donor) -> dict[str, Any]:
    """The receipt form offers the donor's oldest open pledges (the oldest chosen on a new form);
    the page's title and note."""
    open_pledges = donor_figures.open_pledges(donor, limit=OPEN_PLEDGES_OFFERED + 1)
    form.pledge_id.choices = [SelectChoice("", _("Unpledged contribution"))] + [
        SelectChoice(
            str(pledge.id),
            _(
                "%(day)s · %(currency)s %(amount)s outstanding",
                day=pledge.pledged_on,
                currency=pledge.currency,
                amount=money(outstanding),
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
    return {"title": _("Receipt from %(donor)s", donor=donor_name(donor)), "note": note}


@recording_page(
    "/donors/<int:donor_id>/receipt", ReceiptForm, show="new_receipt", page=_receipt_page, load=Donor
)
def record_receipt(form: ReceiptForm, row: Donor) -> Recording[Receipt]:
    def run() -> Receipt:
        pledge = db.session.get(Pledge, int(form.pledge_id.data)) if form.pledge_id.data else None
        return contributions.record_receipt(
            actor=current_user, donor=row, pledge=pledge, **form.values("pledge_id")
        )

    return Recording(
        run,
        done=_("Receipt recorded."),
        then=lambda _: url_for("ledger.donor", donor_id=row.id),
        usual=(RECEIPTS, text(form.currency)),
    )


# --- exchange rates --------------------------------------------------------------------------


@bp.get("/rates")
@requires(Permission.READ_LEDGER)
def rates() -> str:
    return render_template("ledger/rates.html", **_rates_page())


@bp.post("/rates")
@requires(Permission.RECORD_LEDGER)
@fresh_required
def record_rate() -> View:
    form = RateForm()
    page = _rates_page()
    page.pop("form")
    return submit(
        form,
        lambda: months.set_rate(
            actor=current_user,
            currency=text(form.currency),
            month=given(form.month.data),
            rate=given(form.rate.data),
            source=text(form.source),
            reason=form.reason.data or None,
        ),
        done=_("Rate recorded: it takes effect once another fund manager confirms it."),
        then=lambda _: url_for("ledger.rates"),
        template="ledger/rates.html",
        **page,
    )


MAX_RATES_FILE = 1024 * 1024


@bp.post("/rates/import")
@requires(Permission.RECORD_LEDGER)
@fresh_required
def import_rates() -> View:
    form = RatesFileForm()
    page = _rates_page() | {"upload": form}
    if not form.validate_on_submit():
        show_hidden_errors(form)
        return render_template("ledger/rates.html", **page), human_time.invalid_status(form)
    data = form.file.data.stream.read(MAX_RATES_FILE + 1)
    try:
        if len(data) > MAX_RATES_FILE:
            raise DomainError(_("The rates file is larger than 1 MB."))
        try:
            decoded = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise DomainError(_("The rates file is not UTF-8 text.")) from None
        rows = months.import_rates(actor=current_user, data=decoded, source=text(form.source))
    except DomainError as refused:
        db.session.rollback()
        flash(str(refused), "error")
        return render_template("ledger/rates.html", **page), 403 if isinstance(refused, NotAllowed) else 422
    db.session.commit()
    flash(
        _(
            "%(count)s rates loaded: they take effect once another fund manager confirms them.",
            count=len(rows),
        ),
        "success",
    )
    return redirect(url_for("ledger.rates"))


@post_on_row("/rates/<int:rate_id>/confirm", ExchangeRate, Permission.RECORD_LEDGER, fresh=True)
def confirm_rate(row: ExchangeRate) -> View:
    return button(
        lambda: months.confirm_rate(actor=current_user, rate=row),
        done=_("Rate confirmed: it now converts."),
        back=url_for("ledger.rates"),
    )


@bp.post("/rates/confirm")
@requires(Permission.RECORD_LEDGER)
@fresh_required
def confirm_rates() -> View:
    return button(
        lambda: months.confirm_rates(actor=current_user),
        done=_("Every rate another fund manager recorded is confirmed."),
        back=url_for("ledger.rates"),
    )


def _rates_page() -> dict[str, Any]:
    used = set(
        db.session.scalars(select(Posting.fx_rate_id).where(Posting.fx_rate_id.is_not(None)).distinct())
    )
    rows = db.session.scalars(select(ExchangeRate).order_by(ExchangeRate.month.desc(), ExchangeRate.currency))
    return {
        "form": RateForm(),
        "upload": RatesFileForm(),
        "confirm": EmptyForm(),
        "rows": [(r, r.id in used) for r in rows],
        "band": f"{months.rate_band() * 100:.0f}",
    }
