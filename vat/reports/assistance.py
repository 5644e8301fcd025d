"""The assistance report: services by a grouping against their status, with median waits."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l

from vat.auth.actor import Actor
from vat.reports.medians import median, merged
from vat.reports.scope import VictimFilters, aggregate_export_rows, sees_rows, threshold
from vat.reports.suppression import SuppressedTable, suppress
from vat.reports.tallies import tallied
from vat.victims.labels import vat_label
from vat.victims.models import ServiceStatus, ServiceType

ASSISTANCE_GROUPS = {
    "type": _l("service type"),
    "provider": _l("provider"),
    "country": _l("country"),
    "mission": _l("mission"),
    "year": _l("year of referral"),
}


# Each grouping: the tally facet it reads, the column holding the group, and the group's name
# when the column holds "" (no provider typed, no mission, no referral date).
_GROUPINGS: dict[str, tuple[str, str, str]] = {
    "type": ("type", "value", ""),
    "provider": ("provider", "value", "not recorded"),
    "country": ("type", "country_code", ""),
    "mission": ("type", "mission", "—"),
    "year": ("year", "value", "no referral date"),
}


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
    facet, column, unnamed = _GROUPINGS[by]
    # Counts kept per group, status and wait (vat.victims.service_tally): the grid and every
    # median (per group and overall) are read off them.
    counts = tallied(user, filters, facet, (column, "status", "wait", "days"))
    grid: Counter[tuple[str, str]] = Counter()
    to_start: dict[str, Counter[int]] = defaultdict(Counter)
    to_end: dict[str, Counter[int]] = defaultdict(Counter)
    for (value, status, wait, days), n in counts.items():
        group = str(value) or unnamed
        if wait == "start":
            to_start[group][int(days)] += n
        elif wait == "end":
            to_end[group][int(days)] += n
        else:
            grid[(group, status)] += n
    keys = sorted({g for g, _ in grid})
    if by == "type":
        order = [t.value for t in ServiceType]
        keys.sort(key=lambda k: order.index(k) if k in order else len(order))
    statuses = list(ServiceStatus)
    type_values = {t.value for t in ServiceType}
    labels = [vat_label(k) if by == "type" and k in type_values else k for k in keys]
    table = suppress(
        labels,
        [vat_label(s.value) for s in statuses],
        [[grid.get((k, s.value), 0) for s in statuses] for k in keys],
        threshold=limit,
    )

    def shown(found: tuple[Decimal, int] | None) -> Decimal | None:
        return found[0] if found is not None and found[1] >= limit else None

    return AssistanceReport(
        by=by,
        table=table,
        referral_to_start=[shown(median(to_start[k])) for k in keys],
        start_to_end=[shown(median(to_end[k])) for k in keys],
        overall_referral_to_start=shown(median(merged(to_start.values()))),
        overall_start_to_end=shown(median(merged(to_end.values()))),
    )


def assistance_export_rows(report: AssistanceReport) -> list[list[Any]]:
    rows = aggregate_export_rows(report.table)
    for row, to_start, to_end in zip(rows, report.referral_to_start, report.start_to_end, strict=False):
        row += [to_start, to_end]
    rows[-1] += [report.overall_referral_to_start, report.overall_start_to_end]
    return rows
