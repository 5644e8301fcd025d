"""The allegation clock's kept counts (vat/allegations/clock_counts.py) keep the dashboard's
"overdue steps" exact: after each kind of change — a new allegation, a step recorded, an outcome, an
allegation moved, an import, a rule changed — they equal a recount of every allegation, and the
dashboard's figure equals what the clock report computes in SQL from the allegations (the figure
before the counts were kept) and a scan with the Python clock, for every role; across a day
boundary with nothing written; for a senior advocate who broke the glass; `figures verify` names a
changed row and `rebuild` mends it; migration 1110 fills them from the rows; threads at once keep
them exact."""

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
from sqlalchemy import select, text

from tests.vat.conftest import change_at_once, kept_rows
from vat import figures
from vat.allegations import clock, clock_counts
from vat.allegations import services as allegations
from vat.allegations.models import Allegation, Step
from vat.auth.break_glass import break_glass
from vat.auth.models import Role, User
from vat.auth.policy import in_scope
from vat.db import db
from vat.reports.clock import CLOCK_STATES, clock_report, overdue_steps
from vat.reports.scope import VictimFilters, sees_rows
from vat.reports.summary import summary
from vat.victims import importer

ON = date(2026, 6, 30)
pytestmark = pytest.mark.clock("2026-06-30T12:00:00Z")
PLACES = [("CAF", "MINUSCA"), ("CAF", None), ("COD", "MONUSCO")]
VIEWERS = [
    (Role.ADVOCATE, "CAF"),
    (Role.SENIOR_ADVOCATE, "CAF"),
    (Role.ADVOCATE, "CAF/MINUSCA"),
    (Role.ADVOCATE, "COD"),
    (Role.FUND_MANAGER, ""),
    (Role.AUDITOR, ""),
    (Role.ADVOCATE, "CAF"),  # entitled to what the first is
    (Role.AUDITOR, ""),
]
FIELDS = (
    "country_code mission entity_category personnel_category perpetrator_country perpetrators type"
    " sub_type urgency investigating_entity investigation_status outcome"
).split()


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


def _update(actor: User, allegation: Allegation, **changes: Any) -> None:
    current = {name: getattr(allegation, name) for name in FIELDS}
    current |= {f"{step.value}_on": allegation.step_date(step) for step in Step}
    allegations.update_allegation(actor=actor, allegation=allegation, **(current | changes))


def _before(user: User, on: date) -> int | None:
    """The dashboard's figure as it was computed before the counts were kept: the clock report's."""
    report = clock_report(user, VictimFilters(), today=on)
    at = [k for k, _ in CLOCK_STATES].index("overdue")
    shown = [row.counts[at] for row in report.rows]
    return None if any(n is None for n in shown) else sum(n for n in shown if n is not None)


def _scanned(user: User, on: date) -> int:
    """Overdue steps by the Python clock, allegation by allegation, in the viewer's scope."""
    rule_list = clock.rules()
    return sum(
        len(clock.overdue_steps(a, rule_list, on))
        for a in db.session.scalars(select(Allegation))
        if in_scope(user, a.country_code, a.mission)
    )


def _agree(viewers: list[User], on: date) -> list[int | None]:
    """Every kept count equals a recount, and each viewer's figure the one computed before."""
    assert clock_counts.differences() == []
    shown = []
    for user in viewers:
        figure = overdue_steps(user, today=on)
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
        for n in range(36):
            _create(actor, n, rng)
        # Assessed due today (7 days from receipt): due on the 30th, overdue on 1 July.
        _create(actor, 36, rng, received_on=ON - timedelta(days=7), urgency="normal")
        db.session.commit()
        yield actor, [db.session.get_one(User, i) for i in viewers]


def test_each_kind_of_change_keeps_the_counts_and_the_dashboard_exact(
    built: tuple[User, list[User]],
) -> None:
    actor, viewers = built
    rng = random.Random(3)
    _agree(viewers, ON)
    found = list(db.session.scalars(select(Allegation).order_by(Allegation.id)))
    # A step recorded: the earliest missing one, today.
    for allegation in found[:8]:
        missing = next((s for s in list(Step)[1:] if allegation.step_date(s) is None), None)
        if missing is not None and not any(
            allegation.step_date(s) for s in list(Step)[list(Step).index(missing) + 1 :]
        ):
            _update(actor, allegation, **{f"{missing.value}_on": ON})
    db.session.commit()
    _agree(viewers, ON)
    # An outcome, an urgency (a shortened limit), a personnel category (a rule that applies or not).
    _update(actor, found[9], outcome="substantiated", investigation_completed_on=ON)
    _update(actor, found[10], urgency="urgent")
    _update(actor, found[11], personnel_category="civilian")
    db.session.commit()
    _agree(viewers, ON)
    # Moved: to another country, into and out of a mission.
    _update(actor, found[12], country_code="COD", mission="MONUSCO")
    _update(actor, found[13], mission=None)
    _update(actor, found[14], mission="MINUSCA")
    db.session.commit()
    _agree(viewers, ON)
    # New ones, one historical (nothing overdue, ever).
    _create(actor, 40, rng)
    _create(actor, 41, rng, received_on=date(2019, 1, 1), historical="yes")
    db.session.commit()
    _agree(viewers, ON)
    # Imported: old and recent, historical or not.
    report = importer.import_file(
        actor=actor,
        filename="a.csv",
        stream=io.BytesIO(
            b"reference,country_code,mission,received_on,assessed_on,historical\n"
            b"0100/15,COD,MONUSCO,2015-03-02,,oui\n"
            b"0101/26,CAF,MINUSCA,2026-05-02,2026-05-20,\n"
            b"0102/26,CAF,,2026-06-25,,\n"
        ),
        kind="allegations",
    )
    assert report.ok, report.errors
    db.session.commit()
    _agree(viewers, ON)
    # A rule changed: its step counted again, every allegation.
    allegations.update_rule(
        actor=actor, step="referred", amount=2, unit="months", reduced_amount=1, reduced_from="urgent"
    )
    db.session.commit()
    _agree(viewers, ON)


