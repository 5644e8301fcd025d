"""Pages show dates the reader's way (English, French, Chinese); form inputs keep ISO 8601."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from ledger.services import months
from vat.auth.models import Role, User
from vat.db import db
from vat.templating import day, month

DATES = {  # 1 March 2026, as each language writes it in a table
    "en": "Mar 1, 2026",
    "fr": "1 mars 2026",
    "zh": "2026年3月1日",
}
MONTHS = {"en": "Mar 2026", "fr": "mars 2026", "zh": "2026年3月"}


def _page(client, path: str, language: str) -> str:
    response = client.get(path, headers={"Accept-Language": language})
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize("language", sorted(DATES))
def test_filters_follow_the_locale(app, language):
    with app.test_request_context(headers={"Accept-Language": language}):
        assert day(date(2026, 3, 1)) == DATES[language]
        assert DATES[language] in day(datetime(2026, 3, 1, 14, 5))  # with the time after it
        assert month(date(2026, 3, 1)) == MONTHS[language]
        assert day(None) == month(None) == "—"


@pytest.mark.parametrize("language", ["fr", "zh"])
def test_a_ledger_page_shows_the_locales_dates_and_keeps_iso_in_its_form(client, login, language):
    login(Role.FUND_MANAGER, "")
    page = _page(client, "/ledger/trial-balance?as_of=2026-03-01", language)
    assert DATES[language] in page
    assert 'value="2026-03-01"' in page  # the date input still speaks ISO 8601
    assert "2026-03-01</" not in page


@pytest.mark.parametrize("language", ["fr", "zh"])
def test_rates_show_the_month_the_locales_way(app, client, login, language):
    user = login(Role.FUND_MANAGER, "")
    with app.app_context():
        actor = db.session.get(User, user.id)
        months.set_rate(
            actor=actor, currency="XAF", month=date(2026, 3, 1), rate=Decimal("600.5"), source="UN"
        )
        db.session.commit()
    page = _page(client, "/ledger/rates", language)
    assert MONTHS[language] in page and "2026-03</td>" not in page


def test_the_fund_report_names_its_period_in_french(client, login):
    login(Role.AUDITOR, "")
    page = _page(client, "/reports/fund?start=2021-01-01&end=2021-12-31", "fr")
    assert "1 janv. 2021" in page and "31 déc. 2021" in page
    assert "January" not in page and "December" not in page
