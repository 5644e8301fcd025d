"""Claims as lists: the scope every claim query starts from, the claims list (ordered and cut
in SQL, one page loaded), and the dashboard's counts grouped in SQL."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, case, func, or_, select, true
from sqlalchemy.orm import contains_eager, selectinload

from vat.auth.actor import Actor
from vat.claims.correspondence import (
    WAITING_FLAGS,
    Waiting,
    victim_update_owed,
    victim_without_update,
    waiting,
)
from vat.claims.models import Claim, ClaimEvent, ClaimStep
from vat.claims.support import Balance, Totals, support_balances, support_totals
from vat.db import db
from vat.inputs import today
from vat.paging import MAX_PAGE, Page
from vat.sorting import Sort, SortableColumns
from vat.victims import identity
from vat.victims import listing as victim_listing
from vat.victims.models import Victim

S = ClaimStep
AGE_BUCKETS = ((90, "up to 90 days"), (180, "91–180 days"), (365, "181–365 days"), (730, "1–2 years"))


# --- scope: every claim query starts here -----------------------------------------------------


def claim_in_scope(user: Actor, *victim_conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    """The claim's victim is in the user's scope (the victims service owns that rule) and meets
    `victim_conditions`: checked claim by claim in a correlated subquery, so PostgreSQL looks up
    each claim's victim by key instead of scanning every victim to join them (at 100,000 victims
    and 5,000 claims, the scan was most of the list's time)."""
    return (
        select(true())
        .where(Victim.id == Claim.victim_id, identity.in_scope_condition(user), *victim_conditions)
        .correlate(Claim)
        .scalar_subquery()
    )


def claims_in_scope(user: Actor, *columns: Any) -> Select[Any]:
    """`columns` over the claims of victims in the user's scope (join the victim for its own
    columns)."""
    return select(*columns).select_from(Claim).where(claim_in_scope(user))


def visible_claims(user: Actor) -> Select[Claim]:
    """Claims of victims in the user's scope, each with its victim."""
    return claims_in_scope(user, Claim).join(Claim.victim).options(contains_eager(Claim.victim))


def get_claim(user: Actor, claim_id: int, *, for_update: bool = False) -> Claim | None:
    """One claim in the user's scope; `for_update` locks its row until the transaction ends, so
    two people moving the same claim at once take turns (PostgreSQL; SQLite writes serially)."""
    query = visible_claims(user).where(Claim.id == claim_id)
    if for_update:
        query = query.with_for_update(of=Claim)
    return db.session.scalar(
        query.options(
            selectinload(Claim.letters),
            selectinload(Claim.orders),
            selectinload(Claim.payments),
            selectinload(Claim.events).selectinload(ClaimEvent.recorded_by),
            selectinload(Claim.children),
        )
    )


# --- lists and the dashboard ------------------------------------------------------------------
#
# Both are computed in SQL over the claims in scope: the list reads one page of claims (ordered
# and cut in SQL) and works out each row's waiting time and flags from the wait the claim keeps
# (vat.claims.waits) and its balances from that page's orders and payments only; the dashboard's
# counts are grouped in SQL. Days are compared as dates computed in Python (`on - 90 days`), so no
# SQL needs a dialect's date arithmetic.


@dataclass
class ClaimRow:
    claim: Claim
    waiting: Waiting | None
    age_days: int
    update_owed: bool
    no_update: bool
    balances: list[Balance]

    @property
    def arrears(self) -> list[Balance]:
        return [b for b in self.balances if b.arrears]


@dataclass(frozen=True)
class ClaimFilters:
    country_code: str = ""
    step: str = ""
    member_state: str = ""
    victim_id: int | None = None


def _matching(user: Actor, filters: ClaimFilters) -> list[ColumnElement[bool]]:
    """Conditions on the claim alone: in scope, and matching the filters."""
    country = [Victim.country_code == filters.country_code] if filters.country_code else []
    conditions = [claim_in_scope(user, *country)]
    if filters.step:
        conditions.append(Claim.step == filters.step)
    if filters.member_state:
        conditions.append(Claim.member_state == filters.member_state)
    if filters.victim_id is not None:
        conditions.append(Claim.victim_id == filters.victim_id)
    return conditions


def claim_row(claim: Claim, on: date) -> ClaimRow:
    """A list row: the claim with what it waits for and owes (its orders and payments loaded)."""
    return ClaimRow(
        claim=claim,
        waiting=waiting(claim, on),
        age_days=(on - claim.opened_on).days,
        update_owed=victim_update_owed(claim),
        no_update=victim_without_update(claim, on),
        balances=support_balances(claim.orders, claim.payments, on) if claim.orders else [],
    )


def _load_for_rows(user: Actor, ids: Sequence[int]) -> list[Claim]:
    """The claims with these ids, in this order, each with its victim, orders and payments (what
    a list row shows)."""
    if not ids:
        return []
    loaded = db.session.scalars(
        visible_claims(user)
        .where(Claim.id.in_(ids))
        .options(selectinload(Claim.orders), selectinload(Claim.payments))
    ).all()
    by_id = {claim.id: claim for claim in loaded}
    return [by_id[claim_id] for claim_id in ids if claim_id in by_id]  # gone meanwhile: left out


# The reader's other orders; by default, the longest waiting first (claims_page).
SORTS = SortableColumns.of(
    Claim, ("id", "member_state", "step", "step_on", "opened_on"), Sort("waiting", descending=False)
)


