"""The SG's victim tables and the earlier years' tables (vat.reports.un_report, un_followup),
counted in SQL, against a plain pass over the records on random data: victims named in several
allegations of one category (of one type or of two), categories and countries not recorded,
results and actions before, in and after the period."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from tests.reports.conftest import cells_of, classified_at_random
from vat.allegations import accountability
from vat.allegations.cycle_models import AccountabilityStep
from vat.allegations.models import Allegation, AllegationType, InvestigatingEntity, Outcome
from vat.auth.models import Role, User
from vat.db import db
from vat.reports.scope import Period, VictimFilters, share
from vat.reports.statistics import GROUPS, SEPARATOR, UNKNOWN_GROUP, Statistics, statistics
from vat.reports.un_followup import INVESTIGATING, OTHER_INVESTIGATORS, UN_INVESTIGATORS, UNITED_NATIONS
from vat.reports.un_report import Measure, UnReport, un_report
from vat.victims.models import AgeGroup, Sex, SupportSummary, Victim, VictimAllegation

YEAR = 2017
START, END = date(YEAR, 1, 1), date(YEAR, 12, 31)


def the_year_s_report(actor: User) -> UnReport:
    """The UN report of YEAR over everything `actor` may count."""
    return un_report(actor, VictimFilters(), Period.of_year(YEAR))


def the_year_s_statistics(actor: User) -> Statistics:
    """The statistics page's breakdowns for YEAR over everything `actor` may count."""
    return statistics(actor, VictimFilters(), Period.of_year(YEAR))


def _day(rng: random.Random, first: int, last: int) -> date:
    return date(first, 1, 1) + timedelta(days=rng.randrange((date(last, 12, 31) - date(first, 1, 1)).days))


def _build(rng: random.Random, actor: User) -> None:
    allegations = []
    for number in range(160):
        completed = _day(rng, YEAR - 1, YEAR + 1) if rng.random() < 0.5 else None
        allegation = Allegation(
            reference=f"R-{number:04d}",
            country_code="CAF",
            mission="MINUSCA",
            received_on=_day(rng, YEAR - 5, YEAR),
            type=rng.choice([t.value for t in AllegationType][:3]),
            perpetrator_country=rng.choice(["PAK", "NER", "COD", None]),
            **classified_at_random(rng),
            investigation_completed_on=completed,
            report_submitted_on=_day(rng, YEAR - 1, YEAR + 1) if rng.random() < 0.3 else None,
        )
        db.session.add(allegation)
        allegations.append(allegation)
    db.session.flush()
    for allegation in allegations:
        if (
            allegation.outcome == Outcome.SUBSTANTIATED
            and allegation.perpetrator_country
            and rng.random() < 0.8
        ):
            on = allegation.received_on + timedelta(days=rng.randrange(2000))
            referred = rng.choice(["referred", "referred", "none"])
            accountability.record_step(
                actor=actor,
                allegation=allegation,
                step="member_state_referral",
                measure=referred,
                dated_on=on,
            )
            if referred == "referred" and rng.random() < 0.6:
                accountability.record_step(
                    actor=actor,
                    allegation=allegation,
                    step="member_state_outcome",
                    measure=rng.choice(["imprisonment", "ongoing", "dismissal"]),
                    dated_on=on + timedelta(days=rng.randrange(400)),
                )
    for number in range(120):
        victim = Victim(
            case_code=f"CAR-2017-{number:04d}",
            country_code="CAF",
            mission="MINUSCA",
            sex=rng.choice(list(Sex)).value,
            age_group=rng.choice(list(AgeGroup)).value,
            registered_on=date(YEAR, 1, 1),
        )
        db.session.add(victim)
        db.session.flush()
        if rng.random() < 0.7:
            db.session.add(SupportSummary(victim_id=victim.id, supported=rng.random() < 0.5))
        in_year = [a for a in allegations if a.received_on.year == YEAR]
        for allegation in {*rng.sample(in_year, rng.randint(1, 4)), rng.choice(allegations)}:
            db.session.add(VictimAllegation(victim_id=victim.id, allegation_id=allegation.id))
    db.session.commit()


def _expected_victims() -> tuple[Counter[tuple[str, str]], Counter[tuple[str, str]]]:
    group = {(sex, age): name for name, sex, age in GROUPS}
    in_period = {
        a.id: a
        for a in db.session.scalars(
            db.select(Allegation).where(Allegation.received_on >= START, Allegation.received_on <= END)
        )
    }
    by_category: set[tuple[str, int, str]] = set()
    by_type: set[tuple[str, int, str]] = set()
    for link in db.session.scalars(db.select(VictimAllegation)):
        allegation = in_period.get(link.allegation_id)
        if allegation is None:
            continue
        victim = db.session.get_one(Victim, link.victim_id)
        person = group.get((victim.sex, victim.age_group), UNKNOWN_GROUP)
        category = allegation.entity_category or ""
        by_category.add((category, victim.id, person))
        by_type.add((f"{category}{SEPARATOR}{allegation.type}", victim.id, person))
    return (
        Counter((row, person) for row, _, person in by_category),
        Counter((row, person) for row, _, person in by_type),
    )


def _links_in_period() -> list[VictimAllegation]:
    return list(
        db.session.scalars(
            db.select(VictimAllegation)
            .join(Allegation, Allegation.id == VictimAllegation.allegation_id)
            .where(Allegation.received_on >= START, Allegation.received_on <= END)
        )
    )


