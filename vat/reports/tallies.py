"""The reports' one reading of the service tally (vat.victims.service_tally): a facet's counts
within the viewer's reach and the filters, summed by the tally columns asked for."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import func, select

from vat.auth.actor import Actor
from vat.auth.models import BreakGlass, Role
from vat.auth.policy import reaches_everywhere, scope_filter
from vat.db import db, utcnow
from vat.reports.scope import VictimFilters, victim_conditions
from vat.victims.models import TALLY_KEY, ServiceTally, Victim
from vat.victims.service_tally import EVERYWHERE, counted


def _detail(filters: VictimFilters) -> bool:
    """Total rows serve every filter but the year registered, sex and minor."""
    return bool(filters.year or filters.sex or filters.minor is not None)


def _everywhere(user: Actor, filters: VictimFilters, by: tuple[str, ...]) -> bool:
    """Whether the detail rows that add up every place serve: the viewer reaches every country,
    filters on no place and groups by none."""
    places = {"country_code", "mission"}
    return reaches_everywhere(user) and not (filters.country_code or filters.mission or places & set(by))


def tallied(
    user: Actor, filters: VictimFilters, facet: str, by: tuple[str, ...], *, wait: str | None = None
) -> Counter[tuple[Any, ...]]:
    """The services (or waits) of `facet` counted by the columns `by`, for the victims in the
    viewer's reach that match `filters` — the same victims `victim_conditions` selects; with
    `wait`, only the rows of that wait ("": the services by status)."""
    detail = _detail(filters)
    conditions = [ServiceTally.facet == facet, ServiceTally.detail.is_(detail)]
    if detail and _everywhere(user, filters, by):
        conditions.append(ServiceTally.country_code == EVERYWHERE)
    else:
        conditions.append(scope_filter(user, ServiceTally.country_code, ServiceTally.mission))
        if detail and reaches_everywhere(user):
            # A scope names its countries, so only this reader needs the places-only condition (in
            # a scope's OR it would keep SQLite from seeking each country in the key).
            conditions.append(ServiceTally.country_code != EVERYWHERE)
    if wait is not None:
        conditions.append(ServiceTally.wait == wait)
    if filters.country_code:
        conditions.append(ServiceTally.country_code == filters.country_code.upper())
    if filters.mission:
        conditions.append(ServiceTally.mission == filters.mission)
    if filters.year:
        conditions.append(ServiceTally.registered_year == filters.year)
    if filters.sex:
        conditions.append(ServiceTally.sex == filters.sex)
    if filters.minor is not None:
        conditions.append(ServiceTally.minor.is_(filters.minor))
    columns = [ServiceTally.__table__.c[name] for name in by]
    rows = db.session.execute(
        select(*columns, func.sum(ServiceTally.services)).where(*conditions).group_by(*columns)
    )
    counts: Counter[tuple[Any, ...]] = Counter({tuple(row[:-1]): int(row[-1]) for row in rows})
    for key, n in _opened_by_glass(user, filters).items():
        parts = dict(zip(TALLY_KEY, key, strict=True))
        if (
            parts["facet"] == facet
            and parts["detail"] is detail
            and parts["country_code"] != EVERYWHERE
            and wait in (None, parts["wait"])
        ):
            counts[tuple(parts[name] for name in by)] += n
    return +counts  # counts kept at 0 after their services changed are no group


def _opened_by_glass(user: Actor, filters: VictimFilters) -> Counter[tuple[Any, ...]]:
    """The counts of victims a senior advocate opened by breaking the glass, outside their
    scope (a few victims, counted from their services: the tally is kept per place, not per
    grant)."""
    if Role(user.role) is not Role.SENIOR_ADVOCATE:
        return Counter()
    granted = select(BreakGlass.record_id).where(
        BreakGlass.user_id == user.id, BreakGlass.record_type == "victim", BreakGlass.expires_at > utcnow()
    )
    outside = ~scope_filter(user, Victim.country_code, func.coalesce(Victim.mission, ""))
    ids = db.session.scalars(
        select(Victim.id).where(
            Victim.id.in_(granted), outside, *victim_conditions(user, filters, consented_only=False)
        )
    ).all()
    return counted(victim_ids=ids) if ids else Counter()
