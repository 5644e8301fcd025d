"""The statistics page's figures against a recount in Python of the records themselves (issue 14):
for every role, place filter, quarter and year, and again after records move, the query-set-size
control's cube (by country, mission and quarter), the refusals it makes and every cell the tables
show are the counts of the rows. And on SQLite the cube's pass over the victims reads their
place-and-date index alone (migration 1145), not the wide rows."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from tests.claims.conftest import build_claim
from tests.reports.conftest import cells_of, classified_at_random
from vat.allegations import month_counts
from vat.allegations.models import SUB_TYPES_OF, Allegation, AllegationType, PersonnelCategory
from vat.auth.models import Role, User
from vat.auth.policy import in_scope
from vat.claims.models import Claim
from vat.db import db
from vat.reports.scope import Period, VictimFilters, sees_rows, threshold
from vat.reports.statistics import (
    AGE_GROUPS,
    POPULATIONS,
    SEXES,
    period_cube,
    setting_of,
    statistics,
)
from vat.reports.suppression import too_few_to_show
from vat.victims.models import Victim

PLACES = [("CAF", "MINUSCA"), ("CAF", None), ("COD", "MONUSCO"), ("COD", "MINUSCA"), ("NPL", None)]
FIRST_DAY, DAYS = date(2023, 1, 1), 730
ROLES = [
    (Role.ADVOCATE, "CAF"),
    (Role.SENIOR_ADVOCATE, "CAF, COD/MONUSCO"),
    (Role.FUND_MANAGER, ""),
    (Role.AUDITOR, ""),
]
FILTERS = [VictimFilters(), VictimFilters(country_code="CAF"), VictimFilters(mission="MINUSCA")]
TABLES_OF_ALLEGATIONS = [
    "by_entity",
    "by_type",
    "by_sub_type",
    "by_investigating",
    "by_status",
    "by_outcome",
    "by_mission",
    "by_personnel",
]
PERIODS = [Period.of_year(2023), Period.of_year(2024), *[Period.of_quarter(2024, q) for q in (1, 2, 3, 4)]]


def _day(rng: random.Random) -> date:
    return FIRST_DAY + timedelta(days=rng.randrange(DAYS))


@pytest.fixture
def world(app):
    rng = random.Random(14)
    with app.app_context():
        victims = []
        for n in range(160):
            country, mission = rng.choice(PLACES)
            victim = Victim(
                case_code=f"R-{n:04d}",
                country_code=country,
                mission=mission,
                sex=rng.choice(SEXES),
                age_group=rng.choice(AGE_GROUPS),
                registered_on=_day(rng),
            )
            db.session.add(victim)
            victims.append(victim)
        for n in range(120):
            country, mission = rng.choice(PLACES)
            kind = rng.choice([t.value for t in AllegationType])
            subs = [s.value for s in SUB_TYPES_OF.get(kind, ())]
            db.session.add(
                Allegation(
                    reference=f"RA-{n:04d}",
                    country_code=country,
                    mission=mission,
                    type=kind,
                    sub_type=rng.choice([*subs, None]) if subs else None,
                    **classified_at_random(rng),
                    personnel_category=rng.choice([c.value for c in PersonnelCategory]),
                    received_on=_day(rng),
                )
            )
        db.session.flush()
        for victim in rng.sample(victims, 60):
            build_claim(victim, "NPL", rng.choice(["recorded", "referred"]), _day(rng))
        month_counts.rebuild()  # allegations added as rows, not through the services
        db.session.commit()
    return rng


def _quarter_key(country: str, mission: str | None, day: date) -> tuple[Any, ...]:
    return (country, mission, day.year, (day.month + 2) // 3)


def _recount(user: User) -> dict[str, dict[str, list[Any]]]:
    """Each population's records in the viewer's reach, as (place and quarter key, day, figures)."""
    everyone = not sees_rows(user)

    def reach(country: str, mission: str | None) -> bool:
        return everyone or in_scope(user, country, mission)

    victims = [v for v in db.session.scalars(select(Victim)) if reach(v.country_code, v.mission)]
    allegations = [a for a in db.session.scalars(select(Allegation)) if reach(a.country_code, a.mission)]
    claims = [
        (c, v)
        for c, v in db.session.execute(select(Claim, Victim).join(Victim, Victim.id == Claim.victim_id))
        if reach(v.country_code, v.mission)
    ]
    return {
        "victims": [
            (_quarter_key(v.country_code, v.mission, v.registered_on), v.registered_on, (v.sex, v.age_group))
            for v in victims
        ],
        "allegations": [
            (
                _quarter_key(a.country_code, a.mission, a.received_on),
                a.received_on,
                {
                    "by_entity": (a.entity_category or "", a.type),
                    "by_type": (a.type, a.sub_type or ""),
                    "by_sub_type": f"{a.type}/{a.sub_type or ''}",
                    "by_investigating": a.investigating_entity or "",
                    "by_status": a.investigation_status or "",
                    "by_outcome": a.outcome,
                    "by_mission": a.mission or "",
                    "by_personnel": a.personnel_category,
                },
            )
            for a in allegations
        ],
        "claims": [
            (_quarter_key(v.country_code, v.mission, c.opened_on), c.opened_on, c.step) for c, v in claims
        ],
    }


def _matches(key: tuple[Any, ...], day: date, filters: VictimFilters, period: Period) -> bool:
    country, mission = key[:2]
    return (
        (not filters.country_code or country == filters.country_code)
        and (not filters.mission or mission == filters.mission)
        and period.start <= day <= period.end
    )


def _agrees(table: Any, expected: Counter[Any], one_column: bool, strict: bool) -> None:
    cells = cells_of(table)
    total = 0
    for (row, column), shown in cells.items():
        want = expected.get(row if one_column else (row, column), 0)
        total += want
        assert shown == want or (shown is None and not strict), (row, column, shown, want)
    assert table.grand_total in (None, total)
    assert strict is False or table.grand_total == total


def _check_everything(app, users: list[int]) -> Counter[str]:
    seen: Counter[str] = Counter()
    with app.test_request_context():
        for uid in users:
            user = db.session.get_one(User, uid)
            records = _recount(user)
            cubes = {p: Counter(key for key, _, _ in records[p]) for p in POPULATIONS}
            for population in POPULATIONS:
                assert period_cube(user, population) == dict(cubes[population]), (user.role, population)
            for filters in FILTERS:
                for period in PERIODS:
                    report = statistics(user, filters, period)
                    refused = {
                        p
                        for p in POPULATIONS
                        if not sees_rows(user)
                        and too_few_to_show(cubes[p], setting_of(filters, period), threshold())
                    }
                    assert report.refused == refused, (user.role, filters, period.name)
                    seen.update(
                        f"{user.role} {p} {'refused' if p in refused else 'shown'}" for p in POPULATIONS
                    )
                    picked = {
                        p: [f for key, day, f in records[p] if _matches(key, day, filters, period)]
                        for p in POPULATIONS
                    }
                    strict = sees_rows(user)
                    if report.victims is not None:
                        _agrees(report.victims.by_sex_and_age, Counter(picked["victims"]), False, strict)
                    if report.allegations is not None:
                        for name in TABLES_OF_ALLEGATIONS:
                            expected = Counter(f[name] for f in picked["allegations"])
                            table = getattr(report.allegations, name)
                            _agrees(table, expected, len(table.column_labels) == 1, strict)
                    if report.claims is not None:
                        _agrees(report.claims, Counter(picked["claims"]), True, strict)
    return seen


def test_the_figures_are_the_counts_of_the_records_for_every_role_and_filter(app, make_user, world):
    users = [make_user(role, scope).id for role, scope in ROLES]
    seen = _check_everything(app, users)
    # Not vacuous: aggregate-only viewers were both shown and refused figures.
    assert seen["fund_manager victims shown"] and seen["fund_manager victims refused"]
    assert seen["auditor allegations shown"] and seen["auditor claims refused"]
    with app.app_context():  # records move between places and quarters, and more come
        rng = world
        for victim in rng.sample(list(db.session.scalars(select(Victim))), 40):
            victim.country_code, victim.mission = rng.choice(PLACES)
            victim.registered_on = _day(rng)
        for allegation in rng.sample(list(db.session.scalars(select(Allegation))), 30):
            allegation.mission = rng.choice(["MINUSCA", "MONUSCO", None])
            allegation.received_on = _day(rng)
        for claim in db.session.scalars(select(Claim).limit(10)):
            claim.opened_on = _day(rng)
        db.session.add(
            Allegation(
                reference="RA-NEW", country_code="CAF", mission="MINUSCA", received_on=date(2024, 8, 1)
            )
        )
        db.session.flush()
        month_counts.rebuild()  # changed as rows, as `flask figures rebuild` follows an outside change
        db.session.commit()
    _check_everything(app, users)


def test_the_victims_cube_reads_the_place_and_date_index_alone(app, make_user, world):
    uid = make_user(Role.FUND_MANAGER, "").id
    with app.test_request_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's plan; PostgreSQL's depends on its statistics and visibility map")
        sent: list[tuple[str, Any]] = []

        def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
            if "GROUP BY" in statement:
                sent.append((statement, parameters))

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            period_cube(db.session.get_one(User, uid), "victims")
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        statement, parameters = sent[-1]
        plan = db.session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
        assert any("COVERING INDEX ix_vat_victim_place_registered_on" in row[-1] for row in plan), plan


def test_the_cube_adds_up_records_sharing_a_day_and_a_month(app, make_user):
    """The cube counts by day before naming the month: several records on one day at one place,
    and others on other days of that month and quarter, all land in one cell each."""
    days = [date(2024, 2, 9)] * 3 + [date(2024, 2, 27), date(2024, 3, 1), date(2024, 4, 1)]
    places = [("CAF", "MINUSCA"), ("CAF", None)]
    with app.app_context():
        for n, (day, (country, mission)) in enumerate((d, p) for p in places for d in days):
            victim = Victim(case_code=f"S-{n:03d}", country_code=country, mission=mission, registered_on=day)
            db.session.add(victim)
            db.session.flush()
            build_claim(victim, "NPL", "recorded", day)
            db.session.add(
                Allegation(reference=f"SA-{n:03d}", country_code=country, mission=mission, received_on=day)
            )
        db.session.add(Allegation(reference="SA-NONE", country_code="CAF", mission=None, received_on=None))
        db.session.flush()
        month_counts.rebuild()
        db.session.commit()
    users = [make_user(role, scope).id for role, scope in ROLES]
    expected = {
        (country, mission, 2024, quarter): n for country, mission in places for quarter, n in ((1, 5), (2, 1))
    }
    with app.test_request_context():
        for uid in users:
            user = db.session.get_one(User, uid)
            for population in POPULATIONS:
                cube = period_cube(user, population)
                extra = {("CAF", None, None, None): 1} if population == "allegations" else {}
                assert cube == {**expected, **extra}, (user.role, population)
