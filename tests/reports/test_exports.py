"""Exports are safe to open in a spreadsheet (S17): formulas neutralised, numbers kept as numbers."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from flask_babel import force_locale
from openpyxl import load_workbook

from vat.reports.charts import Series, bar_chart
from vat.reports.exports import csv_lines, neutralise, xlsx_bytes

HOSTILE = ["=1+2", "+SUM(A1)", "-2+3", "@cmd", "\tTAB", "\rCR", "\0NUL", '=HYPERLINK("http://x")']


def test_every_trigger_gets_a_leading_apostrophe():
    for text in HOSTILE:
        assert neutralise(text) == "'" + text
    assert neutralise("CAR-2017-0042") == "CAR-2017-0042"
    assert neutralise("a=b") == "a=b"


def test_numbers_dates_and_decimals_stay_typed():
    assert neutralise(Decimal("-12.50")) == Decimal("-12.50")
    assert neutralise(-3) == -3
    assert neutralise(date(2020, 1, 2)) == date(2020, 1, 2)
    assert neutralise(None) is None
    with pytest.raises(TypeError):
        neutralise(1.5)


def test_bidi_overrides_are_removed():
    assert neutralise("abc\u202edef\u2066") == "abcdef"


def test_csv_round_trips_to_the_escaped_text():
    text = "".join(csv_lines(["case code", "amount"], [[h, Decimal("-5.25")] for h in HOSTILE]))
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))
    assert rows[0] == ["case code", "amount"]
    assert [r[0] for r in rows[1:]] == ["'" + h for h in HOSTILE]
    assert {r[1] for r in rows[1:]} == {"-5.25"}  # a negative amount is still a plain number


def test_xlsx_opens_with_header_rows_and_typed_numbers():
    data = xlsx_bytes(
        [
            (
                "=Sheet",
                ["case code", "amount", "on"],
                [[h, Decimal("-5.25"), date(2020, 1, 2)] for h in HOSTILE],
            )
        ]
    )
    sheet = load_workbook(io.BytesIO(data)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == ("case code", "amount", "on")
    # a worksheet cannot hold NUL (shown as U+FFFD) and XML reads CR back as LF; the apostrophe stays
    expected = ["'" + h.replace("\0", "\ufffd").replace("\r", "\n") for h in HOSTILE]
    assert [r[0] for r in values[1:]] == expected
    assert all(r[1] == -5.25 and isinstance(r[1], int | float) for r in values[1:])
    for row in sheet.iter_rows(min_row=2):
        assert row[0].data_type == "s"  # text, never a formula
        assert row[1].data_type == "n"


def test_chart_is_accessible_svg_without_inline_style():
    svg = str(
        bar_chart(
            chart_id="c1",
            title="Income <and> spending",
            categories=["2020-01", "<b>"],
            series=[
                Series("Income", [Decimal("10.00"), Decimal(5)], "series-1"),
                Series("Spending", [None, 2]),
            ],
        )
    )
    assert 'role="img"' in svg and '<title id="c1-title">Income &lt;and&gt; spending</title>' in svg
    assert "style=" not in svg and "<script" not in svg
    assert "&lt;b&gt;" in svg and "<b>" not in svg
    assert svg.count("<rect") == 3 + 2  # three bars (None hidden) and two legend keys


def test_a_chart_with_nothing_to_show_says_so():
    empty = str(bar_chart(chart_id="c2", title="t", categories=["a"], series=[Series("s", [None])]))
    assert "<svg" not in empty and "Nothing to chart" in empty


def test_long_category_lists_slant_and_shorten_their_labels():
    labels = [f"a very long category label number {n}" for n in range(6)]
    svg = str(bar_chart(chart_id="c3", title="t", categories=labels, series=[Series("s", [1] * 6)]))
    assert svg.count('transform="rotate(-35') == 6
    assert "a very long category …" in svg


@pytest.mark.parametrize(("locale", "grouped"), [("en", "12,345.50"), ("fr", "12\u202f345,50")])
def test_a_charts_figures_are_grouped_the_readers_way(app, locale, grouped):
    with app.test_request_context(), force_locale(locale):
        svg = str(
            bar_chart(chart_id="c3", title="t", categories=["a"], series=[Series("s", [Decimal("12345.50")])])
        )
    assert f"s: {grouped}</title>" in svg
