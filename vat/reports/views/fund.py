"""The fund statement's page and export (CSV, workbook or PDF)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, abort, render_template, request
from flask_babel import gettext as _
from sqlalchemy import func, select

from ledger.models import Entry
from ledger.services.partner_reports import KIND_LABELS
from vat.auth.policy import Permission, requires
from vat.db import db
from vat.inputs import today
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
from vat.submission import writes


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
    statement = fund_statement(start, end, small_counts_below=small_counts_below())
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
        "portfolio": paged("page", statement.projects),
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
@writes
def fund_export(fmt: str) -> Response:
    if fmt not in (*FORMATS, "pdf"):
        abort(404)
    _form, start, end = fund_period()
    statement = fund_statement(start, end, small_counts_below=small_counts_below())
    sheets = _fund_sheets(statement)
    audit_export("fund-statement", fmt, {"start": start, "end": end}, sum(len(rows) for _, _, rows in sheets))
    if fmt == "pdf":
        title = f"Fund statement, {start.isoformat()} to {end.isoformat()}"
        return download("fund-statement", fmt, fund_statement_pdf(title, sheets, generated=date.today()))
    return download_sheets("fund-statement", fmt, sheets)
