"""The accountability cycle's kept counts (vat/allegations/cycle_counts.py) keep the dashboard's
"overdue accountability steps" exact: after each kind of change — a new allegation, a step of the
cycle recorded, a report submitted, an outcome, a personnel category, an allegation moved, an
import, a rule changed — they equal a recount of every allegation, and the dashboard's figure
equals what was computed in SQL from the allegations before the counts were kept (one query a rule)
and a scan with the Python cycle, for every role; migration 1146 fills them from the rows; threads
at once keep them exact. A day boundary, breaking the glass, verify and rebuild: test_step_counts.py."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.vat.step_count_checks import ON, PLACES, OverdueFigure, import_allegations, moved, update
from vat.allegations import cycle, cycle_counts
from vat.allegations import services as allegations
from vat.allegations.accountability import record_step
from vat.allegations.cycle_rules import update_cycle_rule
from vat.allegations.models import Allegation
from vat.auth.models import Role, User
from vat.db import db
from vat.reports.member_states import overdue_cycle_steps
from vat.reports.scope import VictimFilters, place_conditions, sees_rows, threshold

pytestmark = pytest.mark.clock("2026-06-30T12:00:00Z")
CATEGORIES = ["military_contingent", "civilian", "formed_police", "un_volunteer"]


def _create(actor: User, n: int, rng: random.Random, **values: Any) -> Allegation:
    """An allegation whose report went out 0–200 days before ON (or not yet), of any outcome."""
    country, mission = PLACES[n % len(PLACES)]
    received = ON - timedelta(days=rng.randrange(200, 400))
    report = ON - timedelta(days=rng.randrange(0, 200)) if rng.random() < 0.8 else None
    chosen = {
        "country_code": country,
        "mission": mission,
        "personnel_category": rng.choice(CATEGORIES),
        "perpetrator_country": "URY",
        "outcome": rng.choice(["substantiated", "substantiated", "pending", "unsubstantiated"]),
        "received_on": received,
        "report_submitted_on": report,
    }
    return allegations.create_allegation(actor=actor, reference=f"{n:04d}/26", **(chosen | values))


def _before(user: User, on: date) -> int | None:
    """The dashboard's figure as it was computed before the counts were kept: one query a rule."""
    conditions = place_conditions(
        user, VictimFilters(), record=Allegation, record_type="allegation", dated=Allegation.received_on
    )
    rule_list = cycle.rules()
    total = sum(
        db.session.scalar(
            select(func.count())
            .select_from(Allegation)
            .where(*conditions, cycle.overdue_condition(rule, rule_list, on))
        )
        or 0
        for rule in rule_list
    )
    limit = 1 if sees_rows(user) else threshold()
    return None if 0 < total < limit else total


def _overdue(found: Sequence[Allegation], on: date) -> list[int]:
    """Overdue steps by the Python cycle, allegation by allegation."""
    rule_list = cycle.rules()
    steps = cycle.steps_for(a.id for a in found)
    return [len(cycle.overdue_cycle_steps(a, steps[a.id], rule_list, on)) for a in found]


def _all_created(actor: User, rng: random.Random) -> None:
    for n in range(40):
        _create(actor, n, rng)
    # A report submitted 15 days ago for a contingent: its referral is due today, overdue tomorrow.
    _create(
        actor,
        40,
        rng,
        personnel_category="military_contingent",
        outcome="substantiated",
        report_submitted_on=ON - timedelta(days=15),
    )


OVERDUE = OverdueFigure(
    "accountability cycle counts", cycle_counts, overdue_cycle_steps, _before, _overdue, _all_created
)


