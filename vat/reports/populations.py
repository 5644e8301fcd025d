"""Query-set-size control for those who see only aggregates (S13): a report's population cube,
how many units fall in each combination of the filterable dimensions (country, mission, year,
sex, minor), with the same meaning as the filters' SQL conditions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, case, func, select

from vat.allegations.models import Allegation
from vat.auth.actor import Actor
from vat.claims.models import Claim
from vat.db import db
from vat.reports.scope import (
    VictimFilters,
    claim_conditions,
    place_conditions,
    sees_rows,
    threshold,
    victim_conditions,
)
from vat.reports.sql import year_of
from vat.reports.suppression import Setting, too_few_to_show
from vat.victims.models import AgeGroup, Victim


def _minor_flag(age_group: Any) -> ColumnElement[Any]:
    """1 for minors, 0 for everyone else with an age group (the `minor=False` filter), NULL if none."""
    return case((age_group == AgeGroup.MINOR.value, 1), (age_group.is_not(None), 0), else_=None)


def _cube(
    columns: list[Any], select_from: Any, conditions: list[Any], join: Any = None
) -> dict[Setting, int]:
    query = select(*columns, func.count()).select_from(select_from)
    if join is not None:
        query = query.join(*join)
    rows = db.session.execute(query.where(*conditions).group_by(*columns)).all()
    cube: dict[Setting, int] = {}
    for *key, n in rows:
        country, mission, year, sex, minor = (*key, None, None)[:5]
        setting = (country, mission, int(year) if year else None, sex, None if minor is None else int(minor))
        cube[setting] = cube.get(setting, 0) + int(n)
    return cube


def victim_cube(user: Actor) -> dict[Setting, int]:
    """Victims in reach, by country, mission, year registered, sex and minor."""
    columns = [
        Victim.country_code,
        Victim.mission,
        year_of(Victim.registered_on),
        Victim.sex,
        _minor_flag(Victim.age_group),
    ]
    return _cube(columns, Victim, victim_conditions(user, VictimFilters(), consented_only=False))


def claim_cube(user: Actor) -> dict[Setting, int]:
    """Claims of victims in reach, by the victim's country, mission, sex and minor and
    the year the claim was opened."""
    columns = [
        Victim.country_code,
        Victim.mission,
        year_of(Claim.opened_on),
        Victim.sex,
        _minor_flag(Victim.age_group),
    ]
    conditions = claim_conditions(user, VictimFilters(), consented_only=False)
    return _cube(columns, Claim, conditions, join=(Victim, Victim.id == Claim.victim_id))


def allegation_cube(user: Actor) -> dict[Setting, int]:
    """Allegations in scope, by country, mission and year received."""
    columns = [Allegation.country_code, Allegation.mission, year_of(Allegation.received_on)]
    conditions = place_conditions(
        user, VictimFilters(), record=Allegation, record_type="allegation", dated=Allegation.received_on
    )
    return _cube(columns, Allegation, conditions)


POPULATIONS = {"victims": victim_cube, "claims": claim_cube, "allegations": allegation_cube}


def filter_setting(filters: VictimFilters) -> Setting:
    minor = None if filters.minor is None else int(filters.minor)
    return (
        filters.country_code.upper() or None,
        filters.mission or None,
        filters.year,
        filters.sex or None,
        minor,
    )


def too_few_to_show_for(user: Actor, filters: VictimFilters, population: str) -> bool:
    """Whether an aggregate-only viewer is refused this filter setting: it matches fewer than the
    threshold, or it could be subtracted from a coarser report to show fewer than the threshold
    (see suppression.too_few_to_show). Advocates see their rows anyway: never refused."""
    setting = filter_setting(filters)
    if sees_rows(user) or all(value is None for value in setting):
        return False
    return too_few_to_show(POPULATIONS[population](user), setting, threshold())
