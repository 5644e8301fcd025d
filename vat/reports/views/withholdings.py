"""For fund managers: the withholdings to record, from the allegations (a work list kept with the
reports, outside the victims' pages, which only those who see victims may open)."""

from __future__ import annotations

from flask import render_template, request

from vat.allegations.services import withholding_proposals
from vat.auth.policy import Permission, requires
from vat.paging import PAGE_SIZES, page_number
from vat.reports.views.blueprint import bp


@bp.get("/withholdings-to-record")
@requires(Permission.RECORD_LEDGER)
def withholdings_to_record() -> str:
    """Substantiated allegations against a contingent with nothing withheld yet."""
    proposals = withholding_proposals(page=page_number(request.args.get("page")), per_page=PAGE_SIZES[1])
    return render_template("reports/withholdings_to_record.html", proposals=proposals)
