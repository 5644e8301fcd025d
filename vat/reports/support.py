"""Per-victim support: one row per victim for advocates, suppressed aggregates for everyone else,
and the headline figures of who was supported."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import (
    Select,
    SQLColumnExpression,
    and_,
    case,
    func,
    literal,
    select,
)

from vat.auth.actor import Actor
from vat.db import db
from vat.reports.scope import (
    VictimFilters,
    cents,
    counts_conditions,
    glass_conditions,
    share,
    threshold,
    victim_conditions,
)
from vat.reports.sql import days_between
from vat.reports.suppression import SuppressedTable, suppress
from vat.reports.tallies import tallied
from vat.victims.labels import vat_label
from vat.victims.models import (
    Assistance,
    Communication,
    FundPayment,
    PaymentSource,
    ServiceStatus,
    ServiceType,
    SupportSummary,
    Victim,
)
from vat.victims.support_counts import NO_MISSION, SUMS, by_key, summed
from vat.victims.support_counts import counts as support_counts
from vat.victims.support_summary import STATUS_COLUMNS, TYPE_COLUMNS, supported_in_summary


def _service_dates(ids: Any = None) -> Any:
    """Per victim: the first referral and first start (days to service). Counts and money come
    from the support summary."""
    return (
        select(
            Assistance.victim_id.label("victim_id"),
            func.min(Assistance.referral_date).label("first_referral"),
            func.min(Assistance.start_date).label("first_start"),
        )
        .where(*([] if ids is None else [Assistance.victim_id.in_(ids)]))
        .group_by(Assistance.victim_id)
        .subquery("services")
    )


def _communications_since(since: date, ids: Any = None) -> Any:
    return (
        select(Communication.victim_id.label("victim_id"), func.count().label("contacts"))
        .where(
            Communication.occurred_on >= since, *([] if ids is None else [Communication.victim_id.in_(ids)])
        )
        .group_by(Communication.victim_id)
        .subquery("contacts")
    )


def _direct_routes(ids: Any = None) -> Any:
    """Per victim: the direct support paid (US cents, reversals out) through an implementing
    partner and through the mission, and the approved bases of those payments."""
    direct = and_(FundPayment.source == PaymentSource.DIRECT.value, FundPayment.reversed.is_(False))

    def through(route: str) -> Any:
        return func.sum(case((FundPayment.route == route, FundPayment.usd_minor), else_=0))

    return (
        select(
            FundPayment.victim_id.label("victim_id"),
            through("implementing_partner").label("partner_minor"),
            through("mission").label("mission_minor"),
            func.aggregate_strings(FundPayment.basis, "; ").label("bases"),
        )
        .where(direct, *([] if ids is None else [FundPayment.victim_id.in_(ids)]))
        .group_by(FundPayment.victim_id)
        .subquery("direct_routes")
    )


def support_rows(
    user: Actor,
    filters: VictimFilters,
    *,
    today: date | None = None,
    consented_only: bool = False,
    page: tuple[int, int] | None = None,
) -> Select[Any]:
    """One row per victim in scope: case code, categories, services by type and status, days from
    first referral to first service, trust-fund money (US cents), recent contacts, supported.
    With `page` = (limit, offset), only that page's victims are read and aggregated: the page is
    chosen once (a CTE, which both databases compute once however often it is read)."""
    today = today or date.today()
    since = today - timedelta(days=int(current_app.config["VAT_NO_UPDATE_DAYS"]))
    conditions = victim_conditions(user, filters, consented_only=consented_only)
    ids = None
    victims: Any = Victim
    order: tuple[SQLColumnExpression[Any], ...] = (Victim.country_code, Victim.case_code)
    if page is not None:
        limit, offset = page
        chosen = (
            select(Victim.id, Victim.country_code, Victim.case_code)
            .where(*conditions)
            .order_by(Victim.country_code, Victim.case_code)
            .limit(limit)
            .offset(offset)
            .cte("page")
        )
        ids = select(chosen.c.id)
        victims, conditions = chosen.join(Victim, Victim.id == chosen.c.id), []
        order = (chosen.c.country_code, chosen.c.case_code)  # sorts the page, not every victim
    services = _service_dates(ids)
    contacts = _communications_since(since, ids)
    routes = _direct_routes(ids)
    kept = SupportSummary
    counted = [func.coalesce(getattr(kept, n), 0) for n, _ in STATUS_COLUMNS]
    return (
        select(
            Victim.case_code,
            Victim.country_code,
            Victim.mission,
            Victim.sex,
            Victim.age_group,
            Victim.status,
            Victim.registered_on,
            sum(counted[1:], counted[0]).label("services"),
            *[func.coalesce(getattr(kept, n), 0).label(n) for n, _ in TYPE_COLUMNS],
            *[func.coalesce(getattr(kept, n), 0).label(n) for n, _ in STATUS_COLUMNS],
            (func.coalesce(kept.status_in_progress, 0) + func.coalesce(kept.status_completed, 0)).label(
                "delivered"
            ),
            days_between(services.c.first_start, services.c.first_referral).label("days_to_service"),
            func.coalesce(kept.direct_usd_minor, 0).label("direct_minor"),
            func.coalesce(kept.projects, 0).label("projects"),
            func.coalesce(kept.project_usd_minor, 0).label("project_minor"),
            func.coalesce(kept.funded_usd_minor, 0).label("funded_minor"),
            func.coalesce(routes.c.partner_minor, 0).label("partner_minor"),
            func.coalesce(routes.c.mission_minor, 0).label("mission_minor"),
            routes.c.bases,
            func.coalesce(contacts.c.contacts, 0).label("recent_contacts"),
            Victim.last_update_on,
            case((kept.supported.is_(True), 1), else_=0).label("supported"),
        )
        .select_from(victims)
        .outerjoin(kept, kept.victim_id == Victim.id)
        .outerjoin(services, services.c.victim_id == Victim.id)
        .outerjoin(contacts, contacts.c.victim_id == Victim.id)
        .outerjoin(routes, routes.c.victim_id == Victim.id)
        .where(*conditions)
        .order_by(*order)
    )


@dataclass(frozen=True)
class Headline:
    victims: int | None
    supported: int | None
    not_supported: int | None
    not_supported_share: Decimal | None  # percent
    direct_usd: Decimal | None = None
    project_usd: Decimal | None = None
    funded_usd: Decimal | None = None


def _supported_count() -> Any:
    """How many of the rows' victims the support summary counts as supported."""
    return func.coalesce(func.sum(case((supported_in_summary(), 1), else_=0)), 0)