def test_a_step_due_today_is_overdue_tomorrow_with_nothing_written(
    built: tuple[User, list[User]], clock: time_machine.Coordinates
) -> None:
    """The dashboard reads "today" from the clock: the day changes, no count is written, the
    figure follows."""
    _, viewers = built
    everything = "SELECT * FROM vat_allegation_clock_count ORDER BY 1, 2, 3, 4, 5"
    kept = db.session.execute(text(everything)).all()
    today = _agree(viewers, date.today())
    shown = summary(viewers[0], reads_ledger=False).overdue_steps
    assert date.today() == ON and shown == today[0]
    clock.shift(timedelta(days=1))
    tomorrow = _agree(viewers, date.today())
    assert date.today() == ON + timedelta(days=1)
    assert summary(viewers[0], reads_ledger=False).overdue_steps == tomorrow[0]
    assert tomorrow[0] is not None and today[0] is not None and tomorrow[0] > today[0]
    clock.shift(timedelta(days=400))
    later = _agree(viewers, date.today())
    assert later[0] is not None and later[0] >= tomorrow[0]
    assert db.session.execute(text(everything)).all() == kept


def test_viewers_entitled_to_the_same_allegations_see_the_same_figure(
    built: tuple[User, list[User]],
) -> None:
    _, viewers = built
    shown = _agree(viewers, ON)
    assert shown[0] == shown[1] == shown[6] is not None  # advocates and a senior advocate of CAF
    assert shown[5] == shown[7]  # two auditors
    assert shown[3] is not None and shown[0] > 0 and shown[3] > 0  # CAF's and COD's


def test_an_allegation_opened_by_breaking_the_glass_is_counted_for_that_senior_advocate(
    built: tuple[User, list[User]],
) -> None:
    _, viewers = built
    senior = viewers[1]  # CAF only
    outside = db.session.scalars(
        select(Allegation).where(Allegation.country_code == "COD").order_by(Allegation.id)
    ).all()
    overdue = [a for a in outside if clock.overdue_steps(a, clock.rules(), ON)]
    assert overdue
    before = overdue_steps(senior, today=ON)
    break_glass(
        actor=senior,
        record_type="allegation",
        record_id=overdue[0].id,
        reason="The victim is in danger tonight.",
        country_code="COD",
    )
    db.session.commit()
    after = overdue_steps(senior, today=ON)
    assert after == _before(senior, ON)
    assert after is not None and before is not None
    assert after == before + len(clock.overdue_steps(overdue[0], clock.rules(), ON))


def test_verify_names_a_changed_row_and_rebuild_mends_it(built: tuple[User, list[User]]) -> None:
    row = db.session.execute(
        text("SELECT * FROM vat_allegation_clock_count WHERE allegations > 0 ORDER BY 1, 2, 3, 4, 5")
    ).first()
    assert row is not None
    db.session.execute(
        text(
            "UPDATE vat_allegation_clock_count SET allegations = allegations + 2 WHERE country_code = :c"
            " AND mission = :m AND step = :s AND state = :t AND due_on = :d"
        ),
        {"c": row.country_code, "m": row.mission, "s": row.step, "t": row.state, "d": row.due_on},
    )
    found = figures.differences()
    place = f"{row.country_code} {row.mission}".strip()
    assert found == [
        f"allegation clock counts: {place} {row.step} {row.state}"
        + (f" due {row.due_on}" if row.state == "open" else "")
        + f" is {row.allegations + 2}, should be {row.allegations}"
    ]
    assert figures.summaries()["allegation clock counts"].rebuild() > 0
    assert figures.differences() == []


def test_migration_1110_fills_the_counts_from_the_allegations(built: tuple[User, list[User]]) -> None:
    _, viewers = built
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
    shown = _agree(viewers, ON)
    db.session.remove()
    downgrade(revision="1131")
    upgrade(revision="heads")
    assert clock_counts.differences() == []
    assert [overdue_steps(user, today=ON) for user in viewers] == shown


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
            received_on=date(2026, 5, 1),
        ),
        lambda actor, allegation: _update(actor, allegation, assessed_on=date(2026, 5, 20)),
        lambda actor, allegation: _update(
            actor, allegation, assessed_on=date(2026, 5, 20), referred_on=date(2026, 5, 21)
        ),
    )
    kept = kept_rows(
        app,
        clock_counts.differences,
        "SELECT step, state, allegations FROM vat_allegation_clock_count"
        " WHERE country_code = 'CAF' AND mission = 'MINUSCA' AND allegations <> 0"
        " AND step IN ('assessed', 'referred')",
    )
    assert sorted(kept) == [("assessed", "late", 8), ("referred", "on_time", 8)]
