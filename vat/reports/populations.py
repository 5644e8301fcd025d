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
    counts_conditions,
    glass_conditions,
    place_conditions,
    sees_rows,
    threshold,
)
from vat.reports.sql import year_of
from vat.reports.suppression import Setting, too_few_to_show
from vat.victims.models import AgeGroup, Victim
from vat.victims.support_counts import NO_MISSION, counts


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
    """Victims in reach, by country, mission, year registered, sex and minor: read off the support
    counts (vat.victims.support_counts, one row per victim in the summary they add up), plus the
    victims a senior advocate opened by breaking the glass outside their scope (a few rows)."""
    row = counts.c
    columns = [row.country_code, row.mission, row.year, row.sex, _minor_flag(row.age_group)]
    victims = func.sum(row.victims)
    rows = db.session.execute(
        select(*columns, victims)
        .where(*counts_conditions(user, VictimFilters()))
        .group_by(*columns)
        .having(victims > 0)  # a row kept at 0 after its victims moved holds nobody
    )
    cube: dict[Setting, int] = {}
    for country, mission, year, sex, minor, n in map(tuple, rows):
        key: Setting = (country, mission if mission != NO_MISSION else None, int(year), sex, int(minor))
        cube[key] = cube.get(key, 0) + int(n)
    glass = glass_conditions(user, VictimFilters())
    if glass is not None:
        victim_columns = [
            Victim.country_code,
            Victim.mission,
            year_of(Victim.registered_on),
            Victim.sex,
            _minor_flag(Victim.age_group),
        ]
        for opened, n in _cube(victim_columns, Victim, glass).items():
            cube[opened] = cube.get(opened, 0) + n
    return cube


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
