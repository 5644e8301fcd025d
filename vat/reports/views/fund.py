"""The fund statement's page and export (CSV, workbook or PDF)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ledger.models import Entry
from ledger.services.partner_reports import KIND_LABELS
from vat.auth.policy import Permission, requires
from vat.db import db
from vat.inputs import today
from vat.paging import PAGE_SIZES, Page, page_number
from vat.reports.charts import income_and_spending_chart
from vat.reports.fund import PROJECT_KEYS, FundStatement, fund_statement
from vat.reports.pdf import fund_statement_pdf
from vat.reports.views.blueprint import (
    FORMATS,
    Sheet,
    audit_export,
    bp,
    carried,
    download,
    download_sheets,
    paged,
    period,
    small_counts_below,
)


def fund_period() -> tuple[Any, date, date]:
    """The period asked for; with none, the fund's life (its first entry to today), so the page
    opens on figures rather than on an empty current year."""
    form, start, end = period()
    if not request.args.get("start") and not request.args.get("end"):
        first = db.session.scalar(select(func.min(Entry.entry_date)))
        start, end = first or start, today()
        form.start.data, form.end.data = start, end
    return form, start, end


@bp.get("/fund")
@requires(Permission.READ_LEDGER)
def fund() -> str:
    form, start, end = fund_period()
    # The portfolio's page is cut in SQL (its totals from an aggregate): ~2,000 projects at scale.
    number, per_page = page_number(request.args.get("page")), PAGE_SIZES[1]
    statement = fund_statement(
        start, end, small_counts_below=small_counts_below(), page=((number - 1) * per_page, per_page)
    )
    chart = income_and_spending_chart(
        chart_id="fund-by-month",
        title=_(
            "Income and spending by month, %(start)s to %(end)s (US$)",
            start=f"{start:%d %b %Y}",
            end=f"{end:%d %b %Y}",
        ),
        months=statement.months,
        income=_("income"),
        spending=_("spending"),
    )
    # Every table that grows with the fund a page at a time, each with its own page in the address:
    # every project, donor, country and report counts in the statement.
    pages = {
        "portfolio": Page(
            items=statement.projects,
            page=number,
            per_page=per_page,
            total=statement.project_count,
            more=statement.project_count > number * per_page,
        ),
        "pledges": paged("donors_page", statement.pledges),
        "withheld": paged("countries_page", statement.withheld),
        "reports": paged("reports_page", statement.reports),
    }
    return render_template(
        "reports/fund.html",
        form=form,
        statement=statement,
        chart=chart,
        args=carried(form),
        paged_args=carried(form, "page", "donors_page", "countries_page", "reports_page"),
        **pages,
        report_kinds=KIND_LABELS,
        on=today(),
    )


FUND_SHEETS = {
    "summary": ["item", "source", "US$"],
    "pledges": ["donor", "pledged US$", "received US$", "outstanding US$"],
    "withheld": ["contributing country", "withheld US$", "transferred US$", "outstanding US$"],
    "projects": [
        "title",
        "partner",
        "country",
        "focus",
        "status",
        "planned start",
        "planned end",
        "actual start",
        "actual end",
        "approved US$",
        "disbursed US$",
        "remaining US$",
        "victims paid",
        "paid to named victims US$",
        "behind schedule",
        "victims reported",
        "reported reaching named victims US$",
        "share paid to named victims %",
        "share reported reaching named victims %",
    ],
    "reports": [
        "project",
        "partner",
        "report",
        "period from",
        "period to",
        "due on",
        "received on",
        "overdue",
    ],
    "months": ["month", "income US$", "spending US$"],
}


# The PDF is read by people, the CSV and workbook by programs too: the PDF shows the sheets'
# names, headings and fixed items in the reader's language, the sheets keep their stable words.
PDF_WORDS = {
    "item": _l("item"),
    "source": _l("source"),
    "US$": _l("US$"),
    "donor": _l("donor"),
    "pledged US$": _l("pledged US$"),
    "received US$": _l("received US$"),
    "outstanding US$": _l("outstanding US$"),
    "contributing country": _l("contributing country"),
    "withheld US$": _l("withheld US$"),
    "transferred US$": _l("transferred US$"),
    "title": _l("title"),
    "partner": _l("partner"),
    "country": _l("country"),
    "focus": _l("focus"),
    "status": _l("status"),
    "planned start": _l("planned start"),
    "planned end": _l("planned end"),
    "actual start": _l("actual start"),
    "actual end": _l("actual end"),
    "approved US$": _l("approved US$"),
    "disbursed US$": _l("disbursed US$"),
    "remaining US$": _l("remaining US$"),
    "victims paid": _l("victims paid"),
    "paid to named victims US$": _l("paid to named victims US$"),
    "behind schedule": _l("behind schedule"),
    "victims reported": _l("victims reported"),
    "reported reaching named victims US$": _l("reported reaching named victims US$"),
    "share paid to named victims %": _l("share paid to named victims %"),
    "share reported reaching named victims %": _l("share reported reaching named victims %"),
    "project": _l("project"),
    "report": _l("report"),
    "period from": _l("period from"),
    "period to": _l("period to"),
    "due on": _l("due on"),
    "received on": _l("received on"),
    "overdue": _l("overdue"),
    "month": _l("month"),
    "income US$": _l("income US$"),
    "spending US$": _l("spending US$"),
    "opening fund balance": _l("opening fund balance"),
    "total income": _l("total income"),
    "total expenses": _l("total expenses"),
    "closing fund balance": _l("closing fund balance"),
    "opening cash": _l("opening cash"),
    "closing cash": _l("closing cash"),
    "projects: paid to named victims": _l("projects: paid to named victims"),
    "projects: share of disbursements paid to named victims (%)": _l(
        "projects: share of disbursements paid to named victims (%)"
    ),
    "projects: partners reported reaching named victims": _l(
        "projects: partners reported reaching named victims"
    ),
    "projects: share of disbursements on individual needs (%)": _l(
        "projects: share of disbursements on individual needs (%)"
    ),
    "suppressed": _l("suppressed"),
    "yes": _l("yes"),
    "Pledges and receipts": _l("Pledges and receipts"),
    "Withheld payments": _l("Withheld payments"),
    "Projects": _l("Projects"),
    "Partner reports": _l("Partner reports"),
    "By month": _l("By month"),
}


def _for_reading(sheets: list[Sheet], start: date, end: date) -> list[Sheet]:
    def word(value: Any) -> Any:
        return str(PDF_WORDS[value]) if isinstance(value, str) and value in PDF_WORDS else value

    read = [
        (word(name), [word(h) for h in header], [[word(v) for v in row] for row in rows])
        for name, header, rows in sheets
    ]
    read[0] = (_("Fund %(start)s to %(end)s", start=start, end=end), *read[0][1:])
    return read


# Hidden together, each with the count of victims that hides it.
SUPPRESSED = {
    **dict.fromkeys(("victims_paid", "paid_to_victims", "individual_share"), "victims_paid"),
    **dict.fromkeys(("victims_reported", "reported_to_victims", "reported_share"), "victims_reported"),
}


def _fund_sheets(statement: FundStatement) -> list[Sheet]:
    summary: list[list[Any]] = [["opening fund balance", "", statement.opening_balance]]
    summary += [[f"income: {category}", source, amount] for category, source, amount in statement.income]
    summary.append(["total income", "", statement.total_income])
    summary += [[f"expense: {category}", "", amount] for category, amount in statement.expenses]
    summary.append(["total expenses", "", statement.total_expenses])
    summary.append(["closing fund balance", "", statement.closing_balance])
    summary.append(["opening cash", "", statement.opening_cash])
    summary.append(["closing cash", "", statement.closing_cash])
    if statement.individual is not None:
        paid, _disbursed, share = statement.individual
        summary.append(["projects: paid to named victims", "", paid])
        summary.append(["projects: share of disbursements paid to named victims (%)", "", share])
    if statement.reported is not None:
        reached, _disbursed, share = statement.reported
        summary.append(["projects: partners reported reaching named victims", "", reached])
        summary.append(["projects: share of disbursements on individual needs (%)", "", share])
    projects = [
        [
            "suppressed" if k in SUPPRESSED and p[k] is None and p[SUPPRESSED[k]] is None else p[k]
            for k in PROJECT_KEYS
        ]
        for p in statement.projects
    ]
    on = min(today(), statement.end)
    reports = []
    for r in statement.reports:
        received = r.received_on if r.received_on and r.received_on <= statement.end else None
        overdue = "yes" if received is None and r.due_on < on else ""
        reports.append(
            [
                r.project.title,
                r.project.partner,
                r.kind,
                r.period_start,
                r.period_end,
                r.due_on,
                received,
                overdue,
            ]
        )
    return [
        (f"Fund {statement.start} to {statement.end}"[:31], FUND_SHEETS["summary"], summary),
        ("Pledges and receipts", FUND_SHEETS["pledges"], [list(r) for r in statement.pledges]),
        ("Withheld payments", FUND_SHEETS["withheld"], [list(r) for r in statement.withheld]),
        ("Projects", FUND_SHEETS["projects"], projects),
        ("Partner reports", FUND_SHEETS["reports"], reports),
        ("By month", FUND_SHEETS["months"], [list(r) for r in statement.months]),
    ]


@bp.get("/fund/export.<fmt>")
@requires(Permission.READ_LEDGER)
def fund_export(fmt: str) -> Response:
    if fmt not in (*FORMATS, "pdf"):
        abort(404)
    _form, start, end = fund_period()
    statement = fund_statement(start, end, small_counts_below=small_counts_below())
    sheets = _fund_sheets(statement)
    audit_export("fund-statement", fmt, {"start": start, "end": end}, sum(len(rows) for _, _, rows in sheets))
    if fmt == "pdf":
        title = _("Fund statement, %(start)s to %(end)s", start=start.isoformat(), end=end.isoformat())
        pdf = fund_statement_pdf(title, _for_reading(sheets, start, end), generated=date.today())
        return download("fund-statement", fmt, pdf)
    return download_sheets("fund-statement", fmt, sheets)
