"""The allegation clock's kept counts (vat/allegations/clock_counts.py) keep the dashboard's
"overdue steps" exact: after each kind of change — a new allegation, a step recorded, an outcome, an
allegation moved, an import, a rule changed — they equal a recount of every allegation, and the
dashboard's figure equals what the clock report computes in SQL from the allegations (the figure
before the counts were kept) and a scan with the Python clock, for every role; migration 1110 fills
them from the rows; threads at once keep them exact. What the cycle's counts do alike (a day
boundary, breaking the glass, verify and rebuild) is tested for both in test_step_counts.py."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from tests.vat.step_count_checks import ON, PLACES, OverdueFigure, import_allegations, moved, update
from vat.allegations import clock, clock_counts
from vat.allegations import services as allegations
from vat.allegations.models import Allegation, Step
from vat.auth.models import Role, User
from vat.db import db
from vat.reports.clock import CLOCK_STATES, clock_report, overdue_steps
from vat.reports.scope import VictimFilters

pytestmark = pytest.mark.clock("2026-06-30T12:00:00Z")


def _dates(rng: random.Random, index: int) -> dict[str, date | None]:
    """Step dates in order, none after ON; some steps left out (a later one bounds them)."""
    received = ON - timedelta(days=rng.randrange(0, 420))
    found: dict[str, date | None] = {"received_on": received}
    day = received
    for step in list(Step)[1:]:
        if rng.random() < 0.35:
            break
        day += timedelta(days=rng.randrange(0, 60))
        if day > ON:
            break
        found[f"{step.value}_on"] = None if rng.random() < 0.15 else day
    return found


def _create(actor: User, n: int, rng: random.Random, **values: Any) -> Allegation:
    country, mission = PLACES[n % len(PLACES)]
    chosen = {
        "country_code": country,
        "mission": mission,
        "personnel_category": rng.choice(["military_contingent", "civilian", "formed_police"]),
        "urgency": rng.choice(["normal", "high_priority", "urgent"]),
    }
    return allegations.create_allegation(
        actor=actor,
        reference=f"{n:04d}/26",
        **(chosen | (values if "received_on" in values else _dates(rng, n) | values)),
    )


def _before(user: User, on: date) -> int | None:
    """The dashboard's figure as it was computed before the counts were kept: the clock report's."""
    report = clock_report(user, VictimFilters(), today=on)
    at = [k for k, _ in CLOCK_STATES].index("overdue")
    shown = [row.counts[at] for row in report.rows]
    return None if any(n is None for n in shown) else sum(n for n in shown if n is not None)


def _overdue(found: Sequence[Allegation], on: date) -> list[int]:
    """Overdue steps by the Python clock, allegation by allegation."""
    rule_list = clock.rules()
    return [len(clock.overdue_steps(a, rule_list, on)) for a in found]


def _all_created(actor: User, rng: random.Random) -> None:
    for n in range(36):
        _create(actor, n, rng)
    # Assessed due today (7 days from receipt): due on the 30th, overdue on 1 July.
    _create(actor, 36, rng, received_on=ON - timedelta(days=7), urgency="normal")


OVERDUE = OverdueFigure(
    "allegation clock counts", clock_counts, overdue_steps, _before, _overdue, _all_created
)


def test_each_kind_of_change_keeps_the_counts_and_the_dashboard_exact(
    built: tuple[User, list[User]],
) -> None:
    actor, viewers = built
    rng = random.Random(3)
    OVERDUE.agree(viewers, ON)
    found = list(db.session.scalars(select(Allegation).order_by(Allegation.id)))
    # A step recorded: the earliest missing one, today.
    for allegation in found[:8]:
        missing = next((s for s in list(Step)[1:] if allegation.step_date(s) is None), None)
        if missing is not None and not any(
            allegation.step_date(s) for s in list(Step)[list(Step).index(missing) + 1 :]
        ):
            update(actor, allegation, **{f"{missing.value}_on": ON})
    db.session.commit()
    OVERDUE.agree(viewers, ON)
    # An outcome, an urgency (a shortened limit), a personnel category (a rule that applies or not).
    update(actor, found[9], outcome="substantiated", investigation_completed_on=ON)
    update(actor, found[10], urgency="urgent")
    update(actor, found[11], personnel_category="civilian")
    db.session.commit()
    OVERDUE.agree(viewers, ON)
    moved(actor, found[12:15])
    OVERDUE.agree(viewers, ON)
    # New ones, one historical (nothing overdue, ever).
    _create(actor, 40, rng)
    _create(actor, 41, rng, received_on=date(2019, 1, 1), historical="yes")
    db.session.commit()
    OVERDUE.agree(viewers, ON)
    # Imported: old and recent, historical or not.
    import_allegations(
        actor,
        b"reference,country_code,mission,received_on,assessed_on,historical\n"
        b"0100/15,COD,MONUSCO,2015-03-02,,oui\n"
        b"0101/26,CAF,MINUSCA,2026-05-02,2026-05-20,\n"
        b"0102/26,CAF,,2026-06-25,,\n",
    )
    OVERDUE.agree(viewers, ON)
    # A rule changed: its step counted again, every allegation.
    allegations.update_rule(
        actor=actor, step="referred", amount=2, unit="months", reduced_amount=1, reduced_from="urgent"
    )
    db.session.commit()
    OVERDUE.agree(viewers, ON)


def test_viewers_entitled_to_the_same_allegations_see_the_same_figure(
    built: tuple[User, list[User]],
) -> None:
    _, viewers = built
    shown = OVERDUE.agree(viewers, ON)
    assert shown[0] == shown[1] == shown[6] is not None  # advocates and a senior advocate of CAF
    assert shown[5] == shown[7]  # two auditors
    assert shown[3] is not None and shown[0] > 0 and shown[3] > 0  # CAF's and COD's


def test_migration_1110_fills_the_counts_from_the_allegations(built: tuple[User, list[User]]) -> None:
    # A changed rule (months, a shortened limit, a category) is what the migration reads too.
    allegations.update_rule(
        actor=built[0],
        step="assessed",
        amount=2,
        unit="months",
        reduced_amount=1,
        reduced_from="high_priority",
    )
    db.session.commit()
    OVERDUE.refilled(built[1], revision="1131")


def test_concurrent_changes_to_one_place_keep_every_count(app: Flask, make_user: Any) -> None:
    """Eight threads, each its own allegation and transaction, record the same step on the same day
    in the same place at once: every count stays exact."""
    assert OVERDUE.changed_at_once_in_minusca(
        app,
        make_user(Role.SENIOR_ADVOCATE, "CAF").id,
        {"received_on": date(2026, 5, 1)},
        [
            lambda actor, allegation: update(actor, allegation, assessed_on=date(2026, 5, 20)),
            lambda actor, allegation: update(
                actor, allegation, assessed_on=date(2026, 5, 20), referred_on=date(2026, 5, 21)
            ),
        ],
        read=("assessed", "referred"),
    ) == [("assessed", "late", 8), ("referred", "on_time", 8)]
