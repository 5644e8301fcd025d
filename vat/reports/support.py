"""Per-victim support: one row per victim for advocates, suppressed aggregates for everyone else,
and the headline figures of who was supported."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    SQLColumnExpression,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    type_coerce,
)

from ledger.models import ProjectBeneficiary
from vat.auth.actor import Actor
from vat.db import db
from vat.reports.fund_money import direct_support_by_case, project_share_by_case
from vat.reports.scope import VictimFilters, cents, share, threshold, victim_conditions
from vat.reports.sql import days_between
from vat.reports.suppression import SuppressedTable, suppress
from vat.victims.models import Assistance, Communication, FundingSource, ServiceStatus, ServiceType, Victim

DELIVERED = (ServiceStatus.IN_PROGRESS.value, ServiceStatus.COMPLETED.value)
TRUST_FUND_SOURCES = (FundingSource.TRUST_FUND_PROJECT.value, FundingSource.DIRECT_TRUST_FUND.value)


TYPE_COLUMNS = [(f"type_{t.value}", t) for t in ServiceType]
STATUS_COLUMNS = [(f"status_{s.value}", s) for s in ServiceStatus]


def _services_by_victim(ids: Any = None) -> Any:
    funded_cost = case(
        (
            and_(
                Assistance.funding_source.in_(TRUST_FUND_SOURCES),
                Assistance.ledger_entry_id.is_(None),
                Assistance.currency == "USD",
            ),
            type_coerce(Assistance.cost, BigInteger),
        ),
        else_=0,
    )
    return (
        select(
            Assistance.victim_id.label("victim_id"),
            func.count().label("services"),
            *[
                func.sum(case((Assistance.service_type == t.value, 1), else_=0)).label(n)
                for n, t in TYPE_COLUMNS
            ],
            *[func.sum(case((Assistance.status == s.value, 1), else_=0)).label(n) for n, s in STATUS_COLUMNS],
            func.sum(case((Assistance.status.in_(DELIVERED), 1), else_=0)).label("delivered"),
            func.min(Assistance.referral_date).label("first_referral"),
            func.min(Assistance.start_date).label("first_start"),
            func.sum(func.coalesce(funded_cost, 0)).label("funded_minor"),
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
    ids = codes = None
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
        ids, codes = select(chosen.c.id), select(chosen.c.case_code)
        victims, conditions = chosen.join(Victim, Victim.id == chosen.c.id), []
        order = (chosen.c.country_code, chosen.c.case_code)  # sorts the page, not every victim
    services = _services_by_victim(ids)
    direct = direct_support_by_case(codes)
    projects = project_share_by_case(codes)
    contacts = _communications_since(since, ids)
    delivered = func.coalesce(services.c.delivered, 0)
    direct_minor = func.coalesce(direct.c.minor, 0)
    project_count = func.coalesce(projects.c.projects, 0)
    supported = or_(delivered > 0, direct_minor > 0, project_count > 0)
    return (
        select(
            Victim.case_code,
            Victim.country_code,
            Victim.mission,
            Victim.sex,
            Victim.age_group,
            Victim.status,
            Victim.registered_on,
            func.coalesce(services.c.services, 0).label("services"),
            *[func.coalesce(services.c[n], 0).label(n) for n, _ in TYPE_COLUMNS],
            *[func.coalesce(services.c[n], 0).label(n) for n, _ in STATUS_COLUMNS],
            delivered.label("delivered"),
            days_between(services.c.first_start, services.c.first_referral).label("days_to_service"),
            direct_minor.label("direct_minor"),
            project_count.label("projects"),
            func.coalesce(projects.c.minor, 0).label("project_minor"),
            func.coalesce(services.c.funded_minor, 0).label("funded_minor"),
            func.coalesce(contacts.c.contacts, 0).label("recent_contacts"),
            Victim.last_update_on,
            case((supported, 1), else_=0).label("supported"),
        )
        .select_from(victims)
        .outerjoin(services, services.c.victim_id == Victim.id)
        .outerjoin(direct, direct.c.case_code == Victim.case_code)
        .outerjoin(projects, projects.c.case_code == Victim.case_code)
        .outerjoin(contacts, contacts.c.victim_id == Victim.id)
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


def _supported() -> ColumnElement[bool]:
    """A victim got something: a service in progress or completed, direct support from the fund
    (net of reversals), or a trust-fund project that lists them. EXISTS and IN, so the database
    stops at the first match instead of aggregating every service."""
    direct = direct_support_by_case()
    return or_(
        exists().where(Assistance.victim_id == Victim.id, Assistance.status.in_(DELIVERED)),
        Victim.case_code.in_(select(direct.c.case_code).where(direct.c.minor > 0)),
        Victim.case_code.in_(select(ProjectBeneficiary.case_code)),
    )


def headline(
    user: Actor, filters: VictimFilters, *, today: date | None = None, money: bool = True
) -> Headline:
    """Victims supported vs not supported at all, with the share that got nothing, and (unless
    `money` is false: the dashboards show counts only) the trust-fund money that reached them."""
    conditions = victim_conditions(user, filters, consented_only=False)
    total, supported = db.session.execute(
        select(func.count(), func.coalesce(func.sum(case((_supported(), 1), else_=0)), 0)).where(*conditions)
    ).one()
    total, supported = int(total), int(supported)
    if not money:
        return Headline(total, supported, total - supported, share(total - supported, total))
    codes = select(Victim.case_code).where(*conditions)
    direct = direct_support_by_case()
    projects = project_share_by_case()
    direct_minor = db.session.scalar(select(func.sum(direct.c.minor)).where(direct.c.case_code.in_(codes)))
    project_minor = db.session.scalar(
        select(func.sum(projects.c.minor)).where(projects.c.case_code.in_(codes))
    )
    funded_minor = db.session.scalar(
        select(func.sum(type_coerce(Assistance.cost, BigInteger)))
        .join(Victim, Victim.id == Assistance.victim_id)
        .where(
            *conditions,
            Assistance.funding_source.in_(TRUST_FUND_SOURCES),
            Assistance.ledger_entry_id.is_(None),
            Assistance.currency == "USD",
        )
    )
    return Headline(
        victims=total,
        supported=supported,
        not_supported=total - supported,
        not_supported_share=share(total - supported, total),
        direct_usd=cents(direct_minor),
        project_usd=cents(project_minor),
        funded_usd=cents(funded_minor),
    )


@dataclass(frozen=True)
class AggregateSupport:
    """What leaves the advocates' scope: counts of every victim in reach, small ones suppressed."""

    by_place: SuppressedTable  # rows: country / mission; columns: supported, not supported
    by_service: SuppressedTable  # rows: service type; columns: status (counts of services)
    headline: Headline