def counted(user: Actor, filters: VictimFilters) -> dict[str, int]:
    """The support counts (vat.victims.support_counts) added up over the victims in the viewer's
    reach matching `filters`: their number, how many are supported, services by type and status,
    and the fund's money that reached them (US cents). A few hundred rows, not every victim."""
    row = db.session.execute(
        select(*[func.coalesce(func.sum(support_counts.c[n]), 0) for n in SUMS]).where(
            *counts_conditions(user, filters)
        )
    ).one()
    totals = {n: int(v) for n, v in zip(SUMS, row, strict=True)}
    glass = glass_conditions(user, filters)
    if glass is not None:  # victims opened by breaking the glass: their own summary rows
        for extra in by_key(db.session.execute(summed(select(Victim.id).where(*glass)))).values():
            totals = {n: totals[n] + extra[n] for n in SUMS}
    return totals


def headline(
    user: Actor, filters: VictimFilters, *, today: date | None = None, money: bool = True
) -> Headline:
    """Victims supported vs not supported at all, with the share that got nothing, and (unless
    `money` is false: the dashboards show counts only) the trust-fund money that reached them."""
    totals = counted(user, filters)
    total, supported = totals["victims"], totals["supported"]
    figures = Headline(total, supported, total - supported, share(total - supported, total))
    if not money:
        return figures
    return replace(
        figures,
        direct_usd=cents(totals["direct_usd_minor"]),
        project_usd=cents(totals["project_usd_minor"]),
        funded_usd=cents(totals["funded_usd_minor"]),
    )


