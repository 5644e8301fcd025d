"""The fund statement as a PDF (fpdf2): the same sections as the page and the XLSX.

Text is set in DejaVu Sans (Latin, Greek, Cyrillic) with WenQuanYi Micro Hei as the fallback for
Chinese; `make fonts` installs both from Debian (`make test` depends on it). Without
them the PDF falls back to the core Helvetica font, which covers Latin-1 only: it then says on its
first page that other characters are shown as "?", and the app logs a warning."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask_babel import format_date, gettext
from fpdf import FPDF
from fpdf.fonts import FontFace

HEADING = FontFace(emphasis="BOLD", fill_color=(238, 241, 245))
FONTS = Path("/usr/share/fonts/truetype")
TEXT_FONT = {"": FONTS / "dejavu" / "DejaVuSans.ttf", "B": FONTS / "dejavu" / "DejaVuSans-Bold.ttf"}
CHINESE_FONT = FONTS / "wqy" / "wqy-microhei.ttc"
FALLBACK_FONT = "Helvetica"

log = logging.getLogger(__name__)


def unicode_fonts_installed() -> bool:
    return all(path.is_file() for path in (*TEXT_FONT.values(), CHINESE_FONT))


def _use_unicode_fonts(pdf: FPDF) -> str:
    """Register the fonts; return the family to write with."""
    for style, path in TEXT_FONT.items():
        pdf.add_font("DejaVu", style=style, fname=path)
    pdf.add_font("WenQuanYi", fname=CHINESE_FONT)
    pdf.set_fallback_fonts(["WenQuanYi"], exact_match=False)  # bold Chinese falls back to regular
    return "DejaVu"


def _text(value: Any, *, unicode: bool = True) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return text if unicode else text.encode("latin-1", "replace").decode("latin-1")


def _document(title: str, orientation: str) -> tuple[FPDF, str, Callable[[Any], str]]:
    """An A4 document with its first page, the family to write with, and the text cleaner."""
    pdf = FPDF(orientation=orientation, format="A4")
    unicode = unicode_fonts_installed()
    family = _use_unicode_fonts(pdf) if unicode else FALLBACK_FONT

    def text(value: Any) -> str:
        return _text(value, unicode=unicode)

    pdf.set_title(text(title))
    pdf.set_creator("VAT Ledger")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    return pdf, family, text


def _fonts_notice(pdf: FPDF, family: str) -> None:
    if family == FALLBACK_FONT:
        log.warning("PDF fonts missing under %s: falling back to Helvetica (Latin-1 only)", FONTS)
        notice = "Fonts missing on the server: characters outside Latin-1 are shown as '?'."
        pdf.cell(0, 6, notice, new_x="LMARGIN", new_y="NEXT")


def letter_pdf(title: str, paragraphs: Sequence[str]) -> bytes:
    """A letter: a heading, then its paragraphs (the outcome letter to a victim)."""
    pdf, family, text = _document(title, "portrait")
    pdf.set_margins(25, 25, 25)
    pdf.set_x(25)
    _fonts_notice(pdf, family)
    pdf.set_font(family, style="B", size=13)
    pdf.multi_cell(0, 8, text(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, size=11)
    for paragraph in paragraphs:
        pdf.ln(3)
        pdf.multi_cell(0, 6, text(paragraph), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def fund_statement_pdf(
    title: str, sheets: Sequence[tuple[str, Sequence[str], Sequence[Sequence[Any]]]], *, generated: date
) -> bytes:
    """One section per sheet: a heading and a table whose money columns align right."""
    pdf, family, text = _document(title, "landscape")
    pdf.set_font(family, style="B", size=16)
    pdf.cell(0, 10, text(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, size=9)
    generated_on = gettext("US dollars. Generated on %(date)s.", date=format_date(generated, "long"))
    pdf.cell(0, 6, text(generated_on), new_x="LMARGIN", new_y="NEXT")
    _fonts_notice(pdf, family)
    for name, header, rows in sheets:
        pdf.ln(4)
        pdf.set_font(family, style="B", size=12)
        pdf.cell(0, 8, text(name), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, size=8)
        if not rows:
            pdf.cell(0, 6, text(gettext("None.")), new_x="LMARGIN", new_y="NEXT")
            continue
        numeric = [
            all(isinstance(r[i], Decimal | int) or r[i] is None for r in rows) for i in range(len(header))
        ]
        align = ["RIGHT" if n else "LEFT" for n in numeric]
        with pdf.table(headings_style=HEADING, text_align=align, line_height=5) as table:
            heading = table.row()
            for label in header:
                heading.cell(text(label))
            for values in rows:
                row = table.row()
                for value in values:
                    row.cell(text(value))
    return bytes(pdf.output())
