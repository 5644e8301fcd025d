"""The assistance report: services by a grouping against their status, with median waits."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, SQLColumnExpression, func, literal, literal_column, select

from vat.auth.actor import Actor
from vat.db import db
from vat.reports.scope import VictimFilters, aggregate_export_rows, sees_rows, threshold, victim_conditions
from vat.reports.sql import days_between, year_of
from vat.reports.suppression import SuppressedTable, suppress
from vat.victims.models import Assistance, ServiceStatus, ServiceType, Victim

ASSISTANCE_GROUPS = {
    "type": _l("service type"),
    "provider": _l("provider"),
    "country": _l("country"),
    "mission": _l("mission"),
    "year": _l("year of referral"),
}


def _assistance_group(by: str) -> SQLColumnExpression[Any]:
    groups: dict[str, SQLColumnExpression[Any]] = {
        "type": Assistance.service_type,
        "provider": func.coalesce(Assistance.provider, "not recorded"),
        "country": Victim.country_code,
        "mission": func.coalesce(Victim.mission, "—"),
        "year": func.coalesce(year_of(Assistance.referral_date), "no referral date"),
    }
    return groups[by]


def _medians(
    group: SQLColumnExpression[Any] | None, days: ColumnElement[Any], conditions: list[Any]
) -> dict[Any, tuple[Decimal, int]]:
    """Median of `days` per group (or over everything when `group` is None), in SQL: number the
    values within each group, then average the one or two in the middle.
    Returns {group: (median, how many values)}; the key is "all" without a group."""
    key = group if group is not None else literal_column("'all'")
    numbered = (
        select(
            key.label("g"),
            days.label("d"),
            func.row_number().over(partition_by=group, order_by=days).label("rn"),
            func.count().over(partition_by=group).label("n"),
        )
        .select_from(Assistance)
        .join(Victim, Victim.id == Assistance.victim_id)
        .where(*conditions, days.is_not(None))
        .subquery("numbered")
    )
    middle = numbered.c.rn.in_([(numbered.c.n + 1) // 2, (numbered.c.n + 2) // 2])
    rows = db.session.execute(
        select(numbered.c.g, func.avg(numbered.c.d), func.max(numbered.c.n))
        .where(middle)
        .group_by(numbered.c.g)
    ).all()
    return {g: (Decimal(str(m)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP), int(n)) for g, m, n in rows}


@dataclass(frozen=True)
class AssistanceReport:
    by: str
    table: SuppressedTable  # rows: the groups; columns: statuses (counts of services)
    referral_to_start: list[Decimal | None]  # median days per row, None if hidden or no data
    start_to_end: list[Decimal | None]
    overall_referral_to_start: Decimal | None
    overall_start_to_end: Decimal | None


def assistance_report(user: Actor, filters: VictimFilters, *, by: str = "type") -> AssistanceReport:
    """Services grouped by type, provider, country, mission or year of referral, against their
    status; median days from referral to start and from start to completion. Every victim in
    reach is counted; for fund managers and auditors small counts are suppressed and medians of
    fewer than the threshold hidden."""
    if by not in ASSISTANCE_GROUPS:
        raise ValueError(f"unknown grouping {by!r}")
    limit = 1 if sees_rows(user) else threshold()
    conditions = victim_conditions(user, filters, consented_only=False)
    group = _assistance_group(by)
    counts = db.session.execute(
        select(group, Assistance.status, func.count())
        .select_from(Assistance)
        .join(Victim, Victim.id == Assistance.victim_id)
        .where(*conditions)
        .group_by(group, Assistance.status)
    ).all()
    keys = sorted({str(g) for g, _, _ in counts})
    if by == "type":
        order = [t.value for t in ServiceType]
        keys.sort(key=lambda k: order.index(k) if k in order else len(order))
    statuses = list(ServiceStatus)
    grid = {(str(g), s): int(n) for g, s, n in counts}
    type_values = {t.value for t in ServiceType}
    labels = [ServiceType(k).label if by == "type" and k in type_values else k for k in keys]
    table = suppress(
        labels,
        [s.label for s in statuses],
        [[grid.get((k, s.value), 0) for s in statuses] for k in keys],
        threshold=limit,
    )
    to_start = _medians(group, days_between(Assistance.start_date, Assistance.referral_date), conditions)
    to_end = _medians(group, days_between(Assistance.end_date, Assistance.start_date), conditions)
    everyone = literal("all")
    overall_start = _medians(
        everyone, days_between(Assistance.start_date, Assistance.referral_date), conditions
    )
    overall_end = _medians(everyone, days_between(Assistance.end_date, Assistance.start_date), conditions)

    def shown(found: tuple[Decimal, int] | None) -> Decimal | None:
        return found[0] if found is not None and found[1] >= limit else None

    return AssistanceReport(
        by=by,
        table=table,
        referral_to_start=[shown(to_start.get(k)) for k in keys],
        start_to_end=[shown(to_end.get(k)) for k in keys],
        overall_referral_to_start=shown(overall_start.get("all")),
        overall_start_to_end=shown(overall_end.get("all")),
    )


def assistance_export_rows(report: AssistanceReport) -> list[list[Any]]:
    rows = aggregate_export_rows(report.table)
    for row, to_start, to_end in zip(rows, report.referral_to_start, report.start_to_end, strict=False):
        row += [to_start, to_end]
    rows[-1] += [report.overall_referral_to_start, report.overall_start_to_end]
    return rows
