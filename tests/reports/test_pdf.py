"""The fund statement PDF writes French and Chinese as they are (embedded Unicode fonts), and says
so plainly when the server lacks the fonts."""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal

import pytest
from flask_babel import force_locale
from sqlalchemy import update

from ledger.models import Donor
from tests.reports.pdf_text import pdf_text
from vat.auth.models import Role
from vat.db import db
from vat.reports import pdf

CHINESE_DONOR = "中国红十字会"
FRENCH_DONOR = "Ministère des Affaires étrangères"
SHEETS = [
    (
        "Contributions volontaires par donateur",
        ["donateur", "reçu (USD)"],
        [[CHINESE_DONOR, Decimal("1500.00")], [FRENCH_DONOR, Decimal("250.50")]],
    ),
    ("Projets", ["projet", "décaissé"], []),
]


@pytest.fixture
def fonts_installed():
    assert pdf.unicode_fonts_installed(), "the PDF fonts are missing: run `make fonts`"


def _statement(app, language: str) -> bytes:
    with app.test_request_context(), force_locale(language):
        return pdf.fund_statement_pdf("Relevé du fonds — 基金报表", SHEETS, generated=date(2026, 3, 1))


def test_chinese_and_french_text_is_written_as_is(app, fonts_installed):
    data = _statement(app, "fr")
    text = pdf_text(data)
    for expected in (
        "Relevé du fonds — 基金报表",
        CHINESE_DONOR,
        FRENCH_DONOR,
        "reçu (USD)",
        "1,500.00",
        "1 mars 2026",  # the generation date in the reader's language
    ):
        assert expected in text
    assert "?" not in text and "\ufffd" not in text
    assert b"/BaseFont /MPDFAA+DejaVuSans" in data and b"WenQuanYiMicroHei" in data


def test_the_fixed_text_follows_the_language(app, fonts_installed):
    assert "2026年3月1日" in pdf_text(_statement(app, "zh"))
    english = pdf_text(_statement(app, "en"))
    assert "Generated on March 1, 2026." in english and "None." in english


def test_without_the_fonts_the_pdf_says_what_it_substitutes(app, monkeypatch, tmp_path, caplog):
    monkeypatch.setattr(pdf, "CHINESE_FONT", tmp_path / "missing.ttc")
    with caplog.at_level(logging.WARNING, logger=pdf.__name__):
        data = _statement(app, "fr")
    text = pdf_text(data)
    assert "characters outside Latin-1 are shown as '?'" in text
    assert FRENCH_DONOR in text  # Latin-1 still reads
    assert CHINESE_DONOR not in text and "??????" in text
    assert b"/BaseFont /Helvetica" in data
    assert "falling back to Helvetica" in caplog.text


def test_a_chinese_donor_reaches_the_downloaded_statement(app, client, login, world, fonts_installed):
    with app.app_context():  # the world's "Donor B" (2,000 received in 2021), renamed
        db.session.execute(update(Donor).where(Donor.name == "Donor B").values(name=CHINESE_DONOR))
        db.session.commit()
    login(Role.AUDITOR, "")
    response = client.get("/reports/fund/export.pdf?start=2021-01-01&end=2021-12-31")
    assert response.status_code == 200
    text = pdf_text(response.data)
    assert CHINESE_DONOR in text and "Norway" in text and "?" not in text