SUPPORT_COLUMNS = ["supported", "not supported"]


def aggregate_support(user: Actor, filters: VictimFilters, *, today: date | None = None) -> AggregateSupport:
    place = Victim.country_code + literal(" / ") + func.coalesce(Victim.mission, "—")
    grouped = db.session.execute(
        select(
            place.label("place"), func.coalesce(func.sum(case((_supported(), 1), else_=0)), 0), func.count()
        )
        .where(*victim_conditions(user, filters, consented_only=False))
        .group_by(place)
        .order_by(place)
    ).all()
    places = [str(p) for p, _, _ in grouped]
    by_place = suppress(
        places,
        SUPPORT_COLUMNS,
        [[int(s), int(n) - int(s)] for _, s, n in grouped],
        threshold=threshold(),
    )

    service_counts = db.session.execute(
        select(Assistance.service_type, Assistance.status, func.count())
        .join(Victim, Victim.id == Assistance.victim_id)
        .where(*victim_conditions(user, filters, consented_only=False))
        .group_by(Assistance.service_type, Assistance.status)
    ).all()
    counts = {(t, s): int(n) for t, s, n in service_counts}
    types = [t for t in ServiceType if any(k[0] == t.value for k in counts)]
    statuses = list(ServiceStatus)
    by_service = suppress(
        [t.label for t in types],
        [s.label for s in statuses],
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
    "projects listing the victim",
    "share of project disbursements (USD)",
    "other trust-fund services (USD)",
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
        for offset in (0, 2, 3):
            values[direct_at + offset] = cents(values[direct_at + offset])
        values[-1] = bool(values[-1])
        yield values


def services_by_type(user: Actor, filters: VictimFilters) -> list[tuple[str, int]]:
    """How many services of each type the victims in scope were referred to or received."""
    counts = dict(
        db.session.execute(
            select(Assistance.service_type, func.count())
            .join(Victim, Victim.id == Assistance.victim_id)
            .where(*victim_conditions(user, filters, consented_only=False))
            .group_by(Assistance.service_type)
        ).all()
    )
    return [(t.label, int(counts.get(t.value, 0))) for t in ServiceType]


def victims_count(user: Actor, filters: VictimFilters, *, consented_only: bool = False) -> int:
    """How many victims a per-victim export holds (for its audit row and its progress bar)."""
    conditions = victim_conditions(user, filters, consented_only=consented_only)
    return int(db.session.scalar(select(func.count()).select_from(Victim).where(*conditions)) or 0)