@dataclass(frozen=True)
class AggregateSupport:
    """What leaves the advocates' scope: counts of every victim in reach, small ones suppressed."""

    by_place: SuppressedTable  # rows: country / mission; columns: supported, not supported
    by_service: SuppressedTable  # rows: service type; columns: status (counts of services)
    headline: Headline


SUPPORT_COLUMNS = ["supported", "not supported"]


def aggregate_support(user: Actor, filters: VictimFilters, *, today: date | None = None) -> AggregateSupport:
    # Read off the support counts; aggregate viewers break no glass, so their scope is all there is.
    row = support_counts.c
    place = row.country_code + literal(" / ") + case((row.mission == NO_MISSION, "—"), else_=row.mission)
    grouped = db.session.execute(
        select(place.label("place"), func.sum(row.supported), func.sum(row.victims))
        .where(*counts_conditions(user, filters))
        .group_by(place)
        .having(func.sum(row.victims) > 0)
        .order_by(place)
    ).all()
    places = [str(p) for p, _, _ in grouped]
    by_place = suppress(
        places,
        SUPPORT_COLUMNS,
        [[int(s), int(n) - int(s)] for _, s, n in grouped],
        threshold=threshold(),
    )

    # Services by type and status, from the counts kept per victim cell (vat.victims.service_tally).
    counts = tallied(user, filters, "type", ("value", "status"), wait="")
    types = [t for t in ServiceType if any(k[0] == t.value for k in counts)]
    statuses = list(ServiceStatus)
    by_service = suppress(
        [vat_label(t.value) for t in types],
        [vat_label(s.value) for s in statuses],
        [[counts.get((t.value, s.value), 0) for s in statuses] for t in types],
        threshold=threshold(),
    )
    total = by_place.grand_total
    supported, not_supported = by_place.column_totals if places else (0, 0)
    return AggregateSupport(
        by_place=by_place,
        by_service=by_service,
        headline=Headline(
            victims=total,
            supported=supported,
            not_supported=not_supported,
            not_supported_share=(
                share(not_supported, total) if total is not None and not_supported is not None else None
            ),
        ),
    )


SUPPORT_HEADER = [
    "case code",
    "country",
    "mission",
    "sex",
    "age group",
    "status",
    "registered on",
    "services",
    *[f"services: {t.label}" for _, t in TYPE_COLUMNS],
    *[f"status: {s.label}" for _, s in STATUS_COLUMNS],
    "services delivered",
    "days from referral to first service",
    "direct support (USD)",
    "projects that paid the victim",
    "paid by projects (USD)",
    "other trust-fund services (USD)",
    "direct support through implementing partners (USD)",
    "direct support through the mission (USD)",
    "approved bases of direct support",
    "contacts in the last {days} days",
    "last case update",
    "supported",
]


def support_header() -> list[str]:
    """The export header, with the contact window the report used (VAT_NO_UPDATE_DAYS)."""
    days = int(current_app.config["VAT_NO_UPDATE_DAYS"])
    return [h.format(days=days) for h in SUPPORT_HEADER]


def support_export_rows(rows: Any) -> Any:
    """The rows of `support_rows` as export cells: money in dollars, supported as yes/no."""
    for row in rows:
        values = list(row)
        direct_at = SUPPORT_HEADER.index("direct support (USD)")
        for offset in (0, 2, 3, 4, 5):
            values[direct_at + offset] = cents(values[direct_at + offset])
        values[-1] = bool(values[-1])
        yield values


def services_by_type(user: Actor, filters: VictimFilters) -> list[tuple[str, int]]:
    """How many services of each type the victims in scope were referred to or received."""
    totals = counted(user, filters)
    return [(vat_label(t.value), totals[name]) for name, t in TYPE_COLUMNS]


def victims_count(user: Actor, filters: VictimFilters, *, consented_only: bool = False) -> int:
    """How many victims a per-victim export holds (for its audit row and its progress bar)."""
    conditions = victim_conditions(user, filters, consented_only=consented_only)
    return int(db.session.scalar(select(func.count()).select_from(Victim).where(*conditions)) or 0)
