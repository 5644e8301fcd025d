"""Server-rendered SVG bar charts: no script, no inline style (the CSP forbids both). Colours come
from CSS classes in static/app.css; each chart is an image with a title and a description, and
the page shows the same figures as a table beside it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from flask_babel import gettext as _
from markupsafe import Markup, escape

from vat.money import shown
from vat.reports.suppression import SuppressedTable

WIDTH = 640
PLOT_TOP = 16
PLOT_HEIGHT = 200
LABEL_SPACE = 48
LEFT = 64
ONE_PLACE = Decimal("0.1")
MAX_LABEL = 22


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[Decimal | int | None]  # None: hidden (suppressed) or unknown — no bar
    css_class: str = "series-1"


def _coordinate(value: Decimal) -> str:
    return str(value.quantize(ONE_PLACE, rounding=ROUND_HALF_UP))


def _figure(value: Decimal | int) -> str:
    return shown(value)  # grouped the reader's way, every decimal kept


def bar_chart(*, chart_id: str, title: str, categories: Sequence[str], series: Sequence[Series]) -> Markup:
    """A grouped bar chart of non-negative values, one group per category."""
    known = [Decimal(v) for s in series for v in s.values if v is not None]
    if not any(v > 0 for v in known):
        return Markup('<p class="help chart-empty">{}</p>').format(
            _("Nothing to chart: every figure is zero or suppressed.")
        )
    slanted = len(categories) > 4  # long lists of labels slant so they do not overlap
    longest = max((len(_short(c)) for c in categories), default=0)
    label_space = LABEL_SPACE + 4 * longest if slanted else LABEL_SPACE
    height = PLOT_TOP + PLOT_HEIGHT + label_space + 20 * max(len(series), 1)
    top = max([v for v in known if v > 0], default=Decimal(1))
    groups = max(len(categories), 1)
    group_width = Decimal(WIDTH - LEFT - 8) / groups
    bar_width = group_width * Decimal("0.8") / max(len(series), 1)
    base = Decimal(PLOT_TOP + PLOT_HEIGHT)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(_description(categories, series))}</desc>',
        f'<line class="axis" x1="{LEFT}" y1="{base}" x2="{WIDTH - 4}" y2="{base}"/>',
        f'<text class="tick" x="{LEFT - 6}" y="{PLOT_TOP + 4}" text-anchor="end">{_figure(top)}</text>',
        f'<text class="tick" x="{LEFT - 6}" y="{base}" text-anchor="end">0</text>',
    ]
    for index, category in enumerate(categories):
        x0 = Decimal(LEFT) + group_width * index + group_width * Decimal("0.1")
        for number, line in enumerate(series):
            value = line.values[index] if index < len(line.values) else None
            if value is None or Decimal(value) <= 0:
                continue
            bar = Decimal(PLOT_HEIGHT) * Decimal(value) / top
            x = x0 + bar_width * number
            parts.append(
                f'<rect class="bar {escape(line.css_class)}" x="{_coordinate(x)}" '
                f'y="{_coordinate(base - bar)}" width="{_coordinate(bar_width)}" height="{_coordinate(bar)}">'
                f"<title>{escape(category)}, {escape(line.name)}: {_figure(value)}</title></rect>"
            )
        centre = _coordinate(Decimal(LEFT) + group_width * index + group_width / 2)
        if slanted:
            parts.append(
                f'<text class="tick" x="{centre}" y="{base + 14}" text-anchor="end" '
                f'transform="rotate(-35 {centre} {base + 14})">{escape(_short(category))}</text>'
            )
        else:
            parts.append(
                f'<text class="tick" x="{centre}" y="{base + 16}" text-anchor="middle">'
                f"{escape(category)}</text>"
            )
    for number, line in enumerate(series):
        y = PLOT_TOP + PLOT_HEIGHT + label_space + 20 * number
        parts.append(
            f'<rect class="bar {escape(line.css_class)}" x="{LEFT}" y="{y - 10}" width="12" height="12"/>'
        )
        parts.append(f'<text class="legend" x="{LEFT + 18}" y="{y}">{escape(line.name)}</text>')
    parts.append("</svg>")
    # Every text interpolated above is escaped and chart ids are constants of the views (bandit
    # B704 reviewed in docs/reliability.md; tests/security/test_attacks.py feeds it markup).
    return Markup("".join(parts))  # noqa: S704  # nosec B704


def _short(label: str) -> str:
    """A category label short enough for the axis (the table beside the chart has it in full)."""
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"


def _description(categories: Sequence[str], series: Sequence[Series]) -> str:
    described = []
    for line in series:
        values = ", ".join(
            f"{c}: {_('hidden') if v is None else _figure(v)}"
            for c, v in zip(categories, line.values, strict=False)
        )
        described.append(f"{line.name} — {values}")
    return "; ".join(described) + ". " + _("The same figures are in the table below the chart.")


def counts_chart(
    *, chart_id: str, title: str, categories: Sequence[str], name: str, counts: Sequence[int | None]
) -> Markup:
    """One series of counts, one bar per category."""
    return bar_chart(chart_id=chart_id, title=title, categories=categories, series=[Series(name, counts)])


def table_chart(
    chart_id: str, title: str, name: str, table: SuppressedTable, *, by: Literal["rows", "columns"]
) -> Markup:
    """One bar per row (or per column) of a suppressed table: its total, none where it is hidden."""
    if by == "rows":
        return counts_chart(
            chart_id=chart_id, title=title, categories=table.row_labels, name=name, counts=table.row_totals
        )
    return counts_chart(
        chart_id=chart_id, title=title, categories=table.column_labels, name=name, counts=table.column_totals
    )


def pairs_chart(chart_id: str, title: str, name: str, pairs: Sequence[tuple[str, int | None]]) -> Markup:
    """One bar per (label, count) pair."""
    return counts_chart(
        chart_id=chart_id,
        title=title,
        categories=[label for label, _ in pairs],
        name=name,
        counts=[count for _, count in pairs],
    )


def income_and_spending_chart(
    *, chart_id: str, title: str, months: Sequence[tuple[str, Decimal, Decimal]], income: str, spending: str
) -> Markup:
    """The fund's income and spending (US dollars) side by side, one group per month."""
    return bar_chart(
        chart_id=chart_id,
        title=title,
        categories=[month for month, _, _ in months],
        series=[
            Series(income, [amount for _, amount, _ in months], "series-1"),
            Series(spending, [amount for _, _, amount in months], "series-2"),
        ],
    )
