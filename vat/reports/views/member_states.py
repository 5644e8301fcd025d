"""The member-state scorecard's page and export."""

from __future__ import annotations

from typing import Any

from flask import Response, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from vat.auth.policy import Permission, can
from vat.reports.charts import Series, bar_chart
from vat.reports.member_states import COUNTS, Scorecard, scorecard
from vat.reports.views.blueprint import audit_export, download_sheet, paged, route_report

CHARTED = ("investigations_overdue", "results_not_sent", "sanctions_pending")
TITLE = _l("Member-state scorecard")


def _scorecard() -> Scorecard:
    return scorecard(current_user, reads_ledger=can(current_user, Permission.READ_LEDGER))


def member_states() -> str:
    card = _scorecard()
    labels = dict(COUNTS)
    chart = bar_chart(
        chart_id="member-states-chart",
        title=_("Investigations overdue, results not sent and sanctions pending, by member state"),
        categories=[line.member_state for line in card.lines],
        series=[
            Series(str(labels[key]), [line.counts[key] for line in card.lines], f"series-{n}")
            for n, key in enumerate(CHARTED, start=1)
        ],
    )
    # The chart draws every member state; the table shows them a page at a time.
    lines = paged("page", card.lines)
    return render_template(
        "reports/member_states.html", card=card, lines=lines, counts=COUNTS, chart=chart, title=TITLE
    )


def member_states_export(fmt: str) -> Response:
    card = _scorecard()
    header = [
        "member state",
        "name",
        *[str(label) for _, label in COUNTS],
        "average days to a national investigator decision",
        "longest paternity wait (days)",
    ]
    if card.shows_withheld:
        header.append("withheld outstanding")
    rows = [_row(line, card) for line in card.lines]
    audit_export("member-states", fmt, {}, len(rows))
    return download_sheet("member-states", fmt, ("Member-state scorecard", header, rows))


def _row(line: Any, card: Scorecard) -> list[Any]:
    row = [
        line.member_state,
        line.name,
        *["suppressed" if line.counts[k] is None else line.counts[k] for k, _ in COUNTS],
        line.nio_average_days,
        line.longest_wait_days,
    ]
    if card.shows_withheld:
        row.append(
            "; ".join(f"{amount} {currency}" for currency, amount in line.withheld_outstanding.items())
        )
    return row


route_report("member_states", member_states, member_states_export, path="member-states")
