"""The ledger's overview, journal, entries (and their reversal), trial balance and fund statement."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs are of wtforms 3.2

from ledger import engine
from ledger.forms import (
    JournalFilterForm,
    ReversalForm,
)
from ledger.labels import account_name, donor_name
from ledger.models import Account, Donor, Entry, Posting
from ledger.outflows import Outflow
from ledger.reports import (
    donor_figures,
    statements,
    subledgers,
)
from ledger.reports.overview import fund_overview
from ledger.services import corrections
from ledger.views.blueprint import View, bp, page_number, post_on_row, waits_or_booked
from ledger.views.projects import status_labels
from vat.auth.policy import Permission, requires
from vat.db import db
from vat.inputs import today
from vat.submission import submit

# --- overview --------------------------------------------------------------------------------


@bp.get("/")
@requires(Permission.READ_LEDGER)
def index() -> str:
    return render_template(
        "ledger/index.html", overview=fund_overview(date.today()), statuses=status_labels()
    )


# --- journal, entries, trial balance, fund statement -----------------------------------------


@bp.get("/journal")
@requires(Permission.READ_LEDGER)
def journal() -> str:
    form = JournalFilterForm(request.args)
    accounts = db.session.scalars(select(Account).order_by(Account.code)).all()
    form.account.choices = [SelectChoice("", _("All"))] + [
        SelectChoice(a.code, f"{a.code} {account_name(a.code, a.name)}") for a in accounts
    ]
    form.kind.choices = [SelectChoice("", _("All"))] + [
        SelectChoice(k, label) for k, label in _kind_labels().items()
    ]
    form.donor.choices = [SelectChoice("", _("All"))] + [
        SelectChoice(str(d.id), donor_name(d)) for d in db.session.scalars(select(Donor).order_by(Donor.name))
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
    page = db.paginate(query, page=page_number(), per_page=50, max_per_page=50, error_out=False)
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
    form.on.data = today()
    return render_template("ledger/entry.html", form=form, **_entry_context(row))


@post_on_row("/entries/<int:entry_id>", Entry, Permission.RECORD_LEDGER, fresh=True)
def reverse(row: Entry) -> View:
    form = ReversalForm()

    done = waits_or_booked(
        lambda result: isinstance(result, Outflow),
        waiting=_("Beyond the four-eyes limits: the reversal waits for another fund manager's approval."),
        booked=_("Entry reversed."),
    )

    def then(result: Entry | Outflow) -> str:
        return url_for("ledger.entry", entry_id=result.id if isinstance(result, Entry) else row.id)

    return submit(
        form,
        lambda: corrections.reverse_entry(actor=current_user, entry=row, **form.values()),
        done=done,
        then=then,
        template="ledger/entry.html",
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
    rows, checks = statements.trial_balance(day), subledgers.subledger_checks()
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
    fund, by_donor = statements.fund_statement(), donor_figures.donor_figures()
    donors = db.session.scalars(select(Donor).order_by(Donor.name))
    return render_template(
        "ledger/statement.html",
        s=fund,
        donors=[(donor, by_donor.get(donor.id, donor_figures.DonorFigures())) for donor in donors],
    )
