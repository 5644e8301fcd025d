"""The accountability cycle in a real browser, in English and in French (issue 17): an advocate
records a substantiated allegation whose report went out four months ago, sees its administrative
action overdue, records the referral to the contributing country for two of its three alleged
perpetrators, and opens the Secretary-General's tables and OIOS's metrics, where the allegation
is counted, and the two persons referred."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.conftest import browser_user
from vat.auth.models import Role

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("language", ["en", "fr"])
def test_record_an_allegation_and_follow_its_cycle_to_the_statistics(
    app, live_server, page, make_user, language
):
    words = browser_user(app, page, live_server, make_user(Role.ADVOCATE, "CAF"), language)

    received = date.today() - timedelta(days=200)
    page.goto(f"{live_server}/vat/allegations/new")
    page.fill("input[name=reference]", "0017/26")
    page.select_option("select[name=country_code]", "CAF")
    page.select_option("select[name=entity_category]", "peacekeeping")
    page.fill("input[name=mission]", "MINUSCA")
    page.select_option("select[name=personnel_category]", "military_contingent")
    page.select_option("select[name=perpetrator_country]", "PAK")
    page.fill("input[name=perpetrators]", "3")
    page.select_option("select[name=type]", "exploitation")
    for field, days in [
        ("received_on", 0),
        ("assessed_on", 2),
        ("referred_on", 4),
        ("nio_decision_on", 6),
        ("investigation_completed_on", 70),
        ("report_submitted_on", 80),
    ]:
        page.fill(f"input[name={field}]", (received + timedelta(days=days)).isoformat())
    page.select_option("select[name=outcome]", "substantiated")
    page.get_by_role("button", name=words("Save")).click()
    page.get_by_text(words("Allegation %(reference)s recorded.", reference="0017/26")).wait_for()

    # The report went out 120 days ago: the UN's own action (3 months) is overdue.
    cycle = page.locator("#cycle + table")
    administrative = cycle.locator("tr", has_text=words("Administrative action or sanction"))
    assert administrative.locator(".badge-bad").count() == 1

    page.get_by_role("link", name=words("Record a step")).click()
    page.select_option("select[name=step]", "member_state_referral")
    page.select_option("select[name=measure]", "referred")
    page.fill("input[name=dated_on]", date.today().isoformat())
    page.fill("input[name=persons]", "1, 3")  # the third perpetrator left before the referral
    page.get_by_role("button", name=words("Save")).click()
    page.get_by_text(words("Step recorded.")).wait_for()
    referral = words("Referred to the member state for action")
    assert page.locator("#cycle-steps").get_by_text(referral).count() == 1

    page.goto(f"{live_server}/reports/un-report?period=year&year={received.year}")
    page.get_by_role(
        "heading", name=words("The Secretary-General's tables and OIOS's metrics"), exact=True
    ).wait_for()
    military = page.locator("#un-personnel_groups tbody tr", has_text=words("military personnel"))
    assert military.locator("td").last.inner_text().strip() == "1"
    perpetrators = page.locator("#un-perpetrators tbody tr", has_text=words("military personnel"))
    assert perpetrators.locator("td").last.inner_text().strip() == "3"
    assert page.locator("#figures-pack").count() == 1

    # Counted per person, in the year of the referral.
    page.goto(f"{live_server}/reports/un-report?period=year&year={date.today().year}")
    referred = page.locator("#un-persons tbody tr", has_text=referral)
    assert referred.locator("td").first.inner_text().strip() == "2"
