"""Direct support paid to victims from the fund."""

from __future__ import annotations

from typing import Any

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ledger.forms import COUNTRY_NAMES, DirectSupportFilterForm, DirectSupportForm, offer
from ledger.models import DirectSupport
from ledger.reports import direct_support_list
from ledger.services import victim_support
from ledger.usual_amounts import DIRECT_SUPPORT
from ledger.views.blueprint import (
    LIST_PAGE,
    Recording,
    bp,
    list_filters,
    page_number,
    recording_page,
    waits_or_booked,
)
from vat.auth.policy import Permission, requires
from vat.paging import page_of
from vat.sorting import Sort, SortableColumns, without_sort
from vat.submission import text

# --- direct support --------------------------------------------------------------------------


DIRECT_SUPPORT_SORTS = SortableColumns.of(
    DirectSupport,
    ("paid_on", "case_code", "country_code", "purpose", "route"),
    Sort("paid_on", descending=True),
)


@bp.get("/direct-support")
@requires(Permission.READ_LEDGER)
def direct_support() -> str:
    form = DirectSupportFilterForm(request.args)
    currencies, countries = direct_support_list.filter_values()
    offer(form.currency, currencies)
    offer(form.country, countries, COUNTRY_NAMES)
    filters = _filters(form) if form.validate() else direct_support_list.DirectSupportFilters()
    totals = direct_support_list.direct_support_totals(filters)
    sort = DIRECT_SUPPORT_SORTS.chosen(request.args)
    page = page_of(
        DIRECT_SUPPORT_SORTS.apply(direct_support_list.direct_support_rows(filters), sort),
        page=page_number(),
        per_page=LIST_PAGE,
        count=lambda: sum(t.payments for t in totals),
    )
    return render_template(
        "ledger/direct_support.html",
        form=form,
        page=page,
        rows=direct_support_list.with_amounts([payment for (payment,) in page.items]),
        totals=totals,
        filters=list_filters(),
        sort=sort,
        args=without_sort(request.args),
    )


def _filters(form: DirectSupportFilterForm) -> direct_support_list.DirectSupportFilters:
    """The list's filters, from a valid filter form."""
    return direct_support_list.DirectSupportFilters(
        start=form.start.data,
        end=form.end.data,
        currency=(form.currency.data or "").upper(),
        country_code=form.country.data or "",
        case_code=(form.case_code.data or "").strip().upper(),
    )


def _direct_support_page(form: DirectSupportForm, _row: None) -> dict[str, Any]:
    """The form offers the projects a partner-routed payment may go through, latest approved first."""
    form.project_id.choices = [("", "—"), *direct_support_list.project_choices()]
    return {"title": _("Direct support to a victim")}


@recording_page(
    "/direct-support/new", DirectSupportForm, show="new_direct_support", page=_direct_support_page, fresh=True
)
def pay_direct_support(form: DirectSupportForm, _row: None) -> Recording[DirectSupport]:
    return Recording(
        lambda: victim_support.pay_direct_support(
            actor=current_user,
            country_code=form.country_code.data or None,
            route=form.route.data or None,
            **form.values("country_code", "route"),
        ),
        done=waits_or_booked(
            lambda support: support.entry_id is None,
            waiting=_("Beyond the four-eyes limits: the payment waits for another fund manager's approval."),
            booked=_("Payment recorded."),
        ),
        usual=(DIRECT_SUPPORT, text(form.currency)),
        then=lambda _: url_for("ledger.direct_support"),
    )
