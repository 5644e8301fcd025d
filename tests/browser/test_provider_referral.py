"""Referring from the directory in a real browser (issue 18, item 2), in English and in French: a
senior advocate adds a provider to the directory, then refers a victim of the same country to
it by choosing it on the service form; the victim's page names it and the referral-pathways
report opens."""

from __future__ import annotations

from datetime import date, timedelta

import pyotp
import pytest

from tests.conftest import PASSWORD
from tests.vat.conftest import register
from vat.auth.models import Role, User
from vat.db import db

pytestmark = pytest.mark.browser

WORDS = {
    "en": {
        "providers": "Providers",
        "add": "Add a provider",
        "added": "Provider added to the directory.",
        "recorded": "Service recorded.",
        "report": "Referral pathways",
    },
    "fr": {
        "providers": "Prestataires",
        "add": "Ajouter un prestataire",
        "added": "Prestataire ajouté à l’annuaire.",
        "recorded": "Service enregistré.",
        "report": "Parcours d’orientation",
    },
}


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_senior_advocate_refers_a_victim_from_the_directory(app, live_server, browser, make_user, language):
    words = WORDS[language]
    made = make_user(Role.SENIOR_ADVOCATE, "CAF")
    with app.test_request_context():
        senior = db.session.get(User, made.id)
        senior.language = language
        victim_id = register(senior).id
        secret = senior.totp_secret
        db.session.commit()

    context = browser.new_context(locale=language)
    page = context.new_page()
    page.goto(f"{live_server}/auth/login")
    page.fill("input[name=username]", made.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/auth/" not in url)

    page.get_by_role("navigation").get_by_role("link", name=words["providers"], exact=True).click()
    page.get_by_role("link", name=words["add"]).click()
    page.fill("input[name=name]", "Clinique Espoir")
    page.fill("input[name=location]", "Bangui")
    page.check("input[name=service_types][value=medical]")
    page.fill("input[name=languages]", "Sango, français")
    page.click("form[method=post][novalidate] button[type=submit]")
    page.get_by_text(words["added"]).wait_for()
    assert page.locator("#providers-table bdi", has_text="Clinique Espoir").count() == 1

    page.goto(f"{live_server}/vat/victims/{victim_id}/assistance/new")
    page.select_option("select[name=service_type]", "medical")
    page.select_option("select[name=provider_id]", label="Clinique Espoir (Bangui)")
    page.fill("input[name=referral_date]", (date.today() - timedelta(days=1)).isoformat())
    page.click("form[method=post][novalidate] button[type=submit]")
    page.get_by_text(words["recorded"]).wait_for()
    assert page.locator("#services").get_by_text("Clinique Espoir").count() >= 1

    page.goto(f"{live_server}/reports/referrals")
    page.get_by_role("heading", name=words["report"], exact=True).wait_for()
    context.close()
