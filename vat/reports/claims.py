"""The paternity and child-support claims report: claims by member state and step, their age,
member states' silence, and child support due, received and in arrears."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, Select, and_, case, func, literal, select

from vat.auth.actor import Actor
from vat.auth.policy import reaches_everywhere
from vat.claims.listing import AGE_BUCKETS
from vat.claims.models import Claim, ClaimStep
from vat.claims.support import support_totals
from vat.db import db
from vat.reports.scope import VictimFilters, claim_conditions, in_year, sees_rows, threshold
from vat.reports.sql import days_between
from vat.reports.suppression import SuppressedTable, suppress, suppress_line
from vat.victims.models import Victim


@dataclass(frozen=True)
class ArrearsLine:
    currency: str
    due: Decimal | None
    received: Decimal | None
    arrears: Decimal | None
    claims_in_arrears: int | None


@dataclass(frozen=True)
class WaitingLine:
    member_state: str
    open_claims: int | None
    waiting: int | None
    longest_days: int | None


@dataclass(frozen=True)
class ClaimsReport:
    by_state: SuppressedTable  # rows: member states; columns: steps
    by_age: list[tuple[str, int | None]]  # open claims by age
    waiting: list[WaitingLine]
    arrears: list[ArrearsLine]
    threshold: int


def claims_report(user: Actor, filters: VictimFilters, *, today: date | None = None) -> ClaimsReport:
    """Claims by member state and step; open claims by age; member states' silence (days since
    the first letter they have not answered); child-support due, received and in arrears.
    `filters.year` is the year a claim was opened. Every claim in reach is counted; for aggregate
    roles small counts are suppressed."""
    today = today or date.today()
    limit = 1 if sees_rows(user) else threshold()
    claims = _claims_in_reach(user, filters)
    counts = db.session.execute(
        claims(Claim.member_state, Claim.step, func.count()).group_by(Claim.member_state, Claim.step)
    ).all()
    states = sorted({s for s, _, _ in counts})
    grid = {(s, step): int(n) for s, step, n in counts}
    steps = list(ClaimStep)
    by_state = suppress(
        states,
        [s.label for s in steps],
        [[grid.get((s, step.value), 0) for step in steps] for s in states],
        threshold=limit,
    )

    age = days_between(literal(today, Date), Claim.opened_on)
    buckets = [*AGE_BUCKETS, (None, "over 2 years")]
    bucket = case(*[(age <= limit_days, label) for limit_days, label in AGE_BUCKETS], else_="over 2 years")
    ages: dict[str, int] = dict(
        db.session.execute(claims(bucket, func.count()).where(IS_OPEN).group_by(bucket)).all()
    )
    age_counts = [int(ages.get(label, 0)) for _, label in buckets]
    by_age = list(
        zip([label for _, label in buckets], suppress_line(age_counts, threshold=limit), strict=True)
    )

    waiting = _waiting_by_state(claims, today, limit)
    arrears = _arrears_by_currency(claims, today, limit)
    return ClaimsReport(by_state=by_state, by_age=by_age, waiting=waiting, arrears=arrears, threshold=limit)


IS_OPEN = Claim.step != ClaimStep.CLOSED.value


def _claims_in_reach(user: Actor, filters: VictimFilters) -> Callable[..., Select[Any]]:
    """`claims(*columns)`: those columns over the claims in the viewer's reach matching `filters`."""
    if not _through_victims(user, filters):

        def every_claim(*columns: Any) -> Select[Any]:
            opened = in_year(Claim.opened_on, filters.year) if filters.year else []
            return select(*columns).select_from(Claim).where(*opened)

        return every_claim
    joined = reaches_everywhere(user)
    conditions = claim_conditions(user, filters, consented_only=False)

    def claims(*columns: Any) -> Select[Any]:
        query = select(*columns).select_from(Claim)
        if joined:
            return query.join(Victim, Victim.id == Claim.victim_id).where(*conditions)
        # A scope is an OR of places: joined, PostgreSQL filtered every victim by it to hash
        # them, work that grew with the victims. Each claim's victim is looked up by its key.
        return query.where(select(and_(*conditions)).where(Victim.id == Claim.victim_id).scalar_subquery())

    return claims


def _through_victims(user: Actor, filters: VictimFilters) -> bool:
    """Whether the claims in reach matching `filters` are found through their victims: not for those
    who reach every victim, unfiltered or by the year opened (each claim's key names a victim)."""
    return not (reaches_everywhere(user) and replace(filters, year=None) == VictimFilters())


def waiting_on_member_states(
    user: Actor, filters: VictimFilters, *, today: date | None = None
) -> list[WaitingLine]:
    """Per member state, open claims and how many wait for its reply (what the dashboard shows,
    without the rest of the claims report)."""
    limit = 1 if sees_rows(user) else threshold()
    return _waiting_by_state(_claims_in_reach(user, filters), today or date.today(), limit)


def waiting_total(user: Actor) -> int | None:
    """The dashboard's figure: the open claims in the viewer's reach waiting for a member state's
    reply, added up over the member states (each line suppressed as `waiting_on_member_states`
    does; None when one is hidden), from the wait each claim keeps (vat.claims.waits)."""
    limit = 1 if sees_rows(user) else threshold()
    claims = _claims_in_reach(user, VictimFilters())
    waiting = func.count(Claim.waiting_since)
    total = 0
    for open_claims, waits in db.session.execute(
        claims(func.count(), waiting).where(IS_OPEN).group_by(Claim.member_state)
    ):
        shown = suppress_line([int(open_claims) - int(waits), int(waits)], threshold=limit)[1]
        if shown is None:
            return None
        total += shown
    return total


def _waiting_by_state(claims: Callable[..., Select[Any]], today: date, limit: int) -> list[WaitingLine]:
    """Per member state, its open claims, how many wait for its reply and the longest wait, from
    the wait each claim keeps (vat.claims.waits: since the first letter sent after the last
    reply, by date then by the order recorded)."""
    since = Claim.waiting_since
    days = days_between(literal(today, Date), since)
    rows = db.session.execute(
        claims(
            Claim.member_state,
            func.count(),
            func.count(since),
            func.max(case((days > 0, days), else_=0)),
        )
        .where(IS_OPEN)
        .group_by(Claim.member_state)
        .order_by(Claim.member_state)
    ).all()
    lines = []
    for state, open_claims, waiting, longest in rows:
        shown = suppress_line([int(open_claims) - int(waiting), int(waiting)], threshold=limit)
        lines.append(
            WaitingLine(
                member_state=state,
                open_claims=int(open_claims) if int(open_claims) >= limit else None,
                waiting=shown[1],
                longest_days=int(longest or 0) if shown[1] is not None and int(waiting) else None,
            )
        )
    return lines


def _arrears_by_currency(claims: Callable[..., Select[Any]], today: date, limit: int) -> list[ArrearsLine]:
    lines = []
    for totals in support_totals(claims, today):
        hidden = totals.claims < limit
        lines.append(
            ArrearsLine(
                currency=totals.currency,
                due=None if hidden else totals.due,
                received=None if hidden else totals.received,
                arrears=None if hidden else totals.arrears,
                claims_in_arrears=None
                if hidden
                else suppress_line([totals.claims_in_arrears], threshold=limit)[0],
            )
        )
    return lines
