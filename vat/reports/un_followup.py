"""What the Secretary-General reports of earlier years' allegations (SG §65–66), by year of
allegation, as at the period's end:

- investigation results received in the period on allegations of earlier years, substantiated
  or not (§65: "2016: 14 substantiated and 19 unsubstantiated; 2015: 4 and 3");
- investigations of earlier years still without a result at the period's end: per contributing
  country investigating through its national investigation officer, then those of the United
  Nations and the others (§65 and its note 13: 18 countries, 58 allegations);
- member states' actions reported in the period on substantiated allegations (§66: 21
  allegations, 2010 to 2017);
- substantiated allegations of earlier years referred to the member state and awaiting its action
  at the period's end, per member state (§66 and its note 14: 17 states, 27 allegations).

A result's date is the investigation's completion, else the report's submission; an action is a
member state's outcome other than "ongoing"; a referral one recorded as referred. An allegation
whose result has no date cannot be placed in time and counts in neither of the first two tables.
Which allegations count is the report's place rule (scope, country, mission) without its period;
"earlier years" are those received before the period starts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, extract, func, or_, select

from vat.allegations.cycle_models import NOT_REFERRED, AccountabilityStep, CycleStep
from vat.allegations.models import Allegation, InvestigatingEntity, InvestigationStatus, Outcome
from vat.db import db
from vat.reports.scope import Period
from vat.reports.statistics import NOT_RECORDED
from vat.reports.suppression import SuppressedTable, suppress

RESULT_COLUMNS = [Outcome.SUBSTANTIATED.value, Outcome.UNSUBSTANTIATED.value]
COUNTED = ["allegations"]
UNITED_NATIONS = "united_nations"  # a row: investigations by OIOS, a mission, an agency, or joint
OTHER_INVESTIGATORS = "other_investigators"  # national authorities, or not recorded
UN_INVESTIGATORS = {
    InvestigatingEntity.OIOS,
    InvestigatingEntity.MISSION,
    InvestigatingEntity.AGENCY,
    InvestigatingEntity.JOINT,
}
# An investigation that has started (or whose status was never recorded) owes a result.
INVESTIGATING = [InvestigationStatus.REFERRED, InvestigationStatus.ONGOING, InvestigationStatus.COMPLETED]
STILL_GOING = "ongoing"  # a member state's outcome that is not yet an action


@dataclass(frozen=True)
class FollowUp:
    results_received: SuppressedTable  # rows: years of allegation; columns: RESULT_COLUMNS
    results_missing: SuppressedTable  # rows: member states, then UNITED_NATIONS, OTHER_INVESTIGATORS
    actions_reported: SuppressedTable  # rows: years of allegation; one column
    actions_awaited: SuppressedTable  # rows: member states; columns: years of allegation


def follow_up(place: list[ColumnElement[bool]], period: Period, limit: int) -> FollowUp:
    """The four tables over the allegations `place` selects (the viewer's scope and filters)."""
    earlier = Allegation.received_on < period.start
    result_day = func.coalesce(Allegation.investigation_completed_on, Allegation.report_submitted_on)
    tables = {
        "received": and_(earlier, Allegation.outcome != Outcome.PENDING, *period.conditions(result_day)),
        "missing": and_(
            earlier,
            or_(
                Allegation.investigation_status.is_(None),
                Allegation.investigation_status.in_(INVESTIGATING),
            ),
            or_(Allegation.outcome == Outcome.PENDING, result_day > period.end),
        ),
        "reported": and_(
            Allegation.outcome == Outcome.SUBSTANTIATED,
            _step(CycleStep.MEMBER_STATE_OUTCOME, STILL_GOING, period.start, period.end),
        ),
        "awaited": and_(
            earlier,
            Allegation.outcome == Outcome.SUBSTANTIATED,
            _step(CycleStep.MEMBER_STATE_REFERRAL, NOT_REFERRED, None, period.end),
            ~_step(CycleStep.MEMBER_STATE_OUTCOME, STILL_GOING, None, period.end),
        ),
    }
    # One pass over the allegations for the four tables, each row flagged with the tables it
    # counts in; grouped outside, by the flags' names, so that PostgreSQL groups by columns.
    flagged = (
        select(
            extract("year", Allegation.received_on).label("year"),  # never NULL: bounded below
            Allegation.outcome,
            Allegation.investigating_entity,
            Allegation.perpetrator_country,
            *(case((counts_in, 1), else_=0).label(name) for name, counts_in in tables.items()),
        )
        .where(*place, Allegation.received_on <= period.end, or_(*tables.values()))
        .subquery()
    )
    columns = list(flagged.c)
    received, missing, reported, awaited = [], [], [], []
    for year, outcome, entity, country, *flags, n in db.session.execute(
        select(*columns, func.count()).group_by(*columns)
    ):
        in_received, in_missing, in_reported, in_awaited = flags
        if in_received:
            received.append((year, outcome, n))
        if in_missing:
            missing.append((_party(entity, country), year, n))
        if in_reported:
            reported.append((year, COUNTED[0], n))
        if in_awaited:
            awaited.append((country or NOT_RECORDED, year, n))
    return FollowUp(
        results_received=_by_year(received, RESULT_COLUMNS, limit),
        results_missing=_crossed(missing, limit, last=(UNITED_NATIONS, OTHER_INVESTIGATORS)),
        actions_reported=_by_year(reported, COUNTED, limit),
        actions_awaited=_crossed(awaited, limit),
    )


def _step(step: CycleStep, but_not: str, start: date | None, end: date) -> ColumnElement[bool]:
    """The allegation has a `step` dated from `start` (if given) to `end`, its measure not `but_not`."""
    conditions = [
        AccountabilityStep.allegation_id == Allegation.id,
        AccountabilityStep.step == step.value,
        AccountabilityStep.measure != but_not,
        AccountabilityStep.dated_on <= end,
    ]
    if start is not None:
        conditions.append(AccountabilityStep.dated_on >= start)
    return exists().where(*conditions)


def _by_year(found: Iterable[tuple[Any, str, int]], columns: list[str], limit: int) -> SuppressedTable:
    """Counted (year, column, n) as rows by year; a year as SQL's extract gives it, a number."""
    counts: Counter[tuple[str, str]] = Counter()
    for year, column, n in found:
        counts[(str(int(year)), column)] += int(n)
    years = sorted({year for year, _ in counts})
    return suppress(years, columns, [[counts[(y, c)] for c in columns] for y in years], threshold=limit)


def _party(entity: str | None, country: str | None) -> str:
    if entity == InvestigatingEntity.NATIONAL_INVESTIGATION_OFFICER:
        return country or OTHER_INVESTIGATORS
    return UNITED_NATIONS if entity in UN_INVESTIGATORS else OTHER_INVESTIGATORS


def _crossed(
    found: Iterable[tuple[str, Any, int]], limit: int, *, last: tuple[str, ...] = ()
) -> SuppressedTable:
    """Counted (row, year, n) as rows (member states, in code order, then `last` whether or not
    they hold any) by year of allegation."""
    counts: Counter[tuple[str, int]] = Counter()
    for row, year, n in found:
        counts[(row, int(year))] += int(n)
    numbers = sorted({year for _, year in counts})
    years = [str(year) for year in numbers]
    rows = [*sorted({row for row, _ in counts} - set(last)), *last] if years else []
    grid = [[counts[(r, y)] for y in numbers] for r in rows]
    return suppress(rows, years, grid, threshold=limit)
