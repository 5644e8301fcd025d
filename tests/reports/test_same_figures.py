"""Every viewer entitled to the same victims sees the same figures (docs/reports-privacy.md:
counting is not sharing)."""

from __future__ import annotations

import re
from datetime import date

import pytest

from tests.conftest import signed_in_client
from vat.auth.models import Role
from vat.db import db
from vat.victims import support_summary
from vat.victims.models import Victim


def _text(html: str | None) -> str:
    return re.sub(r"<[^>]+>", "", html or "").strip()


def headline(page: str) -> tuple[str, str, str]:
    """The dashboard's victims, victims with no support and their share, as shown."""
    victims = re.search(r'id="summary-victims">(.*?)</strong>', page, re.S)
    nothing = re.search(
        r'id="summary-not-supported">(.*?)</strong>\s*(?:<small[^>]*>(.*?)</small>)?', page, re.S
    )
    assert victims is not None and nothing is not None, "the page shows the headline"
    return _text(victims.group(1)), _text(nothing.group(1)), _text(nothing.group(2))


@pytest.fixture
def ten_victims(app, world):
    """The world's nine victims and one more who got nothing and gave no consent to aggregate
    reporting (an old file imported as it was): five supported, five not."""
    with app.app_context():
        db.session.add(
            Victim(
                case_code="DRC-2015-0001",
                country_code="COD",
                mission="MONUSCO",
                sex="female",
                age_group="adult",
                registered_on=date(2015, 6, 1),
            )
        )
        support_summary.rebuild()  # a row inserted outside the app's services (an import run outside it)
        db.session.commit()


@pytest.mark.parametrize("path", ["/", "/reports/"])
def test_viewers_entitled_to_the_same_victims_see_the_same_headline(app, make_user, ten_victims, path):
    seen = {}
    for role, scope in ((Role.SENIOR_ADVOCATE, "CAF, COD"), (Role.FUND_MANAGER, ""), (Role.AUDITOR, "")):
        client = signed_in_client(app, make_user(role, scope))
        response = client.get(path)
        assert response.status_code == 200
        seen[role] = headline(response.get_data(as_text=True))
    assert seen[Role.SENIOR_ADVOCATE] == ("10", "5", "50.0%")
    assert seen[Role.FUND_MANAGER] == seen[Role.SENIOR_ADVOCATE] == seen[Role.AUDITOR]
