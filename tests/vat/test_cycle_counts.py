"""The accountability cycle's kept counts (vat/allegations/cycle_counts.py) keep the dashboard's
"overdue accountability steps" exact: after each kind of change — a new allegation, a step of the
cycle recorded, a report submitted, an outcome, a personnel category, an allegation moved, an
import, a rule changed — they equal a recount of every allegation, and the dashboard's figure
equals what was computed in SQL from the allegations before the counts were kept (one query a rule)
and a scan with the Python cycle, for every role; across a day boundary with nothing written; for a
senior advocate who broke the glass; `figures verify` names a changed row and `rebuild` mends it;
migration 1146 fills them from the rows; threads at once keep them exact."""

from __future__ import annotations

import io
import random
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select, text

from tests.vat.conftest import change_at_once
from tests.vat.test_clock_counts import ON, PLACES, VIEWERS, _update
from vat import figures
from vat.allegations import cycle, cycle_counts
from vat.allegations import services as allegations
from vat.allegations.accountability import record_step
from vat.allegations.cycle_rules import update_cycle_rule
from vat.allegations.models import Allegation
from vat.auth.break_glass import break_glass
from vat.auth.models import Role, User
from vat.auth.policy import in_scope
from vat.db import db
from vat.reports.member_states import overdue_cycle_steps
from vat.reports.scope import VictimFilters, place_conditions, sees_rows, threshold
from vat.reports.summary import summary
from vat.victims import importer

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


def _scanned(user: User, on: date) -> int:
    """Overdue steps by the Python cycle, allegation by allegation, in the viewer's scope."""
    rule_list = cycle.rules()
    found = list(db.session.scalars(select(Allegation)))
    steps = cycle.steps_for(a.id for a in found)
    return sum(
        len(cycle.overdue_cycle_steps(a, steps[a.id], rule_list, on))
        for a in found
        if in_scope(user, a.country_code, a.mission)
    )


def _agree(viewers: list[User], on: date) -> list[int | None]:
    """Every kept count equals a recount, and each viewer's figure the one computed before."""
    assert cycle_counts.differences() == []
    shown = []
    for user in viewers:
        figure = overdue_cycle_steps(user, today=on)
        assert figure == _before(user, on), (user.role, user.scope_label)
        if sees_rows(user):
            assert figure == _scanned(user, on), (user.role, user.scope_label)
        shown.append(figure)
    return shown


@pytest.fixture
def viewers(app: Flask, make_user: Any) -> list[int]:
    return [make_user(role, scope).id for role, scope in VIEWERS]


@pytest.fixture
def built(
    app: Flask, make_user: Any, viewers: list[int], clock: time_machine.Coordinates
) -> Iterator[tuple[User, list[User]]]:
    """Allegations recorded through the service on 30 June 2026 (the test's clock), in three places."""
    writer = make_user(Role.SENIOR_ADVOCATE, "CAF, COD").id
    with app.test_request_context():
        actor = db.session.get_one(User, writer)
        rng = random.Random(14)
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
        db.session.commit()
        yield actor, [db.session.get_one(User, i) for i in viewers]


def test_each_kind_of_change_keeps_the_counts_and_the_dashboard_exact(
    built: tuple[User, list[User]],
) -> None:
    actor, viewers = built
    rng = random.Random(3)
    shown = _agree(viewers, ON)
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
    _agree(viewers, ON)
    # A report submitted, an outcome, a personnel category (a rule that applies or not), historical.
    unreported = [a for a in found if a.report_submitted_on is None]
    _update(actor, unreported[0], report_submitted_on=ON - timedelta(days=100))
    _update(actor, found[9], outcome="substantiated")
    _update(actor, found[10], outcome="unsubstantiated")
    _update(actor, found[11], personnel_category="civilian")
    _update(actor, found[12], historical="yes")
    db.session.commit()
    _agree(viewers, ON)
    # Moved: to another country, into and out of a mission.
    _update(actor, found[13], country_code="COD", mission="MONUSCO")
    _update(actor, found[14], mission=None)
    _update(actor, found[15], mission="MINUSCA")
    db.session.commit()
    _agree(viewers, ON)
    # New ones.
    _create(actor, 50, rng)
    _create(actor, 51, rng, personnel_category="civilian", report_submitted_on=ON - timedelta(days=90))
    db.session.commit()
    _agree(viewers, ON)
    # Imported, with a report submitted long ago.
    report = importer.import_file(
        actor=actor,
        filename="a.csv",
        stream=io.BytesIO(
            b"reference,country_code,mission,received_on,report_submitted_on,personnel_category,outcome\n"
            b"0100/25,COD,MONUSCO,2025-03-02,2025-09-01,military_contingent,substantiated\n"
            b"0101/26,CAF,MINUSCA,2026-01-02,2026-04-20,civilian,substantiated\n"
        ),
        kind="allegations",
    )
    assert report.ok, report.errors
    db.session.commit()
    _agree(viewers, ON)
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
    _agree(viewers, ON)


