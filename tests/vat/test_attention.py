"""The advocate's "needs attention" page: the overdue allegation steps found in SQL agree with the
clock computed in Python, and every section shows its first ATTENTION_LIMIT rows and says when
more exist."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.vat.conftest import register
from vat.allegations import clock
from vat.allegations import services as allegations
from vat.allegations.models import Allegation, ClockRule
from vat.auth.models import Role, User
from vat.db import db
from vat.victims import assistance, identity, listing, outcomes

# Month ends and the days around them: where adding months clamps (31 August + 6 months).
DAYS_TO_CHECK = [
    date(2026, 2, 27),
    date(2026, 2, 28),
    date(2026, 3, 1),
    date(2026, 3, 3),
    date(2026, 4, 30),
    date(2026, 8, 31),
    date(2026, 9, 1),
    date(2027, 2, 28),
    date(2027, 3, 1),
    date(2028, 2, 29),
]


def _allegations(count: int) -> None:
    """Allegations at every stage, their steps dated around month ends."""
    rng = random.Random(7)
    starts = [date(2025, 8, 31), date(2025, 10, 31), date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 30)]
    for number in range(count):
        day = rng.choice(starts) + timedelta(days=rng.choice([0, 0, 1, -1, rng.randrange(400)]))
        dates: dict[str, date | None] = {}
        for step in ("received", "assessed", "referred", "nio_decision", "investigation_completed"):
            dates[f"{step}_on"] = day if step == "received" or rng.random() < 0.7 else None
            day += timedelta(days=rng.choice([0, 3, 7, 8, 11, 30, 31, 92, 184, 185]))
        dates["report_submitted_on"] = day if rng.random() < 0.3 else None
        if rng.random() < 0.2:  # a step done out of order: the next one waits for nothing
            dates["assessed_on"] = None
        db.session.add(
            Allegation(
                reference=f"{number}/26",
                country_code="CAF",
                personnel_category=rng.choice(["military_contingent", "civilian", "formed_police"]),
                urgency=rng.choice(["normal", "high_priority", "urgent"]),
                **dates,
            )
        )
    db.session.flush()


def _agree(on: date) -> None:
    rule_list = clock.rules()
    found = set(db.session.scalars(select(Allegation.id).where(clock.has_overdue_step(rule_list, on))))
    computed = {a.id for a in db.session.scalars(select(Allegation)) if clock.overdue_steps(a, rule_list, on)}
    assert found == computed, on
    assert computed, on  # the check compares something


def test_overdue_allegations_found_in_sql_are_those_the_clock_says(ctx: Flask) -> None:
    _allegations(400)
    for on in DAYS_TO_CHECK:
        _agree(on)


def test_sql_and_clock_agree_under_other_rules(ctx: Flask) -> None:
    """Limits in months, a shortened limit in days and steps for some personnel only."""
    _allegations(400)
    rules = {r.step: r for r in db.session.scalars(select(ClockRule))}
    rules["assessed"].amount, rules["assessed"].unit = 1, "months"
    rules["assessed"].reduced_amount, rules["assessed"].reduced_from = 1, "urgent"
    rules["referred"].reduced_amount, rules["referred"].reduced_from = 1, "high_priority"
    rules["report_submitted"].applies_to = "civilian,formed_police"
    rules["investigation_completed"].starts_from = "received"
    db.session.flush()
    for on in DAYS_TO_CHECK:
        _agree(on)


def test_no_rule_means_nothing_is_overdue(ctx: Flask) -> None:
    _allegations(20)
    assert not db.session.scalars(
        select(Allegation.id).where(clock.has_overdue_step([], DAYS_TO_CHECK[-1]))
    ).all()


def _overdue_victims(actor: User, today: date, count: int, series: str = "X") -> list[str]:
    """Victims each named in one allegation whose assessment is overdue; their case codes."""
    codes = []
    for number in range(count):
        victim = register(actor, registered_on=today - timedelta(days=120))
        assistance.record_assistance(
            actor=actor,
            victim=victim,
            service_type="legal",
            status="referred",
            referral_date=today - timedelta(days=45 + number),
        )
        allegation = allegations.create_allegation(
            actor=actor,
            reference=f"{series}{count - number}/26",
            country_code="CAF",
            received_on=today - timedelta(days=30),
        )
        outcomes.link_victim(actor=actor, victim=victim, allegation=allegation)
        codes.append(victim.case_code)
    return codes


def test_each_section_shows_its_first_rows_and_says_more_exist(
    actor: User, monkeypatch: pytest.MonkeyPatch, today: date
) -> None:
    codes = _overdue_victims(actor, today, 4)
    twice = register(actor, registered_on=today - timedelta(days=120))  # named in two allegations
    for reference in ("B/26", "A/26"):
        allegation = allegations.create_allegation(
            actor=actor, reference=reference, country_code="CAF", received_on=today - timedelta(days=30)
        )
        outcomes.link_victim(actor=actor, victim=twice, allegation=allegation)
    on_time = register(actor)
    allegation = allegations.create_allegation(
        actor=actor, reference="0/26", country_code="CAF", received_on=today
    )
    outcomes.link_victim(actor=actor, victim=on_time, allegation=allegation)

    everything = listing.attention(actor)
    assert [(code, reference) for _, code, reference, _ in everything.overdue_steps] == [
        *[(code, f"X{4 - n}/26") for n, code in enumerate(codes)],
        (twice.case_code, "A/26"),
        (twice.case_code, "B/26"),
    ]
    assert {state.text for *_, state in everything.overdue_steps} == {"overdue by 23 days"}
    assert everything.more == set()

    monkeypatch.setattr(listing, "ATTENTION_LIMIT", 3)
    cut = listing.attention(actor)
    assert cut.overdue_steps == everything.overdue_steps[:3]
    assert cut.stuck_services == everything.stuck_services[:3]
    assert [days for *_, days in cut.stuck_services] == [48, 47, 46]  # the oldest referral first
    assert len(cut.no_assistance) == len(cut.no_update) == 3
    assert cut.more == {"overdue_steps", "stuck_services", "no_assistance", "no_update"}

    monkeypatch.setattr(listing, "ATTENTION_LIMIT", 6)
    exactly = listing.attention(actor)
    assert exactly.overdue_steps == everything.overdue_steps and "overdue_steps" not in exactly.more


def test_closed_victims_and_other_advocates_victims_are_left_out(
    actor: User, make_user: Callable[..., Any], today: date
) -> None:
    mine, closed = _overdue_victims(actor, today, 2)
    victim = identity.find_by_case_code(actor, closed)
    assert victim is not None
    identity.set_status(actor=actor, victim=victim, status="closed")
    db.session.commit()
    colleague = db.session.get(User, make_user(Role.ADVOCATE, "CAF").id)
    theirs = _overdue_victims(colleague, today, 1, series="Y")[0]
    listed = {code for _, code, _, _ in listing.attention(actor).overdue_steps}
    assert listed == {mine}
    everyone = {code for _, code, _, _ in listing.attention(actor, mine_only=False).overdue_steps}
    assert everyone == {mine, theirs}


def test_the_page_says_when_a_section_shows_only_its_first_rows(
    app: Flask, client: FlaskClient, login: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, today: date
) -> None:
    user = login(Role.ADVOCATE, "CAF")
    with app.test_request_context():
        codes = _overdue_victims(db.session.get(User, user.id), today, 3)
        db.session.commit()
    monkeypatch.setattr(listing, "ATTENTION_LIMIT", 2)
    page = client.get("/vat/attention").get_data(as_text=True)
    overdue = page[page.index('id="overdue-heading"') : page.index('id="stuck-heading"')]
    assert "Overdue allegation steps (2)" in overdue and "Only the first 2 are shown." in overdue
    assert f">{codes[0]}</a>" in overdue and f">{codes[2]}</a>" not in overdue
    monkeypatch.setattr(listing, "ATTENTION_LIMIT", 3)
    page = client.get("/vat/attention").get_data(as_text=True)
    assert "Only the first" not in page and f">{codes[2]}</a>" in page
