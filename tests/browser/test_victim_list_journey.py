"""The victims list in a real browser, in English and in French (issue 19, item 3): sort by a
heading one way then the other, page on in that order, and find a victim by two words of her
name in any order, the name never in the address."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.browser.speakers import signed_in_page, user_speaking
from tests.conftest import translator
from tests.vat.conftest import register
from vat.auth.models import Role, User
from vat.db import db
from vat.victims.models import Victim

pytestmark = pytest.mark.browser

NAME = "Fatimé Zaïnab Ngaïkoumon"


@pytest.mark.parametrize("language", ["en", "fr"])
def test_an_advocate_sorts_pages_and_finds_a_victim_by_name(app, live_server, browser, make_user, language):
    made, secret = user_speaking(app, make_user, Role.ADVOCATE, language)
    words = translator(app, language)
    with app.test_request_context():
        advocate = db.session.get_one(User, made.id)
        for n in range(24):
            register(advocate, registered_on=date.today() - timedelta(days=n), name=NAME if n == 7 else None)
        db.session.commit()
        codes = sorted(db.session.scalars(select(Victim.case_code)))
        wanted = db.session.scalars(
            select(Victim.case_code).where(Victim.registered_on == date.today() - timedelta(days=7))
        ).one()
    page = signed_in_page(app, live_server, browser, made, secret, language)
    page.goto(f"{live_server}/vat/victims")
    table = page.locator("main table")

    def listed() -> list[str]:
        return [cell.strip() for cell in table.locator("tbody tr td:first-child").all_inner_texts()]

    table.get_by_role("link", name=words("Case code")).click()
    page.wait_for_url("**order=asc**")
    assert listed() == codes[:20]
    assert table.locator("th[aria-sort=ascending]").inner_text().startswith(words("Case code"))
    table.get_by_role("link", name=words("Case code")).click()
    page.wait_for_url("**order=desc**")
    assert listed() == codes[::-1][:20]
    page.get_by_role("navigation", name=words("Pages")).get_by_role("link").last.click()
    page.wait_for_url("**page=2**")
    assert listed() == codes[::-1][20:]

    page.fill("input[name=name]", "ngaikoumon FATIME")
    page.get_by_role("button", name=words("Find by name")).click()
    page.wait_for_url("**found=**")
    assert listed() == [wanted]
    assert "fatim" not in page.url.lower() and "ngai" not in page.url.lower()
    table.get_by_role("link", name=words("Status")).click()
    page.wait_for_url("**sort=status**")
    assert listed() == [wanted] and "found=" in page.url  # the search held while sorting
    page.get_by_role("link", name=words("Show all victims")).click()
    assert len(listed()) == 20
