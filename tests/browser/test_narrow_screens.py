"""Works at 390 px (issue 19, item 2): on a phone-sized screen, no page of the main journeys — every
report, the main lists and a record of each, for each role — is wider than the viewport (wide tables
scroll inside their own box), in English and in French. On a laptop's 1280 px, the report tables'
badges and the summary cards' counts stay whole (issue 19, item 3: readable widths)."""

from __future__ import annotations

import pyotp
import pytest
from sqlalchemy import select

from ledger.models import Donor, Project
from seeding.demo import seed_demo
from tests.conftest import PASSWORD
from vat.allegations.models import Allegation
from vat.auth.models import Role, User
from vat.claims.models import Claim
from vat.db import db
from vat.victims.models import Victim

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 800}
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"
# Every report page each viewer of cases opens (the fund's for those who read the ledger).
REPORTS = ["/reports/", "/reports/victims", "/reports/assistance", "/reports/quality", "/reports/referrals",
           "/reports/clock", "/reports/member-states", "/reports/claims", "/reports/statistics",
           "/reports/un-report"]  # fmt: skip
# The texts on more lines than they have words: broken inside a word ("noth/ing", "US$1,2/50.00").
BROKEN = """selector => [...document.querySelectorAll(selector)].filter(element => {
  const range = document.createRange();
  range.selectNodeContents(element);
  const lines = new Set([...range.getClientRects()].map(rect => Math.round(rect.top))).size;
  return lines > element.textContent.trim().split(/ +/).length;
}).map(element => element.textContent.trim())"""


@pytest.fixture
def demo(app):
    """The demo's records the journeys open: a victim, an allegation and a claim in the Central
    African Republic, a donor and a project."""
    with app.test_request_context():
        seed_demo()
        db.session.commit()
        first = {
            name: db.session.scalar(select(model.id).where(*where).order_by(model.id))
            for name, model, where in [
                ("victim", Victim, [Victim.country_code == "CAF"]),
                ("allegation", Allegation, [Allegation.country_code == "CAF"]),
                ("claim", Claim, []),
                ("donor", Donor, []),
                ("project", Project, []),
            ]
        }
        assert None not in first.values(), first
        return first


def _sign_in(page, live_server: str, username: str, secret: str | None) -> None:
    """Through the forms, in whatever language the page is in (fields by name, not label)."""
    page.goto(f"{live_server}/auth/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    if secret:
        page.fill("input[name=code]", pyotp.TOTP(secret).now())
        page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/auth/" not in url)


def _overflowing(page, live_server: str, paths: list[str]) -> dict[str, int]:
    wide = {}
    for path in paths:
        response = page.goto(f"{live_server}{path}")
        assert response is not None and response.status == 200, path  # a refusal would be narrow
        extra = page.evaluate(OVERFLOW)
        if extra > 0:
            wide[path] = extra
    return wide


@pytest.mark.parametrize("language", ["en", "fr"])
def test_no_page_is_wider_than_a_phone(app, live_server, browser, make_user, demo, language):
    senior = make_user(Role.SENIOR_ADVOCATE, "CAF, COD, HTI, SSD")
    manager = make_user(Role.FUND_MANAGER, "")
    auditor = make_user(Role.AUDITOR, "")
    with app.app_context():
        secret = db.session.get(User, senior.id).totp_secret
        for user in (senior, manager, auditor):
            db.session.get(User, user.id).language = language
        db.session.commit()
    journeys = [
        (senior, secret, ["/", "/vat/victims", f"/vat/victims/{demo['victim']}", "/vat/allegations/",
                          f"/vat/allegations/{demo['allegation']}", "/vat/claims/",
                          f"/vat/claims/{demo['claim']}", *REPORTS, "/reports/fund"]),
        (manager, None, ["/", "/ledger/", "/ledger/journal", "/ledger/projects",
                         f"/ledger/projects/{demo['project']}", "/ledger/withholdings", "/ledger/donors",
                         f"/ledger/donors/{demo['donor']}", *REPORTS, "/reports/fund",
                         "/reports/withholdings-to-record"]),
        (auditor, None, ["/", "/ledger/", *REPORTS, "/reports/fund", "/admin/audit"]),
    ]  # fmt: skip
    wide: dict[str, int] = {}
    for user, code_secret, paths in journeys:
        context = browser.new_context(viewport=PHONE, locale=language)
        page = context.new_page()
        _sign_in(page, live_server, user.username, code_secret)
        wide |= _overflowing(page, live_server, paths)
        context.close()
    assert wide == {}, f"wider than {PHONE['width']} px (extra px by page): {wide}"


@pytest.mark.parametrize("language", ["en", "fr"])
def test_report_tables_and_cards_keep_their_words_whole_on_a_laptop(
    app, live_server, browser, make_user, demo, language
):
    """At 1280 px the per-victim table's "supported" badges and the claims' summary counts are
    read whole, not squeezed to a letter a line."""
    senior = make_user(Role.SENIOR_ADVOCATE, "CAF, COD, HTI, SSD")
    with app.app_context():
        secret = db.session.get(User, senior.id).totp_secret
        db.session.get(User, senior.id).language = language
        db.session.commit()
    context = browser.new_context(viewport=LAPTOP, locale=language)
    page = context.new_page()
    _sign_in(page, live_server, senior.username, secret)
    broken = {}
    for path, selector in [
        ("/reports/victims", "#support-rows .badge"),
        ("/reports/victims", "#support-rows .money"),
        ("/vat/claims/", ".cards dd"),
        ("/reports/fund", "table.report .badge"),
    ]:
        page.goto(f"{live_server}{path}")
        assert page.locator(selector).count() > 0, (path, selector)
        broken |= {f"{path} {selector}": found for found in [page.evaluate(BROKEN, selector)] if found}
    context.close()
    assert broken == {}, f"wrapped at {LAPTOP['width']} px: {broken}"
