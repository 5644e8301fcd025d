"""The fund statement as a PDF (fpdf2, core fonts): the same sections as the page and the XLSX.

The core PDF fonts cover Latin-1 only; any other character is shown as "?" (names in other
scripts read correctly in the page, the CSV and the XLSX)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from fpdf import FPDF
from fpdf.fonts import FontFace

HEADING = FontFace(emphasis="BOLD", fill_color=(238, 241, 245))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, date):
        return value.isoformat()
    return str(value).encode("latin-1", "replace").decode("latin-1")


def fund_statement_pdf(
    title: str, sheets: Sequence[tuple[str, Sequence[str], Sequence[Sequence[Any]]]], *, generated: date
) -> bytes:
    """One section per sheet: a heading and a table whose money columns align right."""
    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_title(_text(title))
    pdf.set_creator("VAT Ledger")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", style="B", size=16)
    pdf.cell(0, 10, _text(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    pdf.cell(0, 6, f"US dollars. Generated {generated.isoformat()}.", new_x="LMARGIN", new_y="NEXT")
    for name, header, rows in sheets:
        pdf.ln(4)
        pdf.set_font("Helvetica", style="B", size=12)
        pdf.cell(0, 8, _text(name), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=8)
        if not rows:
            pdf.cell(0, 6, "None.", new_x="LMARGIN", new_y="NEXT")
            continue
        numeric = [
            all(isinstance(r[i], Decimal | int) or r[i] is None for r in rows) for i in range(len(header))
        ]
        align = ["RIGHT" if n else "LEFT" for n in numeric]
        with pdf.table(headings_style=HEADING, text_align=align, line_height=5) as table:
            heading = table.row()
            for label in header:
                heading.cell(_text(label))
            for values in rows:
                row = table.row()
                for value in values:
                    row.cell(_text(value))
    return bytes(pdf.output())
