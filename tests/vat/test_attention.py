"""The advocate's "needs attention" page: every section shows its first ATTENTION_LIMIT rows and
says when more exist (that SQL and the clock agree on what is overdue: test_clock_twins.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.vat.conftest import assist, contact, register
from vat.allegations import services as allegations
from vat.auth.models import Role, User
from vat.db import db
from vat.victims import identity, listing, needs, outcomes
from vat.victims.models import Victim


def _overdue_victims(actor: User, today: date, count: int, series: str = "X") -> list[str]:
    """Victims each named in one allegation whose assessment is overdue; their case codes."""
    codes = []
    for number in range(count):
        victim = register(actor, registered_on=today - timedelta(days=120))
        assist(actor, victim, on=today - timedelta(days=45 + number), service_type="legal")
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


def test_stuck_referrals_and_victims_without_assistance_mine_or_all_in_scope(
    actor: User, make_user: Callable[..., Any], today: date
) -> None:
    """Mine are found from my victims, all in scope from the referrals in date order: the same
    rules either way, and none for a senior advocate with no victims of their own."""
    db.session.commit()  # make_user writes on a connection of its own
    colleague_id, senior_id = make_user(Role.ADVOCATE, "CAF").id, make_user(Role.SENIOR_ADVOCATE, "CAF").id
    colleague, senior = db.session.get_one(User, colleague_id), db.session.get_one(User, senior_id)
    old = today - timedelta(days=120)
    mine = register(actor, registered_on=old)
    assist(actor, mine, on=today - timedelta(days=40))
    closed = register(actor, registered_on=old)
    assist(actor, closed, on=today - timedelta(days=50))
    identity.set_status(actor=actor, victim=closed, status="closed")
    assist(actor, register(actor, registered_on=old), status="in_progress", on=today - timedelta(days=60))
    assist(actor, register(actor, registered_on=old), on=today - timedelta(days=5))  # not stuck yet
    unassisted = register(actor, registered_on=old)
    theirs = register(colleague, registered_on=old)
    assist(colleague, theirs, on=today - timedelta(days=45))
    theirs_unassisted = register(colleague, registered_on=old)
    db.session.commit()

    def stuck(attention: listing.Attention) -> list[tuple[str, int]]:
        return [(code, days) for _, code, _, days in attention.stuck_services]

    def unassisted_codes(attention: listing.Attention) -> set[str]:
        return {code for _, code in attention.no_assistance} & {
            unassisted.case_code,
            theirs_unassisted.case_code,
        }

    assert stuck(listing.attention(actor)) == [(mine.case_code, 40)]
    assert stuck(listing.attention(actor, mine_only=False)) == [(theirs.case_code, 45), (mine.case_code, 40)]
    assert stuck(listing.attention(senior)) == [] and listing.attention(senior).no_assistance == []
    assert stuck(listing.attention(senior, mine_only=False)) == stuck(
        listing.attention(actor, mine_only=False)
    )
    assert unassisted_codes(listing.attention(actor)) == {unassisted.case_code}
    assert unassisted_codes(listing.attention(colleague)) == {theirs_unassisted.case_code}
    assert unassisted_codes(listing.attention(actor, mine_only=False)) == {
        unassisted.case_code,
        theirs_unassisted.case_code,
    }


def awaiting_follow_up(actor: User, victim: Victim, on: date | None) -> None:
    """Feedback on a new service of the victim's that asks for a follow-up by `on`."""
    service = assist(actor, victim)
    needs.record_feedback(
        actor=actor,
        victim=victim,
        service=service,
        satisfaction="not_satisfied",
        follow_up_needed=True,
        follow_up_on=on,
    )


def test_a_whole_scope_s_needs_not_met_and_follow_ups_are_its_first_in_order(
    actor: User, make_user: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, today: date
) -> None:
    """Over a whole scope the needs not met are walked by day and cut at the first ones in reach,
    then ordered by case code: the cut is exact when several fall on its last day."""
    db.session.commit()  # SQLite: the other users are made on a connection of their own
    made = [make_user(Role.ADVOCATE, scope).id for scope in ("CAF", "SSD")]
    colleague, elsewhere = (db.session.get_one(User, user_id) for user_id in made)
    day = today - timedelta(days=20)
    expected_needs, expected_follow_ups = [], []
    for number, (owner, assessed_on, need_type) in enumerate(
        [
            (actor, day, "legal"),
            (colleague, day, "medical"),
            (actor, day - timedelta(days=1), "shelter"),
            (colleague, day, "legal"),
            (actor, day + timedelta(days=1), "education"),
        ]
    ):
        victim = register(owner)
        needs.assess_need(
            actor=owner, victim=victim, need_type=need_type, status="unmet", assessed_on=assessed_on
        )
        expected_needs.append((assessed_on, victim.case_code, need_type))
        follow_up_on = None if number == 2 else today + timedelta(days=10 - number)
        awaiting_follow_up(owner, victim, follow_up_on)
        expected_follow_ups.append((follow_up_on is None, follow_up_on or today, victim.case_code))
    met = register(actor)
    needs.assess_need(actor=actor, victim=met, need_type="legal", status="met", assessed_on=day)
    outside = register(elsewhere, country_code="SSD", mission="UNMISS")
    needs.assess_need(actor=elsewhere, victim=outside, need_type="legal", status="unmet", assessed_on=day)
    awaiting_follow_up(elsewhere, outside, today)
    db.session.commit()
    expected_needs.sort()
    expected_follow_ups.sort()
    for limit in (1, 2, 3, 4, 5, 6):
        monkeypatch.setattr(listing, "ATTENTION_LIMIT", limit)
        found = listing.attention(actor, mine_only=False)
        assert [(code, kind) for _i, code, kind, _s, _r in found.needs_not_met] == [
            (code, kind) for _day, code, kind in expected_needs[:limit]
        ], limit
        assert [code for _i, code, *_ in found.follow_ups] == [
            code for *_, code in expected_follow_ups[:limit]
        ], limit
        assert ("needs_not_met" in found.more) == (limit < 5)
        assert ("follow_ups" in found.more) == (limit < 5)


def test_victims_without_an_update_are_the_longest_without_one_first(
    actor: User, monkeypatch: pytest.MonkeyPatch, today: date
) -> None:
    """Updated and never-updated victims are found apart and merged: the cut takes the first of
    both by the day of the last update, or of registration when there is none."""
    cutoff = today - timedelta(days=listing.no_update_days())
    expected = []
    for registered, updated in [(200, None), (300, 150), (250, None), (400, 100), (500, 220), (350, 40)]:
        victim = register(actor, registered_on=today - timedelta(days=registered))
        if updated is not None:
            contact(actor, victim, today - timedelta(days=updated))
        since = today - timedelta(days=updated if updated is not None else registered)
        if since <= cutoff:
            expected.append((since, victim.case_code))
    db.session.commit()
    expected.sort()
    assert len(expected) == 5  # the one updated 40 days ago is not due
    for limit in range(1, 7):
        monkeypatch.setattr(listing, "ATTENTION_LIMIT", limit)
        for mine_only in (True, False):
            found = listing.attention(actor, mine_only=mine_only)
            assert [(since, code) for _i, code, since in found.no_update] == expected[:limit]
            assert ("no_update" in found.more) == (limit < 5)