def claims_page(
    user: Actor,
    filters: ClaimFilters,
    *,
    page: int = 1,
    per_page: int = 50,
    on: date | None = None,
    sort: Sort = SORTS.default,
) -> Page:
    """One page of the claims in scope matching the filters: by default open claims first, the
    longest waiting on a member state first, then the oldest opened; else in the reader's `sort`.
    Ordered and cut in SQL, the total counted in the same statement; only the page's claims are
    loaded with their orders and payments."""
    on = on or today()
    page = min(max(page, 1), MAX_PAGE)
    matching = _matching(user, filters)
    closed = Claim.step == S.CLOSED.value
    since = case((closed, None), (Claim.waiting_since > on, on), else_=Claim.waiting_since)
    ordered = (
        select(Claim.id, func.count().over())
        .where(*matching)
        .order_by(
            case((closed, 1), else_=0),
            case((since.is_(None), 1), else_=0),
            since,
            Claim.opened_on,
            Claim.id,
        )
    )
    if sort != SORTS.default:
        ordered = SORTS.apply(ordered, sort)
    window = db.session.execute(ordered.limit(per_page + 1).offset((page - 1) * per_page)).all()
    claims = _load_for_rows(user, [claim_id for claim_id, _ in window[:per_page]])
    # Every row carries the total, counted as the claims are ordered; a page past the end has none.
    total = (
        window[0][1] if window else (db.session.scalar(select(func.count(Claim.id)).where(*matching)) or 0)
    )
    return Page(
        items=[claim_row(claim, on) for claim in claims],
        page=page,
        per_page=per_page,
        total=total,
        more=len(window) > per_page,
    )


@dataclass
class Dashboard:
    by_step: list[tuple[ClaimStep, int]]
    by_member_state: list[tuple[str, int, int]]  # state, open claims, longest wait in days
    by_age: list[tuple[str, int]]
    waiting_flags: dict[int, int]
    update_owed: int
    no_update: int
    arrears: list[Totals]
    total: int


OLDEST_AGE = "over 2 years"
AGE_LABELS = [label for _, label in AGE_BUCKETS] + [OLDEST_AGE]


def dashboard(user: Actor, on: date | None = None) -> Dashboard:
    """Every claim in scope summed up: by step; open claims by member state (with the longest
    wait), by age and by waiting flag; victims owed an update; child support due and received."""
    on = on or today()
    steps: dict[ClaimStep, int] = defaultdict(int)
    states: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    ages = dict.fromkeys(AGE_LABELS, 0)
    flags = dict.fromkeys(WAITING_FLAGS, 0)
    update_owed = no_update = 0
    for group in _claims_grouped(user, on):
        step = ClaimStep(group.step)
        steps[step] += group.claims
        update_owed += group.update_owed
        if step is S.CLOSED:
            continue
        state = states[group.member_state]
        state[0] += group.claims
        if group.since is not None:
            state[1] = max(state[1], (on - group.since).days)
        ages[group.age] += group.claims
        if group.flag:
            flags[group.flag] += group.claims
        no_update += group.no_update
    return Dashboard(
        by_step=[(s, steps[s]) for s in ClaimStep if steps[s]],
        by_member_state=sorted(
            ((k, n, days) for k, (n, days) in states.items()), key=lambda x: (-x[2], x[0])
        ),
        by_age=[(label, ages[label]) for label in AGE_LABELS if ages[label]],
        waiting_flags=flags,
        update_owed=update_owed,
        no_update=no_update,
        arrears=support_totals(lambda *columns: claims_in_scope(user, *columns), on),
        total=sum(steps.values()),
    )


def _claims_grouped(user: Actor, on: date) -> Sequence[Row[Any]]:
    """One grouped statement: per step, member state, age bucket and waiting flag (0: none),
    how many claims, how many victims owed an update, the earliest wait's start, and how many
    victims had no update for too long. Each claim's bucket and flag are worked out once, in a
    subquery, and grouped on: summing a condition per bucket and flag worked them out again for
    every sum."""
    since = Claim.waiting_since

    def days_ago(days: int) -> date:
        return on - timedelta(days=days)

    age = case(
        *[(Claim.opened_on >= days_ago(limit), label) for limit, label in AGE_BUCKETS], else_=OLDEST_AGE
    )
    flag = case(*[(since <= days_ago(f), f) for f in WAITING_FLAGS], else_=0)
    owed = or_(Victim.last_update_on.is_(None), Victim.last_update_on < Claim.step_on)
    no_update = func.coalesce(Victim.last_update_on, Claim.opened_on) <= days_ago(
        victim_listing.no_update_days()
    )
    claims = (
        claims_in_scope(
            user,
            Claim.step,
            Claim.member_state,
            age.label("age"),
            flag.label("flag"),
            case((owed, 1), else_=0).label("owed"),
            since.label("since"),
            case((no_update, 1), else_=0).label("no_update"),
        )
        .join(Claim.victim)
        .subquery("claims")
    )
    keys = (claims.c.step, claims.c.member_state, claims.c.age, claims.c.flag)
    return db.session.execute(
        select(
            *keys,
            func.count().label("claims"),
            func.sum(claims.c.owed).label("update_owed"),
            func.min(claims.c.since).label("since"),
            func.sum(claims.c.no_update).label("no_update"),
        ).group_by(*keys)
    ).all()
