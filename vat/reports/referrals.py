"""Referral pathways (issue 18, item 2): the days from referral to the start of service per
provider and service type, and the gap map — referrals recorded as "not available" or with no
provider at all, by place and service — the evidence the trust fund needs for its calls for
projects (OIOS §108, SG §28, §34–35)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from vat.auth.actor import Actor
from vat.db import db
from vat.reports.medians import median
from vat.reports.scope import VictimFilters, aggregate_export_rows, sees_rows, threshold
from vat.reports.suppression import SuppressedTable, suppress
from vat.reports.tallies import tallied
from vat.victims.labels import vat_label
from vat.victims.models import Provider, ServiceType

NOT_RECORDED = "not recorded"


@dataclass(frozen=True)
class ProviderTime:
    provider: str
    in_directory: bool
    service_type: str
    referrals: int | None  # referrals with both dates; None when hidden (fewer than the threshold)
    median_days: Decimal | None


@dataclass(frozen=True)
class ReferralReport:
    times: list[ProviderTime]
    gaps: SuppressedTable  # rows: (country, location); columns: service types; cells: referrals
    gap_service_types: list[str]


def _providers(ids: set[int]) -> dict[int, Provider]:
    """The directory's providers by id: names and places are read now, so a renamed or moved
    provider shows its current name and place."""
    if not ids:
        return {}
    return {p.id: p for p in db.session.scalars(select(Provider).where(Provider.id.in_(sorted(ids))))}


def referral_times(user: Actor, filters: VictimFilters) -> list[ProviderTime]:
    """The median days from referral to start per provider (the directory's name, or the name
    typed) and service type (vat.reports.medians, from the waits the tally keeps). Direct support
    the ledger paid is no referral and is left out. For fund managers and auditors a pair with
    fewer waits than the threshold shows neither its count nor its median."""
    limit = 1 if sees_rows(user) else threshold()
    counts = tallied(user, filters, "referral", ("value", "provider_id", "service_type", "days"))
    names = _providers({pid for _, pid, _, _ in counts if pid})
    waits: dict[tuple[str, str], Counter[int]] = {}
    listed: set[tuple[str, str]] = set()
    for (typed_name, provider_id, service_type, wait), n in counts.items():
        name = names[provider_id].name if provider_id else typed_name or NOT_RECORDED
        pair = (str(name), str(service_type))
        waits.setdefault(pair, Counter())[int(wait)] += n
        if provider_id:
            listed.add(pair)
    times = []
    for pair, days in sorted(waits.items()):
        middle, count = median(days) or (Decimal(0), 0)
        shown = count >= limit
        times.append(
            ProviderTime(
                provider=pair[0],
                in_directory=pair in listed,
                service_type=pair[1],
                referrals=count if shown else None,
                median_days=middle if shown else None,
            )
        )
    return times


def gap_map(user: Actor, filters: VictimFilters) -> tuple[SuppressedTable, list[str]]:
    """Referrals that found no service — recorded as not available, or still waiting with no
    provider named (neither from the directory nor typed) — by country and location against the
    service type. The location is the directory provider's when one was chosen, else the victim's
    mission: the victim's own location is an encrypted identity field and is never grouped on."""
    limit = 1 if sees_rows(user) else threshold()
    counts = tallied(user, filters, "gap", ("country_code", "mission", "provider_id", "service_type"))
    places = _providers({pid for _, _, pid, _ in counts if pid})
    grid: Counter[tuple[str, str, str]] = Counter()
    for (country, mission, provider_id, service_type), n in counts.items():
        location = places[provider_id].location if provider_id else None
        grid[(str(country), location or mission or "—", str(service_type))] += n
    rows = sorted({(c, p) for c, p, _ in grid})
    found = {t for _, _, t in grid}
    types: list[str] = [t.value for t in ServiceType if t.value in found]
    table = suppress(
        [f"{country} · {place}" for country, place in rows],
        [vat_label(t) for t in types],
        [[grid.get((c, p, t), 0) for t in types] for c, p in rows],
        threshold=limit,
    )
    return table, types


def referral_report(user: Actor, filters: VictimFilters) -> ReferralReport:
    gaps, types = gap_map(user, filters)
    return ReferralReport(times=referral_times(user, filters), gaps=gaps, gap_service_types=types)


def referral_export_sheets(report: ReferralReport) -> list[tuple[str, list[str], list[list[Any]]]]:
    """The gap map and the waits as two sheets, hidden figures written as "suppressed"."""
    gaps = (
        "Gaps",
        ["country · location", *report.gaps.column_labels, "total"],
        aggregate_export_rows(report.gaps),
    )
    times = (
        "Referral to start",
        ["provider", "in directory", "service type", "referrals", "median days referral to start"],
        [
            [
                t.provider,
                "yes" if t.in_directory else "no",
                t.service_type,
                "suppressed" if t.referrals is None else t.referrals,
                "suppressed" if t.median_days is None else t.median_days,
            ]
            for t in report.times
        ],
    )
    return [gaps, times]
