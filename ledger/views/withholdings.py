"""Withholdings on contributions and their transfers to the fund."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ledger import engine
from ledger.forms import TransferForm, WithholdingForm
from ledger.models import Withholding, WithholdingTransfer
from ledger.reports import withheld
from ledger.services import withholdings
from ledger.usual_amounts import TRANSFERS, WITHHOLDINGS
from ledger.views.blueprint import LIST_PAGE, Recording, bp, page_number, recording_page
from vat.auth.policy import Permission, requires
from vat.db import db
from vat.submission import text

# --- withholdings ----------------------------------------------------------------------------


@bp.get("/withholdings")
@requires(Permission.READ_LEDGER)
def reconciliation() -> str:
    """The totals, ageing and countries, and one page of the lines (50,000 at 100,000 victims)."""
    today = date.today()
    recon = withheld.reconciliation(today, lines=False)
    page = withheld.line_page(recon, today, page=page_number(), per_page=LIST_PAGE)
    return render_template(
        "ledger/reconciliation.html",
        recon=recon,
        page=page,
        by_mission=recon.by_mission,
        buckets=withheld.AGEING_BUCKETS,
    )


def _withholding_page(form: WithholdingForm, _row: None) -> dict[str, Any]:
    if request.method == "GET":
        form.allegation_ref.data = request.args.get("allegation", "")[:40]
    return {"title": _("Payment withheld for a substantiated allegation")}


@recording_page("/withholdings/new", WithholdingForm, show="new_withholding", page=_withholding_page)
def record_withholding(form: WithholdingForm, _row: None) -> Recording[Withholding]:
    return Recording(
        lambda: withholdings.record_withholding(actor=current_user, **form.values()),
        done=_("Withholding recorded."),
        usual=(WITHHOLDINGS, text(form.currency)),
        then=lambda w: url_for("ledger.withholding", withholding_id=w.id),
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


def _transfer_page(_form: TransferForm, withholding: Withholding) -> dict[str, Any]:
    return {
        "title": _(
            "Transfer into the fund: %(country)s, allegation %(reference)s",
            country=withholding.country_code,
            reference=withholding.allegation_ref,
        )
    }


@recording_page(
    "/withholdings/<int:withholding_id>/transfer",
    TransferForm,
    show="new_transfer",
    page=_transfer_page,
    load=Withholding,
)
def record_transfer(form: TransferForm, row: Withholding) -> Recording[WithholdingTransfer]:
    return Recording(
        lambda: withholdings.record_withholding_transfer(
            actor=current_user, withholding=row, **form.values()
        ),
        done=_("Transfer recorded."),
        usual=(TRANSFERS, row.currency),
        then=lambda _: url_for("ledger.withholding", withholding_id=row.id),
    )
