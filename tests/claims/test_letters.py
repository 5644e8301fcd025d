"""Letters to victims from templates a senior advocate edits (issue 18, item 3): per kind and
language, audited, a placeholder the letter does not offer (or one the sandbox withholds) refused;
the outcome letter written from the template saved; a letter after each claim step, in the
victim's language, as a PDF, audited; the pages refuse other roles, other scopes and no CSRF."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.claims.conftest import S, claim_at
from tests.conftest import row_count, signed_in_client
from tests.vat.conftest import register
from tests.vat.test_outcome_letters import substantiated
from vat.audit import AuditEvent
from vat.auth.models import Role, User
from vat.claims import correspondence
from vat.db import db
from vat.inputs import InvalidField
from vat.victims import letter_templates, letters
from vat.victims.letter_templates import LetterTemplate

EDITED = (
    "Résultat {{ reference }}\n\nBonjour {{ name }} : {% if outcome == 'substantiated' %}fondée{% endif %}."
)


def audit_rows(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("Dear {{ name }} and {{ father_name }}", "Unknown placeholders: father_name"),
        ("{{ range(3) }} {{ config }}", "Unknown placeholders: config, range"),
        ("Dear {{ name", "does not read at line 1"),
        ("{{ name.__class__.__mro__ }}", "cannot be written"),
        ("{{ on + 1 }}", "cannot be written"),
        ("   ", "Write the letter"),
    ],
)
def test_a_template_that_names_what_the_letter_does_not_offer_is_refused(advocate: User, body, reason):
    with pytest.raises(InvalidField, match=reason):
        letter_templates.save_template(actor=advocate, kind="outcome", language="en", body=body)
    assert db.session.scalar(select(func.count(LetterTemplate.id))) == 0
    with pytest.raises(InvalidField, match="Unknown placeholders: reference"):  # a claim has none
        letter_templates.check("claim_step", "{{ reference }}")


def test_the_outcome_letter_is_written_from_the_saved_template_and_the_save_audited(advocate: User):
    victim = register(advocate, name="Amina Template")
    task = substantiated(advocate, victim)
    shipped = letters.outcome_letter(actor=advocate, victim=victim, task=task, language="fr")
    assert "Résultat de l'enquête" in shipped[0]
    letter_templates.save_template(actor=advocate, kind="outcome", language="fr", body=EDITED + "\r\n")
    assert letters.outcome_letter(actor=advocate, victim=victim, task=task, language="fr") == [
        "Résultat 12/26",
        "Bonjour Amina Template : fondée.",
    ]
    assert "Dear" in letters.outcome_letter(actor=advocate, victim=victim, task=task, language="en")[2]
    [saved] = audit_rows("letter_template.save")
    detail = json.loads(saved.detail)
    assert {"kind": "outcome", "language": "fr"}.items() <= detail.items() and len(detail["sha256"]) == 64


@pytest.mark.parametrize(
    ("language", "words"), [("en", "Paternity established"), ("fr", "Paternité établie")]
)
def test_a_letter_after_a_claim_step_in_the_victims_language(advocate: User, language, words):
    claim = claim_at(advocate, S.PATERNITY_ESTABLISHED)
    paragraphs = correspondence.step_letter(actor=advocate, claim=claim, language=language)
    text = "\n".join(paragraphs)
    assert claim.code in paragraphs[0] and words.lower() in text.lower() and "Amani Test" in text
    [event] = audit_rows("victim.claim_step_letter")
    assert event.object_id == claim.victim.case_code and "Amani" not in event.detail
    assert {"claim": claim.id, "language": language}.items() <= json.loads(event.detail).items()
    referred = claim_at(advocate, S.REFERRED)
    assert "sent to Bangladesh" in " ".join(
        correspondence.step_letter(actor=advocate, claim=referred, language="en")
    )


# --- the pages ------------------------------------------------------------------------------------


def test_a_senior_advocate_edits_a_template_through_its_pages(app, client, login):
    login(Role.SENIOR_ADVOCATE, "CAF")
    listed = client.get("/vat/letter-templates").get_data(as_text=True)
    assert listed.count("as shipped") == 6 and "/vat/letter-templates/claim_step/zh" in listed
    page = client.get("/vat/letter-templates/outcome/fr").get_data(as_text=True)
    assert "Résultat de l&#39;enquête" in page and "<code>reference</code>" in page
    refused = client.post("/vat/letter-templates/outcome/fr", data={"body": "{{ father_name }}"})
    assert refused.status_code == 422 and "Unknown placeholders: father_name" in refused.get_data(
        as_text=True
    )
    assert client.post("/vat/letter-templates/outcome/fr", data={"body": EDITED}).status_code == 302
    assert client.get("/vat/letter-templates").get_data(as_text=True).count("as shipped") == 5
    assert client.get("/vat/letter-templates/outcome/de").status_code == 404
    assert client.get("/vat/letter-templates/payslip/fr").status_code == 404


@pytest.mark.parametrize("role", [Role.ADVOCATE, Role.FUND_MANAGER, Role.AUDITOR, Role.ADMIN])
def test_other_roles_cannot_edit_templates(app, client, login, role):
    login(role, "CAF")
    assert client.get("/vat/letter-templates").status_code == 403
    assert client.get("/vat/letter-templates/outcome/en").status_code == 403
    assert (
        client.post("/vat/letter-templates/outcome/en", data={"body": "Hello {{ name }}"}).status_code == 403
    )
    assert row_count(app, LetterTemplate) == 0


def test_the_step_letter_page_gives_a_pdf_in_scope_only(app, client, login, claim_id, make_user):
    login(Role.ADVOCATE, "CAF")
    page = client.get(f"/vat/claims/{claim_id}/step-letter")
    assert page.status_code == 200 and "Download the letter (PDF)" in page.get_data(as_text=True)
    assert f"/vat/claims/{claim_id}/step-letter" in client.get(f"/vat/claims/{claim_id}").get_data(
        as_text=True
    )
    pdf = client.post(f"/vat/claims/{claim_id}/step-letter", data={"language": "zh"})
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert "Amani" not in pdf.headers["Content-Disposition"]
    assert client.post(f"/vat/claims/{claim_id}/step-letter", data={"language": "de"}).status_code == 422
    other = signed_in_client(app, make_user(Role.ADVOCATE, "COD"))
    assert other.get(f"/vat/claims/{claim_id}/step-letter").status_code == 404
    assert other.post(f"/vat/claims/{claim_id}/step-letter", data={"language": "en"}).status_code == 404
    auditor = signed_in_client(app, make_user(Role.AUDITOR, "CAF"))
    assert auditor.post(f"/vat/claims/{claim_id}/step-letter", data={"language": "en"}).status_code == 403
    with app.app_context():
        assert len(audit_rows("victim.claim_step_letter")) == 1


def test_posts_without_csrf_token_are_refused(app, csrf_client: Any, claim_id: int):
    senior, advocate = csrf_client(Role.SENIOR_ADVOCATE, "CAF"), csrf_client(Role.ADVOCATE, "CAF")
    assert (
        senior.post("/vat/letter-templates/outcome/en", data={"body": "Hello {{ name }}"}).status_code == 400
    )
    assert advocate.post(f"/vat/claims/{claim_id}/step-letter", data={"language": "en"}).status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count(LetterTemplate.id))) == 0
        assert audit_rows("victim.claim_step_letter") == []
