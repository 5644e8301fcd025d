"""Referral pathways (issue 18, item 2): the days from referral to the start of service per
provider and service type, and the gap map — referrals recorded as "not available" or with no
provider at all, by place and service — the evidence the trust fund needs for its calls for
projects (OIOS §108, SG §28, §34–35)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select

from vat.auth.actor import Actor
from vat.db import db
from vat.reports.medians import median
from vat.reports.scope import VictimFilters, aggregate_export_rows, sees_rows, threshold, victim_conditions
from vat.reports.sql import days_between
from vat.reports.suppression import SuppressedTable, suppress
from vat.victims.labels import vat_label
from vat.victims.models import Assistance, Provider, ServiceStatus, ServiceType, Victim

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


def _gap() -> ColumnElement[bool]:
    """A referral that found no service: recorded as not available, or still waiting with no
    provider named (neither from the directory nor typed)."""
    return or_(
        Assistance.status == ServiceStatus.NOT_AVAILABLE,
        and_(
            Assistance.status == ServiceStatus.REFERRED,
            Assistance.provider_id.is_(None),
            Assistance.provider.is_(None),
        ),
    )


def referral_times(user: Actor, filters: VictimFilters) -> list[ProviderTime]:
    """The median days from referral to start per provider (the directory's name, or the name
    typed) and service type (vat.reports.medians, from the waits counted in one grouped query).
    Direct support the ledger paid is no referral and is left out. For fund managers and auditors
    a pair with fewer waits than the threshold shows neither its count nor its median."""
    limit = 1 if sees_rows(user) else threshold()
    days = days_between(Assistance.start_date, Assistance.referral_date)
    name = func.coalesce(Provider.name, Assistance.provider, NOT_RECORDED)
    # One pass: how many waits of each length per pair, in the pairs' order; medians from them.
    rows = db.session.execute(
        select(name, Assistance.service_type, days, func.max(Provider.id), func.count())
        .select_from(Assistance)
        .join(Victim, Victim.id == Assistance.victim_id)
        .outerjoin(Provider, Provider.id == Assistance.provider_id)
        .where(
            *victim_conditions(user, filters, consented_only=False),
            days.is_not(None),
            Assistance.ledger_entry_id.is_(None),
        )
        .group_by(name, Assistance.service_type, days)
        .order_by(name, Assistance.service_type)
    ).all()
    waits: dict[tuple[str, str], Counter[int]] = {}
    listed: set[tuple[str, str]] = set()
    for provider, service_type, wait, provider_id, n in rows:
        pair = (str(provider), str(service_type))
        waits.setdefault(pair, Counter())[int(wait)] += int(n)
        if provider_id is not None:
            listed.add(pair)
    times = []
    for pair, counts in waits.items():
        middle, count = median(counts) or (Decimal(0), 0)
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
    """Referrals that found no service, by country and location against the service type. The
    location is the directory provider's when one was chosen, else the victim's mission: the
    victim's own location is an encrypted identity field and is never grouped on."""
    limit = 1 if sees_rows(user) else threshold()
    location = func.coalesce(Provider.location, Victim.mission, "—")
    counts = db.session.execute(
        select(Victim.country_code, location, Assistance.service_type, func.count())
        .select_from(Assistance)
        .join(Victim, Victim.id == Assistance.victim_id)
        .outerjoin(Provider, Provider.id == Assistance.provider_id)
        .where(*victim_conditions(user, filters, consented_only=False), _gap())
        .group_by(Victim.country_code, location, Assistance.service_type)
    ).all()
    places = sorted({(str(c), str(p)) for c, p, _, _ in counts})
    found = {str(t) for _, _, t, _ in counts}
    types: list[str] = [t.value for t in ServiceType if t.value in found]
    grid = {(str(c), str(p), str(t)): int(n) for c, p, t, n in counts}
    table = suppress(
        [f"{country} · {place}" for country, place in places],
        [vat_label(t) for t in types],
        [[grid.get((c, p, t), 0) for t in types] for c, p in places],
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
