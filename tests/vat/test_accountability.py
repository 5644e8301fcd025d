"""The accountability cycle after the report (issue 17, item 2): its steps recorded by the service
(checks and audit rows), its clock's bounds from the rules kept as data, and the member-state
letters about an allegation kept in the claims' log with the same days-waiting."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from tests.vat.conftest import reported
from vat import audit
from vat.allegations import accountability, cycle
from vat.allegations.cycle_models import AccountabilityStep, CycleRule
from vat.allegations.models import Allegation
from vat.auth.models import Role, User
from vat.db import db
from vat.errors import DomainError
from vat.inputs import InvalidField

ON = date(2026, 6, 30)


def step(allegation: Allegation, kind: str, measure: str, on: date) -> AccountabilityStep:
    row = AccountabilityStep(allegation_id=allegation.id, step=kind, measure=measure, dated_on=on)
    db.session.add(row)
    db.session.flush()
    return row


def states(allegation: Allegation, on: date = ON) -> dict[str, str]:
    return {s.step: s.text for s in cycle.cycle(allegation, accountability.steps_of(allegation), on=on)}


def test_seeded_rules_are_data(ctx: Flask) -> None:
    rules = {
        r.step: (r.starts_from, r.amount, r.unit, r.applies_to, r.substantiated_only) for r in cycle.rules()
    }
    contingents, officials = "military_contingent,formed_police", "civilian,military_expert,individual_police"
    assert rules == {
        "administrative_action": ("report_submitted", 3, "months", "", True),
        "member_state_referral": ("report_submitted", 15, "days", contingents, True),
        "member_state_outcome": ("member_state_referral", 90, "days", contingents, False),
        "criminal_referral": ("report_submitted", 1, "months", officials, True),
        "criminal_response": ("criminal_referral", 90, "days", officials, False),
    }


def test_a_contingent_case_after_the_report(ctx: Flask) -> None:
    allegation = reported("1/26")
    assert states(allegation) == {
        "administrative_action": "due in 1 day",  # 1 April + 3 months = 1 July
        "member_state_referral": "overdue by 75 days",  # 16 April
        "member_state_outcome": "waiting for an earlier step",
        "criminal_referral": "not applicable",
        "criminal_response": "not applicable",
    }
    step(allegation, "member_state_referral", "referred", date(2026, 4, 20))
    after = states(allegation)
    assert after["member_state_referral"] == "late by 4 days"
    assert after["member_state_outcome"] == "due in 19 days"  # 20 April + 90 days = 19 July
    assert states(allegation, date(2026, 7, 20))["member_state_outcome"] == "overdue by 1 day"
    assert states(allegation, date(2026, 7, 2))["administrative_action"] == "overdue by 1 day"


def test_bounds_no_false_alarms(ctx: Flask) -> None:
    # An outcome recorded without its referral: the referral was done by then.
    bounded = reported("2/26")
    step(bounded, "member_state_outcome", "imprisonment", date(2026, 6, 1))
    assert states(bounded)["member_state_referral"] == "not recorded; done by 2026-06-01"
    # Not substantiated: nothing to sanction or refer.
    cleared = reported("3/26", outcome="unsubstantiated")
    assert {k: v for k, v in states(cleared).items() if v != "waiting for an earlier step"} == dict.fromkeys(
        ("administrative_action", "member_state_referral", "criminal_referral", "criminal_response"),
        "not applicable",
    )
    # Imported from a tracker that kept none of it: not recorded, never overdue.
    old = reported("4/26", historical=True)
    assert states(old)["member_state_referral"] == "not recorded"
    # A referral decided against ("none") meets its own limit and starts no wait for an answer.
    official = reported("5/26", personnel="civilian")
    step(official, "criminal_referral", "none", date(2026, 4, 10))
    assert states(official)["criminal_referral"] == "on time"
    assert states(official)["criminal_response"] == "waiting for an earlier step"
    rules = cycle.rules()
    overdue = set(
        db.session.scalars(select(Allegation.reference).where(cycle.has_overdue_cycle_step(rules, ON)))
    )
    assert overdue == set()  # SQL agrees: none of these four is overdue on 30 June
    # Half a year on, only the sanction is overdue: no answer is awaited to a referral not made.
    later = date(2027, 1, 1)
    late = cycle.overdue_cycle_steps(official, accountability.steps_of(official), rules, later)
    assert [s.step for s in late] == ["administrative_action"]
    by_rule = {
        rule.step: set(
            db.session.scalars(
                select(Allegation.reference).where(cycle.overdue_condition(rule, rules, later))
            )
        )
        for rule in rules
    }
    assert "5/26" in by_rule["administrative_action"] and "5/26" not in by_rule["criminal_response"]


def test_a_rule_changed_as_data_moves_the_deadline(ctx: Flask) -> None:
    allegation = reported("6/26")
    rule = db.session.get_one(CycleRule, "member_state_referral")
    rule.amount, rule.unit = 3, "months"
    db.session.flush()
    assert states(allegation)["member_state_referral"] == "due in 1 day"


def test_recording_steps_checks_them_and_audits(ctx: Flask, actor: User) -> None:
    allegation = reported("7/26")

    def record(**values: Any) -> AccountabilityStep:
        arguments = {"step": "administrative_action", "measure": "dismissal", "dated_on": date(2026, 5, 1)}
        return accountability.record_step(actor=actor, **{"allegation": allegation, **arguments, **values})

    row = record(
        step="interim_measure",
        measure="leave_without_pay",
        dated_on=date(2026, 2, 1),
        ends_on=date(2026, 2, 28),
        reference="ST/AI/2017/1",
        note="placed on leave",
    )
    event = db.session.scalars(
        select(audit.AuditEvent).where(audit.AuditEvent.action == "allegation.cycle_step")
    ).one()
    assert event.object_id == str(allegation.id) and "leave_without_pay" in event.detail
    assert row.note == "placed on leave" and "placed" not in str(event.detail)

    def refused(**values: Any) -> str:
        with pytest.raises(InvalidField) as error:
            record(**values)
        return error.value.field

    assert refused(measure="imprisonment") == "measure"  # a member state's outcome, not the UN's
    assert refused(dated_on=date.today() + timedelta(days=1)) == "dated_on"
    assert refused(dated_on=date(2025, 12, 31)) == "dated_on"  # before it was received
    assert refused(step="member_state_outcome", measure="imprisonment") == "step"  # no referral yet
    assert refused(ends_on=date(2026, 6, 1)) == "ends_on"  # only interim measures end
    record(step="member_state_referral", measure="referred", dated_on=date(2026, 4, 10))
    assert (
        refused(step="member_state_outcome", measure="imprisonment", dated_on=date(2026, 4, 9)) == "dated_on"
    )
    unknown = reported("8/26", perpetrator_country=None)
    with pytest.raises(DomainError):
        record(allegation=unknown, step="criminal_referral", measure="referred")


def test_letters_share_the_claims_log_and_its_wait(
    ctx: Flask, actor: User, make_user: Callable[..., Any]
) -> None:
    allegation = reported("9/26")
    first = accountability.record_letter(
        actor=actor,
        allegation=allegation,
        direction="sent",
        dated_on=date(2026, 4, 20),
        channel="note_verbale",
    )
    accountability.record_letter(
        actor=actor, allegation=allegation, direction="sent", dated_on=date(2026, 5, 20), channel="email"
    )
    letters = accountability.letters_of(allegation)
    assert first.claim_id is None and [x.channel for x in letters] == ["note_verbale", "email"]
    wait = accountability.waiting(allegation, letters, ON)
    assert wait is not None and (wait.member_state, wait.since, wait.days) == ("PAK", date(2026, 4, 20), 71)
    accountability.record_letter(
        actor=actor, allegation=allegation, direction="received", dated_on=date(2026, 6, 1), channel="email"
    )
    assert accountability.waiting(allegation, accountability.letters_of(allegation), ON) is None
    with pytest.raises(InvalidField):
        accountability.record_letter(
            actor=actor, allegation=allegation, direction="sent", dated_on=date(2025, 1, 1), channel="email"
        )
    log = accountability.member_state_log(actor, "pak")
    assert [line.subject for line in log] == ["9/26"] * 3
    db.session.commit()  # make_user writes on a connection of its own
    outsider = db.session.get_one(User, make_user(Role.ADVOCATE, "COD").id)
    assert accountability.member_state_log(outsider, "PAK") == []
    assert (
        db.session.scalars(
            select(audit.AuditEvent.action).where(audit.AuditEvent.action == "allegation.letter")
        ).all()
        == ["allegation.letter"] * 3
    )
