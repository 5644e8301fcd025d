"""What every report shares: who sees rows and who sees suppressed aggregates, the filters as
SQL conditions on the viewer's scope, and money from US cents.

Counting is not sharing (docs/reports-privacy.md): every count covers every victim within the
viewer's reach. The consent to aggregate reporting decides only which victims' records leave the
advocates as rows (`consented_only`, for the de-identified export)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, Table, exists, func, not_

from vat.auth.actor import Actor
from vat.auth.models import Role
from vat.auth.policy import SCOPED_ROLES, glass_granted, scope_filter
from vat.claims.models import Claim
from vat.reports.suppression import SuppressedTable
from vat.victims.models import AgeGroup, Consent, ConsentPurpose, Victim
from vat.victims.support_counts import NO_MISSION, counts

HUNDRED = Decimal(100)


def cents(minor: Any) -> Decimal:
    return Decimal(int(minor or 0)).scaleb(-2)


def share(part: int, whole: int) -> Decimal | None:
    """part / whole as a percentage to one decimal place (None when there is no whole)."""
    if not whole:
        return None
    return (Decimal(part) * HUNDRED / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def threshold() -> int:
    return int(current_app.config["VAT_SUPPRESSION_THRESHOLD"])


def sees_rows(user: Actor) -> bool:
    """Advocates see one row per victim in their scope; everyone else gets suppressed aggregates."""
    return Role(user.role) in SCOPED_ROLES


@dataclass(frozen=True)
class VictimFilters:
    country_code: str = ""
    mission: str = ""
    year: int | None = None  # the year the victim was registered
    sex: str = ""
    minor: bool | None = None  # True: minors only; False: adults only; None: everyone

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in ("", None)}


@dataclass(frozen=True)
class Period:
    """The days a report counts, first and last included: a calendar quarter, a calendar year or
    a date range. `year` and `quarter` name a quarter or a year (None for a range), the settings
    the query-set-size control compares."""

    start: date
    end: date
    kind: str  # "quarter", "year" or "range"
    year: int | None = None
    quarter: int | None = None

    @classmethod
    def of_year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31), "year", year)

    @classmethod
    def of_quarter(cls, year: int, quarter: int) -> Period:
        first_month = 3 * (quarter - 1) + 1
        after = date(year + 1, 1, 1) if quarter == 4 else date(year, first_month + 3, 1)
        return cls(date(year, first_month, 1), after - timedelta(days=1), "quarter", year, quarter)

    @classmethod
    def of_range(cls, start: date, end: date) -> Period:
        return cls(start, end, "range")

    @property
    def name(self) -> str:
        """2024, 2024-Q3 or 2024-01-01/2024-02-15 (ISO 8601's interval)."""
        if self.kind == "quarter":
            return f"{self.year}-Q{self.quarter}"
        if self.kind == "year":
            return str(self.year)
        return f"{self.start.isoformat()}/{self.end.isoformat()}"

    def conditions(self, day: Any) -> list[ColumnElement[bool]]:
        """`day` falls in the period: two comparisons, so an index on `day` serves."""
        return [day >= self.start, day < self.end + timedelta(days=1)]


def in_year(day: Any, year: int) -> list[ColumnElement[bool]]:
    """`day` falls in `year`: two comparisons, so an index on `day` serves."""
    return [day >= date(year, 1, 1), day < date(year + 1, 1, 1)]


def place_conditions(
    user: Actor, filters: VictimFilters, *, record: Any, record_type: str, dated: Any
) -> list[ColumnElement[bool]]:
    """The viewer's scope and the place and year filters on a victim or an allegation (`record`,
    with its country_code, mission and id; `dated`: the day the year filter reads)."""
    conditions = [
        scope_filter(user, record.country_code, record.mission, record_type=record_type, id_column=record.id),
        *_place_filters(filters, record),
    ]
    if filters.year:
        conditions += in_year(dated, filters.year)
    return conditions


def _place_filters(filters: VictimFilters, record: Any) -> list[ColumnElement[bool]]:
    conditions = []
    if filters.country_code:
        conditions.append(record.country_code == filters.country_code.upper())
    if filters.mission:
        conditions.append(record.mission == filters.mission)
    return conditions


def _person_filters(filters: VictimFilters, record: Any) -> list[ColumnElement[bool]]:
    """The sex and minor filters on `record` (the victims, or their support counts)."""
    conditions = []
    if filters.sex:
        conditions.append(record.sex == filters.sex)
    if filters.minor is True:
        conditions.append(record.age_group == AgeGroup.MINOR.value)
    elif filters.minor is False:
        conditions.append(record.age_group != AgeGroup.MINOR.value)
    return conditions


def victim_conditions(
    user: Actor, filters: VictimFilters, *, consented_only: bool
) -> list[ColumnElement[bool]]:
    """The victims in the viewer's reach matching `filters`; with `consented_only`, only those
    whose records may leave the advocates (never for a count)."""
    conditions = place_conditions(
        user, filters, record=Victim, record_type="victim", dated=Victim.registered_on
    )
    conditions += _person_filters(filters, Victim)
    if consented_only:
        conditions.append(
            exists().where(
                Consent.victim_id == Victim.id,
                Consent.purpose == ConsentPurpose.AGGREGATE_REPORTING.value,
                Consent.withdrawn_on.is_(None),
                Consent.superseded.is_(False),
            )
        )
    return conditions


def counts_conditions(
    user: Actor, filters: VictimFilters, table: Table = counts
) -> list[ColumnElement[bool]]:
    """`victim_conditions` on the support counts (vat.victims.support_counts), whose rows are
    places and categories: every victim in the viewer's scope matching `filters`, except those a
    senior advocate opened by breaking the glass (`glass_conditions`)."""
    row = table.c
    conditions = [
        scope_filter(user, row.country_code, row.mission),
        *_place_filters(filters, row),
        *_person_filters(filters, row),
    ]
    if filters.year:
        conditions.append(row.year == filters.year)
    return conditions


def glass_conditions(user: Actor, filters: VictimFilters) -> list[ColumnElement[bool]] | None:
    """The victims matching `filters` that a senior advocate opened by breaking the glass and that
    are outside their scope (None for every other role: nobody else breaks the glass)."""
    if Role(user.role) is not Role.SENIOR_ADVOCATE:
        return None
    conditions = [
        Victim.id.in_(glass_granted(user, "victim")),
        # As the counts' rows have it: a victim without a mission is outside a mission's scope.
        not_(scope_filter(user, Victim.country_code, func.coalesce(Victim.mission, NO_MISSION))),
        *_place_filters(filters, Victim),
        *_person_filters(filters, Victim),
    ]
    if filters.year:
        conditions += in_year(Victim.registered_on, filters.year)
    return conditions


def claim_conditions(
    user: Actor, filters: VictimFilters, *, consented_only: bool
) -> list[ColumnElement[bool]]:
    conditions = victim_conditions(user, replace(filters, year=None), consented_only=consented_only)
    if filters.year:
        conditions += in_year(Claim.opened_on, filters.year)
    return conditions


def aggregate_export_rows(table: SuppressedTable) -> list[list[Any]]:
    """A suppressed table as rows, hidden cells written as the text "suppressed"."""

    def show(value: int | None) -> Any:
        return "suppressed" if value is None else value

    rows = [
        [label, *[show(v) for v in cells], show(total)]
        for label, cells, total in zip(table.row_labels, table.cells, table.row_totals, strict=True)
    ]
    rows.append(["total", *[show(v) for v in table.column_totals], show(table.grand_total)])
    return rows
