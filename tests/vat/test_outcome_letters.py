"""The right to be informed (issue 18, item 3): a deadline per outcome to tell, the letter in the
victim's language as a PDF (decrypted and audited by the victims service, never a name in an
address), the record of when, how and by whom the victim was told, overdue ones and feedback to
follow up on *Needs attention*; and direct support's route and basis on the victim's page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.vat.conftest import assist, contact, register, registered
from vat.allegations import services as allegations
from vat.audit import AuditEvent
from vat.auth.models import Role, User
from vat.db import db
from vat.errors import DomainError
from vat.inputs import InvalidField
from vat.victims import assistance, letters, listing, needs, outcomes
from vat.victims.models import Victim, VictimTask

NAME = "Amina Letterwoman"


def substantiated(actor: User, victim: Victim, reference: str = "12/26") -> VictimTask:
    """An allegation naming `victim`, its outcome recorded today: the task to tell the victim."""
    on = date.today() - timedelta(days=40)
    allegation = allegations.create_allegation(
        actor=actor, reference=reference, country_code="CAF", received_on=on
    )
    outcomes.link_victim(actor=actor, victim=victim, allegation=allegation)
    allegations.update_allegation(
        actor=actor, allegation=allegation, outcome="substantiated", country_code="CAF", received_on=on
    )
    return next(t for t in victim.tasks if t.allegation_id == allegation.id)


def test_an_outcome_opens_a_task_with_a_deadline(actor: User) -> None:
    victim = register(actor, name=NAME)
    task = substantiated(actor, victim)
    assert task.due_on == date.today() + timedelta(days=14)
    [row] = letters.outcomes_to_tell(victim)
    assert (row.due_on, row.overdue, row.informed_by) == (task.due_on, False, None)
    later = letters.outcomes_to_tell(victim, on=date.today() + timedelta(days=15))
    assert later[0].overdue


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "the allegation you reported (reference 12/26)"),
        ("fr", "l'allégation que vous avez signalée (référence 12/26)"),
        ("zh", "指控属实"),
    ],
)
def test_the_letter_is_written_in_the_victims_language_and_audited(
    actor: User, language: str, words: str
) -> None:
    victim = register(actor, name=NAME)
    task = substantiated(actor, victim)
    paragraphs = letters.outcome_letter(actor=actor, victim=victim, task=task, language=language)
    text = "\n".join(paragraphs)
    assert NAME in text and words in text and victim.case_code in text
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "victim.outcome_letter").order_by(AuditEvent.id.desc())
    ).first()
    assert event is not None and event.object_id == victim.case_code
    assert NAME not in event.detail and f'"language": "{language}"' in event.detail


def test_the_letter_refuses_another_language_and_another_victims_task(actor: User) -> None:
    victim, other = register(actor), register(actor)
    task = substantiated(actor, victim)
    with pytest.raises(InvalidField):
        letters.outcome_letter(actor=actor, victim=victim, task=task, language="de")
    with pytest.raises(DomainError):
        letters.outcome_letter(actor=actor, victim=other, task=task, language="en")


def test_the_case_update_that_closes_the_task_says_when_how_and_by_whom(actor: User) -> None:
    victim = register(actor)
    task = substantiated(actor, victim)
    told = contact(
        actor, victim, date.today(), channel="in_person", by_whom="VRA Bangui", closes_task_ids=[task.id]
    )
    [row] = letters.outcomes_to_tell(victim, on=date.today() + timedelta(days=30))
    assert row.informed_by is told and not row.overdue
    assert (told.channel, told.by_whom) == ("in_person", "VRA Bangui")


def test_needs_attention_shows_overdue_outcomes_and_follow_ups_until_done(actor: User) -> None:
    victim = register(actor, advocate_id=actor.id)
    task = substantiated(actor, victim)
    task.due_on = date.today() - timedelta(days=1)
    service = assist(actor, victim)
    complaint = {"complaint": True, "follow_up_needed": True, "follow_up_on": date.today()}
    feedback = needs.record_feedback(
        actor=actor, victim=victim, satisfaction="not_satisfied", service=service, **complaint
    )
    seen = listing.attention(actor, mine_only=False, on=date.today() + timedelta(days=1))
    assert [(code, overdue) for _i, code, _r, _o, _d, overdue in seen.open_tasks] == [
        (victim.case_code, True)
    ]
    assert seen.follow_ups == [(victim.id, victim.case_code, date.today(), True, True)]
    needs.follow_up_done(actor=actor, victim=victim, feedback=feedback)
    assert feedback.followed_up_on == date.today()
    assert listing.attention(actor, mine_only=False).follow_ups == []
    with pytest.raises(DomainError):
        needs.follow_up_done(actor=actor, victim=victim, feedback=feedback)


@pytest.fixture
def file(app: Flask, make_user: Callable[..., Any]) -> dict[str, int]:
    owner = make_user(Role.ADVOCATE, "CAF")
    with app.test_request_context():
        actor = db.session.get_one(User, owner.id)
        victim = register(actor, name=NAME)
        task = substantiated(actor, victim)
        service = assist(actor, victim)
        feedback = needs.record_feedback(
            actor=actor, victim=victim, satisfaction="unsure", service=service, follow_up_needed=True
        )
        assistance.record_trust_fund_support(
            actor=actor,
            case_code=victim.case_code,
            amount=Decimal("120.00"),
            currency="USD",
            usd_minor=12000,
            paid_on=date.today(),
            ledger_entry_id=4242,
            route="implementing_partner",
            basis="TFC decision 2026/07",
        )
        db.session.commit()
        return {"victim": victim.id, "task": task.id, "feedback": feedback.id}


def test_letter_page_download_and_the_record_of_telling(
    app: Flask, client: FlaskClient, login: Callable[..., Any], file: dict[str, int]
) -> None:
    login(Role.ADVOCATE, "CAF")
    victim, task = file["victim"], file["task"]
    page = client.get(f"/vat/victims/{victim}").get_data(as_text=True)
    assert "Outcomes to tell the victim" in page and f"/vat/victims/{victim}/outcomes/{task}" in page
    assert "Through an implementing partner" in page and "TFC decision 2026/07" in page
    letter_page = client.get(f"/vat/victims/{victim}/outcomes/{task}").get_data(as_text=True)
    assert "not yet" in letter_page and NAME not in letter_page
    response = client.post(f"/vat/victims/{victim}/outcomes/{task}/letter", data={"language": "fr"})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert NAME not in response.headers["Content-Disposition"]
    assert (
        client.post(f"/vat/victims/{victim}/outcomes/{task}/letter", data={"language": "xx"}).status_code
        == 422
    )
    form = client.get(f"/vat/victims/{victim}/communications/new?closes={task}").get_data(as_text=True)
    assert f'checked id="closes_tasks-0" name="closes_tasks" type="checkbox" value="{task}"' in form
    french = client.get(
        f"/vat/victims/{victim}/communications/new?closes={task}", headers={"Accept-Language": "fr"}
    ).get_data(as_text=True)
    assert "Informer la victime de l&#39;issue de l&#39;allégation 12/26 (étayée)" in french
    with app.test_request_context():  # a second outcome to tell keeps the task choices offered
        victim_record = db.session.get_one(Victim, victim)
        actor = db.session.get_one(User, victim_record.advocate_id)
        substantiated(actor, victim_record, reference="13/26")
        db.session.commit()
    told_once = {
        "occurred_on": date.today().isoformat(),
        "channel": "letter",
        "by_whom": "VRA Bangui",
        "case_update_given": "y",
        "closes_tasks": str(task),
        "key": "5" * 32,
    }
    response = client.post(f"/vat/victims/{victim}/communications/new", data=told_once)
    assert response.status_code == 302
    # Sent again (a double click): the task it closed is no longer a choice, yet it is a repeat.
    again = client.post(f"/vat/victims/{victim}/communications/new", data=told_once)
    assert again.status_code == 302 and again.headers["Location"] == response.headers["Location"]
    assert "Already recorded" in client.get(again.headers["Location"]).get_data(as_text=True)
    told = client.get(f"/vat/victims/{victim}/outcomes/{task}").get_data(as_text=True)
    assert "by VRA Bangui (letter)" in told
    with app.app_context():
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "victim.outcome_letter"))


def test_the_letter_of_another_victims_task_answers_404(
    app: Flask,
    client: FlaskClient,
    login: Callable[..., Any],
    file: dict[str, int],
    make_user: Callable[..., Any],
) -> None:
    other = registered(app, make_user(Role.ADVOCATE, "CAF").id)
    login(Role.ADVOCATE, "CAF")
    assert client.get(f"/vat/victims/{other}/outcomes/{file['task']}").status_code == 404
    assert (
        client.post(
            f"/vat/victims/{other}/outcomes/{file['task']}/letter", data={"language": "en"}
        ).status_code
        == 404
    )


def test_follow_up_done_from_the_victim_page(
    app: Flask, client: FlaskClient, login: Callable[..., Any], file: dict[str, int]
) -> None:
    login(Role.ADVOCATE, "CAF")
    victim = file["victim"]
    assert "Feedback to follow up (1)" in client.get("/vat/attention?all=1").get_data(as_text=True)
    response = client.post(f"/vat/victims/{victim}/feedback/{file['feedback']}/followed-up")
    assert response.status_code == 302
    assert "Feedback to follow up (0)" in client.get("/vat/attention?all=1").get_data(as_text=True)
    again = client.post(
        f"/vat/victims/{victim}/feedback/{file['feedback']}/followed-up", follow_redirects=True
    )
    assert "already recorded as done" in again.get_data(as_text=True)


def test_csrf_is_required(app: Flask, csrf_client: Callable[..., FlaskClient], file: dict[str, int]) -> None:
    client = csrf_client(Role.ADVOCATE, "CAF")
    victim = file["victim"]
    letter = client.post(f"/vat/victims/{victim}/outcomes/{file['task']}/letter", data={"language": "en"})
    done = client.post(f"/vat/victims/{victim}/feedback/{file['feedback']}/followed-up")
    assert (letter.status_code, done.status_code) == (400, 400)
    with app.app_context():
        written = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "victim.outcome_letter"))
        followed = db.session.scalar(select(needs.Feedback.followed_up_on))
    assert (written, followed) == (None, None)