def _expected_follow_up() -> dict[str, Counter[tuple[str, str]]]:
    received: Counter[tuple[str, str]] = Counter()
    missing: Counter[tuple[str, str]] = Counter()
    reported: Counter[tuple[str, str]] = Counter()
    awaited: Counter[tuple[str, str]] = Counter()
    steps = list(db.session.scalars(db.select(AccountabilityStep)))
    for a in db.session.scalars(db.select(Allegation)):
        year = str(a.received_on.year)
        result = a.investigation_completed_on or a.report_submitted_on
        earlier = a.received_on < START
        if earlier and a.outcome != Outcome.PENDING and result and START <= result <= END:
            received[(year, a.outcome)] += 1
        owes = a.investigation_status is None or a.investigation_status in INVESTIGATING
        if earlier and owes and (a.outcome == Outcome.PENDING or (result is not None and result > END)):
            if a.investigating_entity == InvestigatingEntity.NATIONAL_INVESTIGATION_OFFICER:
                party = a.perpetrator_country or OTHER_INVESTIGATORS
            else:
                party = UNITED_NATIONS if a.investigating_entity in UN_INVESTIGATORS else OTHER_INVESTIGATORS
            missing[(party, year)] += 1
        if a.outcome != Outcome.SUBSTANTIATED:
            continue
        mine = [s for s in steps if s.allegation_id == a.id]
        actions = [s for s in mine if s.step == "member_state_outcome" and s.measure != "ongoing"]
        if any(START <= s.dated_on <= END for s in actions):
            reported[(year, "allegations")] += 1
        referred = [s for s in mine if s.step == "member_state_referral" and s.measure != "none"]
        if (
            earlier
            and any(s.dated_on <= END for s in referred)
            and not any(s.dated_on <= END for s in actions)
        ):
            awaited[(a.perpetrator_country or "", year)] += 1
    return {
        "results_received": received,
        "results_missing": missing,
        "actions_reported": reported,
        "actions_awaited": awaited,
    }


def test_the_tables_counted_in_sql_are_the_pass_over_the_records(
    app: Flask, make_user: Callable[..., Any]
) -> None:
    senior = make_user(Role.SENIOR_ADVOCATE, "CAF")
    for seed in range(3):
        with app.test_request_context():
            db.session.execute(db.delete(VictimAllegation))
            db.session.execute(db.delete(SupportSummary))
            db.session.execute(db.delete(Victim))
            for allegation in db.session.scalars(db.select(Allegation)):
                db.session.delete(allegation)
            db.session.commit()
            actor = db.session.get_one(User, senior.id)
            _build(random.Random(seed), actor)
            report = the_year_s_report(actor)
            tables = report.tables
            by_category, by_type = _expected_victims()
            assert cells_of(report.victims_by_category, nonzero=True) == dict(by_category)
            assert cells_of(report.victims_by_type, nonzero=True) == dict(by_type)
            assert sum(by_type.values()) > sum(by_category.values())  # victims in two types of a category
            named = {link.victim_id for link in _links_in_period()}
            supported = {s.victim_id for s in db.session.scalars(db.select(SupportSummary)) if s.supported}
            no_assistance = next(m for m in report.measures if m.key == "no_assistance")
            assert no_assistance == Measure(
                "no_assistance", share(len(named - supported), len(named)), len(named)
            )
            assert 0 < len(named & supported) < len(named)
            for key, expected in _expected_follow_up().items():
                assert expected, key
                assert cells_of(tables[key], nonzero=True) == dict(expected), key


def sqlite_plan(
    app: Flask, make_user: Callable[..., Any], report: Callable[[User], Any], starts: str
) -> tuple[Any, list[str]]:
    """`report(actor)` on the test's data for a senior advocate in CAF, and SQLite's plan for the
    one statement it sends that starts with `starts`, with the planner's statistics, as `make
    bench` leaves the database (PostgreSQL's plan depends on its statistics: skipped there)."""
    senior = make_user(Role.SENIOR_ADVOCATE, "CAF")
    with app.test_request_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's plan; PostgreSQL's depends on its statistics and visibility map")
        actor = db.session.get_one(User, senior.id)
        _build(random.Random(0), actor)
        db.session.commit()
        sent: list[tuple[str, Any]] = []

        def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
            if statement.startswith(starts):
                sent.append((statement, parameters))

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            result = report(actor)
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        db.session.connection().exec_driver_sql("ANALYZE")
        [(statement, parameters)] = sent
        explained = db.session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
        return result, [row[-1] for row in explained]


def test_the_victims_named_are_read_from_the_indexes_alone(app: Flask, make_user: Callable[..., Any]) -> None:
    """Each (victim, allegation) pair's victim and each victim's group and place come from an
    index holding them (migration 1151), not from the rows: a fresh process would read a page of
    those large tables for nearly every pair (without the statistics, SQLite reads the victims by
    their key)."""
    _, plan = sqlite_plan(app, make_user, the_year_s_report, "WITH named")
    assert any("vat_victim_allegation USING COVERING INDEX" in step for step in plan), plan
    assert any("vat_victim USING COVERING INDEX ix_vat_victim_id " in step for step in plan), plan
