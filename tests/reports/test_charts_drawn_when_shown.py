"""A shown table's chart is drawn when a page shows it, not when an export or the figures pack
builds its sheets from the same tables (vat.reports.views.statistics.ShownTable)."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.reports.test_un_followup import PERIOD, rebuilt  # noqa: F401 - the fixture
from vat.auth.models import Role
from vat.reports.views import statistics as statistics_views


def test_downloads_draw_no_chart_and_the_page_does(
    client: FlaskClient,
    login: Any,
    rebuilt: Any,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    login(Role.SENIOR_ADVOCATE, "CAF")
    drawn: list[str] = []

    def counting(draw: Any) -> Any:
        def counted(*args: Any, **kwargs: Any) -> Any:
            drawn.append(draw.__name__)
            return draw(*args, **kwargs)

        return counted

    monkeypatch.setattr(statistics_views, "counts_chart", counting(statistics_views.counts_chart))
    monkeypatch.setattr(statistics_views, "pairs_chart", counting(statistics_views.pairs_chart))
    for download in ("un-report/figures-pack.zip", "un-report/export.csv", "statistics/export.xlsx"):
        assert client.get(f"/reports/{download}?{PERIOD}").status_code == 200, download
    assert drawn == []
    page = client.get(f"/reports/un-report?{PERIOD}")
    assert page.status_code == 200 and "<svg" in page.get_data(as_text=True)
    assert drawn and set(drawn) == {"counts_chart"}
