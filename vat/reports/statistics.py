"""Statistics as the UN publishes them, for a quarter, a year or a date range: allegations by
entity category and type, by type and sub-type, by sub-type within its type, by investigating
entity, by investigation status, by outcome, by mission and by personnel category (counted by the
day they were received); victims by sex and age group with the unknowns kept apart (by the day they were
registered); paternity and child-support claims by step (by the day they were opened).

Every count covers everything in the viewer's reach. For fund managers and auditors each table is
suppressed (small counts hidden, with complements), and each of the three populations is shown
only for settings the query-set-size control allows (docs/reports-privacy.md): a quarter or a year
is a setting of its own, compared with its year and with the whole; a free date range could be
subtracted from a range a day longer, so it is shown to advocates only.

An entity category, sub-type, investigating entity or investigation status left empty (old
records, trackers that never kept it) is counted as "not recorded", in a row of its own."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import Select, func, select

from vat.allegations import month_counts
from vat.allegations.models import (
    SUB_TYPES_OF,
    Allegation,
    AllegationType,
    EntityCategory,
    InvestigatingEntity,
    InvestigationStatus,
    Outcome,
    PersonnelCategory,
)
from vat.auth.actor import Actor
from vat.auth.policy import scope_filter
from vat.claims.models import Claim, ClaimStep
from vat.db import db
from vat.reports.scope import (
    Period,
    VictimFilters,
    claim_conditions,
    place_conditions,
    sees_rows,
    threshold,
    victim_conditions,
)
from vat.reports.sql import month_of
from vat.reports.suppression import Setting, SuppressedTable, suppress, too_few_to_show
from vat.victims.models import AgeGroup, Sex, Victim

NOT_RECORDED = ""  # a sub-type, mission or category left empty
SUB_TYPE_COLUMNS = [
    "rape",
    "sexual_assault",
    "sexual_activity_with_minor",
    "transactional_sex",
    "exploitative_relationship",
    "other",
    NOT_RECORDED,
]
SEPARATOR = "/"  # a row of the sub-type table: "<type>/<sub-type>"
# Sub-types in the UN's order within their types; a type's row "<type>/" counts those not recorded.
SUB_TYPE_ROWS = [
    f"{kind}{SEPARATOR}{sub}" for kind, subs in SUB_TYPES_OF.items() for sub in [*subs, NOT_RECORDED]
]
SEXES = [Sex.FEMALE.value, Sex.MALE.value, Sex.UNKNOWN.value]
AGE_GROUPS = [AgeGroup.MINOR.value, AgeGroup.ADULT.value, AgeGroup.UNKNOWN.value]
# The UN's groups: sex and age both known, and everyone else apart (never counted as adults).
GROUPS = [
    ("girls", Sex.FEMALE.value, AgeGroup.MINOR.value),
    ("women", Sex.FEMALE.value, AgeGroup.ADULT.value),
    ("boys", Sex.MALE.value, AgeGroup.MINOR.value),
    ("men", Sex.MALE.value, AgeGroup.ADULT.value),
]
UNKNOWN_GROUP = "unknown"
POPULATIONS = ("allegations", "victims", "claims")


@dataclass(frozen=True)
class AllegationTables:
    by_entity: SuppressedTable  # rows: entity categories ("" = not recorded); columns: types
    by_type: SuppressedTable  # rows: types; columns: sub-types (codes; "" = not recorded)
    by_sub_type: SuppressedTable  # rows: "<type>/<sub-type>" (SUB_TYPE_ROWS); one column
    by_investigating: SuppressedTable  # rows: investigating entities ("" = not recorded); one column
    by_status: SuppressedTable  # rows: investigation statuses ("" = not recorded); one column
    by_outcome: SuppressedTable  # rows: outcomes; one column
    by_mission: SuppressedTable  # rows: missions ("" = not recorded); one column
    by_personnel: SuppressedTable  # rows: personnel categories; one column


@dataclass(frozen=True)
class VictimTables:
    by_sex_and_age: SuppressedTable  # rows: sexes; columns: age groups
    groups: list[tuple[str, int | None]]  # girls, women, boys, men, unknown; None: hidden


@dataclass(frozen=True)
class Statistics:
    period: Period
    threshold: int
    allegations: AllegationTables | None  # None: refused to an aggregate-only viewer
    victims: VictimTables | None
    claims: SuppressedTable | None  # rows: claim steps; one column
    refused: frozenset[str]  # populations too few to show for these filters

    @property
    def tables(self) -> int:
        shown = [self.allegations is not None] * 8 + [self.victims is not None] * 2
        return sum(shown) + (self.claims is not None)


def statistics(user: Actor, filters: VictimFilters, period: Period) -> Statistics:
    """The UN's breakdowns for `period`, over what the viewer may count (`filters`: country and
    mission). A free date range is for advocates only: the view refuses it to everyone else."""
    filters = VictimFilters(country_code=filters.country_code, mission=filters.mission)
    limit = 1 if sees_rows(user) else threshold()
    refused = frozenset(p for p in POPULATIONS if too_few(user, filters, period, p))
    return Statistics(
        period=period,
        threshold=limit,
        allegations=None if "allegations" in refused else _allegations(user, filters, period, limit),
        victims=None if "victims" in refused else _victims(user, filters, period, limit),
        claims=None if "claims" in refused else _claims(user, filters, period, limit),
        refused=refused,
    )


def _one_column(name: str, labels: Sequence[str], counts: dict[str, int], limit: int) -> SuppressedTable:
    return suppress(labels, [name], [[counts.get(label, 0)] for label in labels], threshold=limit)


def _allegations(user: Actor, filters: VictimFilters, period: Period, limit: int) -> AllegationTables:
    conditions = [
        *place_conditions(
            user, filters, record=Allegation, record_type="allegation", dated=Allegation.received_on
        ),
        *period.conditions(Allegation.received_on),
    ]

    names = ("entity", "type", "sub_type", "investigating", "status", "outcome", "mission", "personnel")
    columns = [
        Allegation.entity_category,
        Allegation.type,
        Allegation.sub_type,
        Allegation.investigating_entity,
        Allegation.investigation_status,
        Allegation.outcome,
        Allegation.mission,
        Allegation.personnel_category,
    ]
    # One pass over the period's allegations, added up into every table below (not a pass each).
    query = select(*columns, func.count()).select_from(Allegation).where(*conditions).group_by(*columns)
    groups: list[tuple[dict[str, str | None], int]] = [
        (dict(zip(names, values, strict=True)), int(n)) for *values, n in db.session.execute(query)
    ]

    def counted(name: str) -> dict[str, int]:
        """Counts by one column, an empty value counted as not recorded."""
        counts: dict[str, int] = {}
        for values, n in groups:
            key = values[name] or NOT_RECORDED
            counts[key] = counts.get(key, 0) + n
        return counts

    def grid(rows: str, columns: str) -> dict[tuple[str, str], int]:
        """Counts by two columns, an empty value counted as not recorded."""
        cells: dict[tuple[str, str], int] = {}
        for values, n in groups:
            key = (values[rows] or NOT_RECORDED, values[columns] or NOT_RECORDED)
            cells[key] = cells.get(key, 0) + n
        return cells

    def table(rows: list[str], columns: list[str], cells: dict[tuple[str, str], int]) -> SuppressedTable:
        return suppress(
            rows, columns, [[cells.get((r, c), 0) for c in columns] for r in rows], threshold=limit
        )

    def column(rows: list[str], counts: dict[str, int]) -> SuppressedTable:
        return _one_column("allegations", rows, counts, limit)

    def single(name: str, kinds: type[Any]) -> SuppressedTable:
        return column([*(k.value for k in kinds), NOT_RECORDED], counted(name))

    types = [t.value for t in AllegationType]
    pairs = grid("type", "sub_type")
    by_sub_type = {f"{kind}{SEPARATOR}{sub}": n for (kind, sub), n in pairs.items()}
    missions = counted("mission")
    categories = [*(c.value for c in EntityCategory), NOT_RECORDED]
    return AllegationTables(
        by_entity=table(categories, types, grid("entity", "type")),
        by_type=table(types, SUB_TYPE_COLUMNS, pairs),
        by_sub_type=column(SUB_TYPE_ROWS, by_sub_type),
        by_investigating=single("investigating", InvestigatingEntity),
        by_status=single("status", InvestigationStatus),
        by_outcome=column([o.value for o in Outcome], counted("outcome")),
        by_mission=column(sorted(missions), missions),
        by_personnel=column([c.value for c in PersonnelCategory], counted("personnel")),
    )


def _victims(user: Actor, filters: VictimFilters, period: Period, limit: int) -> VictimTables:
    conditions = [
        *victim_conditions(user, filters, consented_only=False),
        *period.conditions(Victim.registered_on),
    ]
    query = select(Victim.sex, Victim.age_group, func.count()).where(*conditions)
    grid = {
        (sex, age): int(n) for sex, age, n in db.session.execute(query.group_by(Victim.sex, Victim.age_group))
    }
    table = suppress(
        SEXES, AGE_GROUPS, [[grid.get((sex, age), 0) for age in AGE_GROUPS] for sex in SEXES], threshold=limit
    )
    return VictimTables(by_sex_and_age=table, groups=un_groups(table))


def un_groups(table: SuppressedTable) -> list[tuple[str, int | None]]:
    """Girls, women, boys, men — and everyone whose sex or age is unknown, apart: the grand total
    less the four, shown only when the table shows all five (so it reveals nothing the table does
    not)."""
    known = [table.cells[SEXES.index(sex)][AGE_GROUPS.index(age)] for _, sex, age in GROUPS]
    unknown = None
    if table.grand_total is not None and all(n is not None for n in known):
        unknown = table.grand_total - sum(n for n in known if n is not None)
    return [*zip([name for name, _, _ in GROUPS], known, strict=True), (UNKNOWN_GROUP, unknown)]


def _claims(user: Actor, filters: VictimFilters, period: Period, limit: int) -> SuppressedTable:
    conditions = [
        *claim_conditions(user, filters, consented_only=False),
        *period.conditions(Claim.opened_on),
    ]
    query = (
        select(Claim.step, func.count())
        .select_from(Claim)
        .join(Victim, Victim.id == Claim.victim_id)
        .where(*conditions)
        .group_by(Claim.step)
    )
    steps = {step: int(n) for step, n in db.session.execute(query)}
    return _one_column("claims", [s.value for s in ClaimStep], steps, limit)


# --- query-set-size control over quarters and years ---------------------------------------------


def period_cube(user: Actor, population: str) -> dict[Setting, int]:
    """A population in the viewer's reach by country, mission, year and quarter of its date."""
    if population == "allegations" and not sees_rows(user):  # nobody else breaks the glass
        row = month_counts.counts.c
        none = month_counts.NONE  # the kept counts' "no mission", "no day received": NULL here
        shown = [row.country_code, func.nullif(row.mission, none), func.nullif(row.month, none)]
        query = (
            select(*shown, func.sum(row.allegations))
            .where(scope_filter(user, row.country_code, row.mission))
            .group_by(row.country_code, row.mission, row.month)
            .having(func.sum(row.allegations) > 0)
        )
    else:
        # Grouped by day first and the month named once per day, not per record: PostgreSQL's
        # to_char casts every day to a timestamp with time zone, SQLite's strftime parses it.
        days = _by_day(user, population).subquery()
        month = month_of(days.c.day)
        query = select(days.c.country_code, days.c.mission, month, func.sum(days.c.records)).group_by(
            days.c.country_code, days.c.mission, month
        )
    cube: dict[Setting, int] = {}
    for found in db.session.execute(query):
        country, mission, month_name, n = tuple(found)
        year, quarter = (int(month_name[:4]), (int(month_name[5:7]) + 2) // 3) if month_name else (None, None)
        key = (country, mission, year, quarter)
        cube[key] = cube.get(key, 0) + int(n)
    return cube


def _by_day(user: Actor, population: str) -> Select[str, str | None, date | None, int]:
    """A population's records in the viewer's reach counted by country, mission and day."""
    everything = VictimFilters()
    if population == "allegations":
        place, day = (Allegation.country_code, Allegation.mission), Allegation.received_on
        query = select(*place, day.label("day"), func.count().label("records")).select_from(Allegation)
        conditions = place_conditions(
            user, everything, record=Allegation, record_type="allegation", dated=Allegation.received_on
        )
    elif population == "victims":
        place, day = (Victim.country_code, Victim.mission), Victim.registered_on
        query = select(*place, day.label("day"), func.count().label("records")).select_from(Victim)
        conditions = victim_conditions(user, everything, consented_only=False)
    else:
        place, day = (Victim.country_code, Victim.mission), Claim.opened_on
        query = (
            select(*place, day.label("day"), func.count().label("records"))
            .select_from(Claim)
            .join(Victim, Victim.id == Claim.victim_id)
        )
        conditions = claim_conditions(user, everything, consented_only=False)
    return query.where(*conditions).group_by(*place, day)


def setting_of(filters: VictimFilters, period: Period) -> Setting:
    return (filters.country_code.upper() or None, filters.mission or None, period.year, period.quarter)


def too_few(user: Actor, filters: VictimFilters, period: Period, population: str) -> bool:
    """Whether an aggregate-only viewer is refused this population for these filters: a quarter
    or a year (with a country or a mission) matching fewer than the threshold, or differing by 1
    to threshold − 1 from a coarser setting (its year, the whole). Ranges are refused by the view;
    advocates are never refused."""
    if sees_rows(user):
        return False
    if period.kind == "range":
        return True
    filters = replace(filters, year=None)
    return too_few_to_show(period_cube(user, population), setting_of(filters, period), threshold())