def test_a_step_due_today_is_overdue_tomorrow_with_nothing_written(
    built: tuple[User, list[User]], clock: time_machine.Coordinates
) -> None:
    """The dashboard reads "today" from the clock: the day changes, no count is written, the
    figure follows."""
    _, viewers = built
    everything = "SELECT * FROM vat_cycle_count ORDER BY 1, 2, 3, 4, 5"
    kept = db.session.execute(text(everything)).all()
    today = _agree(viewers, date.today())
    assert date.today() == ON
    assert summary(viewers[0], reads_ledger=False).overdue_cycle_steps == today[0]
    clock.shift(timedelta(days=1))
    tomorrow = _agree(viewers, date.today())
    assert summary(viewers[0], reads_ledger=False).overdue_cycle_steps == tomorrow[0]
    assert tomorrow[0] is not None and today[0] is not None and tomorrow[0] > today[0]
    clock.shift(timedelta(days=400))
    later = _agree(viewers, date.today())
    assert later[0] is not None and later[0] > tomorrow[0]
    assert db.session.execute(text(everything)).all() == kept


def test_an_allegation_opened_by_breaking_the_glass_is_counted_for_that_senior_advocate(
    built: tuple[User, list[User]],
) -> None:
    _, viewers = built
    senior = viewers[1]  # CAF only
    outside = db.session.scalars(
        select(Allegation).where(Allegation.country_code == "COD").order_by(Allegation.id)
    ).all()
    rule_list = cycle.rules()
    steps = cycle.steps_for(a.id for a in outside)
    overdue = [a for a in outside if cycle.overdue_cycle_steps(a, steps[a.id], rule_list, ON)]
    assert overdue
    before = overdue_cycle_steps(senior, today=ON)
    break_glass(
        actor=senior,
        record_type="allegation",
        record_id=overdue[0].id,
        reason="The victim is in danger tonight.",
        country_code="COD",
    )
    db.session.commit()
    after = overdue_cycle_steps(senior, today=ON)
    assert after == _before(senior, ON)
    assert after is not None and before is not None
    assert after == before + len(cycle.overdue_cycle_steps(overdue[0], steps[overdue[0].id], rule_list, ON))


def test_verify_names_a_changed_row_and_rebuild_mends_it(built: tuple[User, list[User]]) -> None:
    row = db.session.execute(
        text("SELECT * FROM vat_cycle_count WHERE state = 'open' ORDER BY 1, 2, 3, 4, 5")
    ).first()
    assert row is not None
    db.session.execute(
        text(
            "UPDATE vat_cycle_count SET allegations = allegations + 2 WHERE country_code = :c"
            " AND mission = :m AND step = :s AND state = :t AND due_on = :d"
        ),
        {"c": row.country_code, "m": row.mission, "s": row.step, "t": row.state, "d": row.due_on},
    )
    found = figures.differences()
    place = f"{row.country_code} {row.mission}".strip()
    assert found == [
        f"accountability cycle counts: {place} {row.step} open due {row.due_on}"
        f" is {row.allegations + 2}, should be {row.allegations}"
    ]
    assert figures.summaries()["accountability cycle counts"].rebuild() > 0
    assert figures.differences() == []


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
    shown = _agree(viewers, ON)
    db.session.remove()
    downgrade(revision="1145")
    upgrade(revision="heads")
    assert cycle_counts.differences() == []
    assert [overdue_cycle_steps(user, today=ON) for user in viewers] == shown


def test_concurrent_changes_to_one_place_keep_every_count(app: Flask, make_user: Any) -> None:
    """Eight threads, each its own allegation and transaction, record the same step on the same day
    in the same place at once: every count stays exact."""
    user = make_user(Role.SENIOR_ADVOCATE, "CAF").id
    change_at_once(
        app,
        user,
        lambda actor, n: allegations.create_allegation(
            actor=actor,
            reference=f"R{n}/26",
            country_code="CAF",
            mission="MINUSCA",
            personnel_category="military_contingent",
            perpetrator_country="URY",
            outcome="substantiated",
            received_on=date(2026, 1, 5),
            report_submitted_on=date(2026, 5, 1),
        ),
        lambda actor, allegation: record_step(
            actor=actor,
            allegation=allegation,
            step="member_state_referral",
            measure="referred",
            dated_on=date(2026, 5, 20),
        ),
    )
    with app.test_request_context():
        assert cycle_counts.differences() == []
        kept = db.session.execute(
            text(
                "SELECT step, state, allegations FROM vat_cycle_count"
                " WHERE country_code = 'CAF' AND mission = 'MINUSCA' AND allegations <> 0"
                " AND step IN ('member_state_referral', 'member_state_outcome')"
            )
        ).all()
        assert sorted(kept) == [("member_state_outcome", "open", 8), ("member_state_referral", "late", 8)]
