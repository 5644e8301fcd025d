"""The needs journey in a real browser, in English and in French: assess a need, record the
service that meets it, record the victim's feedback on that service."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.conftest import browser_user
from tests.vat.conftest import register
from vat.auth.models import Role, User
from vat.db import db

pytestmark = pytest.mark.browser


def day(days_ago: int) -> str:
    return (date.today() - timedelta(days=days_ago)).isoformat()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_assess_a_need_meet_it_and_record_feedback(app, live_server, page, make_user, language):
    user = make_user(Role.ADVOCATE, "CAF")
    with app.test_request_context():
        victim_id = register(db.session.get_one(User, user.id)).id
        db.session.commit()
    words = browser_user(app, page, live_server, user, language)
    page.goto(f"{live_server}/vat/victims/{victim_id}")
    page.get_by_role("heading", name=words("Needs"), exact=True).wait_for()
    assert page.locator("#needs-table").get_by_text(words("No need assessed yet.")).count() == 1

    page.get_by_role("link", name=words("Assess a need")).click()
    page.select_option("select[name=need_type]", "medical")
    page.select_option("select[name=status]", "unmet")
    page.select_option("select[name=reason]", "no_funds")
    page.fill("textarea[name=note]", "Needs a specialist in Bangui")
    page.get_by_role("button", name=words("Save")).click()
    page.get_by_text(words("Need assessed.")).wait_for()
    needs = page.locator("#needs-table")
    assert needs.get_by_text(words("unmet"), exact=True).count() == 1
    assert needs.get_by_text(words("no funds")).count() == 1

    page.get_by_role("link", name=words("Record a service")).click()
    page.select_option("select[name=service_type]", "medical")
    page.fill("input[name=provider]", "Clinique Espoir")
    page.select_option("select[name=status]", "completed")
    page.fill("input[name=referral_date]", day(5))
    page.fill("input[name=start_date]", day(4))
    page.fill("input[name=end_date]", day(1))
    page.get_by_role("button", name=words("Save")).click()
    page.get_by_text(words("Service recorded.")).wait_for()
    assert needs.get_by_text(words("met"), exact=True).count() == 1  # the service met the need

    page.locator("#services").get_by_role("link", name=words("Feedback"), exact=True).click()
    page.get_by_text(words("About the %(service)s service", service=words("medical"))).wait_for()
    page.select_option("select[name=satisfaction]", "not_satisfied")
    page.check("input[name=complaint]")
    page.fill("textarea[name=complaint_text]", "Waited two days to be seen")
    page.check("input[name=follow_up_needed]")
    page.get_by_role("button", name=words("Save")).click()
    page.get_by_text(words("Feedback recorded.")).wait_for()
    services = page.locator("#services")
    assert services.get_by_text("Waited two days to be seen").count() == 1
    assert services.get_by_text(words("not satisfied"), exact=False).count() >= 1