def test_each_kind_of_change_keeps_the_counts_and_the_dashboard_exact(
    built: tuple[User, list[User]],
) -> None:
    actor, viewers = built
    rng = random.Random(3)
    shown = OVERDUE.agree(viewers, ON)
    assert shown[0] is not None and shown[0] > 0
    found = list(db.session.scalars(select(Allegation).order_by(Allegation.id)))
    reported = [a for a in found if a.report_submitted_on is not None and a.outcome == "substantiated"]
    # Steps of the cycle recorded: a referral (starts the outcome's limit), one decided without
    # referring, an administrative action, an outcome answering a referral.
    for allegation in reported[:4]:
        record_step(
            actor=actor, allegation=allegation, step="member_state_referral", measure="referred", dated_on=ON
        )
    record_step(
        actor=actor, allegation=reported[4], step="member_state_referral", measure="none", dated_on=ON
    )
    record_step(
        actor=actor, allegation=reported[5], step="administrative_action", measure="dismissal", dated_on=ON
    )
    record_step(actor=actor, allegation=reported[0], step="member_state_outcome", measure="fine", dated_on=ON)
    db.session.commit()
    OVERDUE.agree(viewers, ON)
    # A report submitted, an outcome, a personnel category (a rule that applies or not), historical.
    unreported = [a for a in found if a.report_submitted_on is None]
    update(actor, unreported[0], report_submitted_on=ON - timedelta(days=100))
    update(actor, found[9], outcome="substantiated")
    update(actor, found[10], outcome="unsubstantiated")
    update(actor, found[11], personnel_category="civilian")
    update(actor, found[12], historical="yes")
    db.session.commit()
    OVERDUE.agree(viewers, ON)
    moved(actor, found[13:16])
    OVERDUE.agree(viewers, ON)
    # New ones.
    _create(actor, 50, rng)
    _create(actor, 51, rng, personnel_category="civilian", report_submitted_on=ON - timedelta(days=90))
    db.session.commit()
    OVERDUE.agree(viewers, ON)
    # Imported, with a report submitted long ago.
    import_allegations(
        actor,
        b"reference,country_code,mission,received_on,report_submitted_on,personnel_category,outcome\n"
        b"0100/25,COD,MONUSCO,2025-03-02,2025-09-01,military_contingent,substantiated\n"
        b"0101/26,CAF,MINUSCA,2026-01-02,2026-04-20,civilian,substantiated\n",
    )
    OVERDUE.agree(viewers, ON)
    # A rule changed: its step counted again, every allegation.
    update_cycle_rule(
        actor=actor,
        step="member_state_referral",
        amount=2,
        unit="months",
        applies_to=["military_contingent", "formed_police", "civilian"],
        substantiated_only=False,
    )
    db.session.commit()
    OVERDUE.agree(viewers, ON)


def test_migration_1146_fills_the_counts_from_the_allegations(built: tuple[User, list[User]]) -> None:
    actor, viewers = built
    # Steps recorded and changed rules (days and months, for everyone) are what the migration reads too.
    reported = db.session.scalars(
        select(Allegation)
        .where(Allegation.report_submitted_on.is_not(None), Allegation.outcome == "substantiated")
        .order_by(Allegation.id)
    ).all()
    record_step(
        actor=actor, allegation=reported[0], step="member_state_referral", measure="referred", dated_on=ON
    )
    record_step(
        actor=actor,
        allegation=reported[1],
        step="criminal_referral",
        measure="referred",
        dated_on=ON - timedelta(days=200),
    )
    update_cycle_rule(
        actor=actor,
        step="administrative_action",
        amount=45,
        unit="days",
        applies_to=[],
        substantiated_only=False,
    )
    update_cycle_rule(
        actor=actor,
        step="criminal_response",
        amount=4,
        unit="months",
        applies_to=CATEGORIES,
        substantiated_only=False,
    )
    db.session.commit()
    OVERDUE.refilled(viewers, revision="1145")


def test_concurrent_changes_to_one_place_keep_every_count(app: Flask, make_user: Any) -> None:
    """Eight threads, each its own allegation and transaction, record the same step on the same day
    in the same place at once: every count stays exact."""
    made = {
        "personnel_category": "military_contingent",
        "perpetrator_country": "URY",
        "outcome": "substantiated",
        "received_on": date(2026, 1, 5),
        "report_submitted_on": date(2026, 5, 1),
    }
    assert OVERDUE.changed_at_once_in_minusca(
        app,
        make_user(Role.SENIOR_ADVOCATE, "CAF").id,
        made,
        [
            lambda actor, allegation: record_step(
                actor=actor,
                allegation=allegation,
                step="member_state_referral",
                measure="referred",
                dated_on=date(2026, 5, 20),
            )
        ],
        read=("member_state_referral", "member_state_outcome"),
    ) == [("member_state_outcome", "open", 8), ("member_state_referral", "late", 8)]
