"""Victim lists without identities: filters, the reader's order, one page of rows, the search by
any words of a name (blind-indexed, audited), and the advocate's "needs attention" dashboard."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, Subquery, and_, exists, func, not_, select

from vat import audit
from vat.allegations import cycle
from vat.allegations.clock import has_overdue_step, overdue_steps, rules
from vat.allegations.models import Allegation
from vat.auth.actor import Actor
from vat.auth.models import BreakGlass, User
from vat.db import db
from vat.inputs import InvalidField, today
from vat.paging import Page
from vat.sorting import Sort, SortableColumns
from vat.victims.assistance import STUCK_DAYS
from vat.victims.identity import glass_breaks_for, in_scope_condition, name_words, word_digest
from vat.victims.letters import due_on
from vat.victims.models import (
    AgeGroup,
    Assistance,
    Feedback,
    Need,
    ServiceStatus,
    Victim,
    VictimAllegation,
    VictimNameKey,
    VictimStatus,
    VictimTask,
)
from vat.victims.needs import NOT_MET, has_need_not_met, victims_with_need_not_met
from vat.victims.outcomes import task_reference
from vat.victims.support_summary import supported_in_summary, supported_victims


def no_update_days() -> int:
    return int(current_app.config["VAT_NO_UPDATE_DAYS"])


# --- search and lists ------------------------------------------------------------------------


@dataclass(frozen=True)
class VictimFilters:
    case_code: str = ""
    name_digests: tuple[str, ...] = ()  # every word searched for (vat.victims.identity.word_digest)
    country_code: str = ""
    status: str = ""
    advocate_id: int | None = None
    minor: bool = False
    no_assistance: bool = False
    no_update: bool = False
    needs_not_met: bool = False


def received_assistance() -> ColumnElement[bool]:
    """Supported, as the victim's support summary says (vat.victims.support_summary)."""
    return supported_in_summary(Victim.id)


def without_update_since(cutoff: date) -> ColumnElement[bool]:
    return and_(
        Victim.status == VictimStatus.ACTIVE,
        func.coalesce(Victim.last_update_on, Victim.registered_on) <= cutoff,
    )


# The list's order, newest first: a victim's place is its (registered_on, id), compared as a pair.
LIST_KEY = (Victim.registered_on, Victim.id)
SORTS = SortableColumns.of(
    Victim,
    ("registered_on", "case_code", "country_code", "status", "age_group", "last_update_on"),
    Sort("registered_on", descending=True),
)


def victim_rows(
    user: Actor, filters: VictimFilters, sort: Sort = SORTS.default, *, counting: bool = False
) -> Select[Any]:
    """The list query: case codes and categories, no identity column, one statement per page.
    `counting`: its filters on assistance and needs as sets read once (an IN), the way SQLite
    counts every victim fastest; a page's ids, which walk the list's order and stop at the page's
    end, go fastest testing victim by victim (an EXISTS), and so does PostgreSQL's count, whose
    planner makes the EXISTS a join over the whole set itself (docs/benchmarks-log.md, session 12)."""
    query = (
        select(
            Victim.id,
            Victim.case_code,
            Victim.country_code,
            Victim.mission,
            Victim.status,
            Victim.sex,
            Victim.age_group,
            Victim.registered_on,
            Victim.last_update_on,
            # A subquery, not a join: counting and skipping then read the victims' index alone.
            select(User.username).where(User.id == Victim.advocate_id).scalar_subquery().label("advocate"),
            received_assistance().label("assisted"),
        )
        .where(in_scope_condition(user))
        .order_by(*(column.desc() for column in LIST_KEY))
    )
    if sort != SORTS.default:
        query = SORTS.apply(query, sort)
    if filters.case_code.strip():
        query = query.where(Victim.case_code == filters.case_code.strip().upper())
    for digest in filters.name_digests:
        # An IN per word: the digest's index finds the few victims first, whatever the list's size.
        query = query.where(
            Victim.id.in_(select(VictimNameKey.victim_id).where(VictimNameKey.digest == digest))
        )
    if filters.country_code:
        query = query.where(Victim.country_code == filters.country_code)
    if filters.status:
        query = query.where(Victim.status == filters.status)
    if filters.advocate_id:
        query = query.where(Victim.advocate_id == filters.advocate_id)
    if filters.minor:
        query = query.where(Victim.age_group == AgeGroup.MINOR)
    if filters.no_assistance:
        query = query.where(
            Victim.id.not_in(supported_victims()) if counting else not_(received_assistance())
        )
    if filters.no_update:
        query = query.where(without_update_since(today() - timedelta(days=no_update_days())))
    if filters.needs_not_met:
        query = query.where(
            Victim.id.in_(victims_with_need_not_met()) if counting else has_need_not_met(Victim.id)
        )
    return query


def victims_page(
    user: Actor, filters: VictimFilters, sort: Sort = SORTS.default, *, page: int, per_page: int
) -> Page:
    """One page of the list and its exact total, each asked the way it goes fastest."""
    on_sqlite = db.session.get_bind().dialect.name == "sqlite"
    counted = victim_rows(user, filters, counting=True) if on_sqlite else None
    return _paginate(victim_rows(user, filters, sort), page=page, per_page=per_page, counted=counted)


def _paginate(query: Select[Any], *, page: int, per_page: int, counted: Select[Any] | None = None) -> Page:
    """One page of `query` (in its order, by default LIST_KEY newest first) and the list's exact total
    (of `counted`, the same victims asked another way, if given). Counting and skipping read
    victim ids alone (an index covers them); the page's other columns and subqueries are computed
    for its own rows only, not for every row skipped over."""
    ids = query.with_only_columns(Victim.id)
    window = list(db.session.scalars(ids.limit(per_page + 1).offset((page - 1) * per_page)))
    more = len(window) > per_page
    window = window[:per_page]
    rows = db.session.execute(query.where(Victim.id.in_(window))).all() if window else []
    counted_ids = (ids if counted is None else counted.with_only_columns(Victim.id)).order_by(None)
    total = db.session.scalar(select(func.count()).select_from(counted_ids.subquery())) or 0
    return Page(items=list(rows), page=page, per_page=per_page, total=total, more=more)


NAME_RESULTS = 100  # the matches an audit row names; the count is always recorded
MAX_NAME_WORDS = 6


def search_by_name(*, actor: Actor, name: str) -> tuple[str, ...]:
    """The blind indexes of the words of `name`, for a list of the victims in scope whose name or
    other names hold every one of them, in any order, whatever the case and accents. Audited,
    because a match tells the searcher that this person is a victim; the name is not recorded."""
    words = sorted(name_words(name))
    if not words:
        raise InvalidField("name", _l("Give at least one name of two letters or more."))
    if len(words) > MAX_NAME_WORDS:
        raise InvalidField("name", _l("Give at most %(count)s names.", count=MAX_NAME_WORDS))
    digests = tuple(word_digest(word) for word in words)
    found = victims_page(actor, VictimFilters(name_digests=digests), page=1, per_page=NAME_RESULTS)
    audit.record(
        "victim.search_by_name",
        actor=actor,
        object_type="victim",
        detail={"matches": [row.case_code for row in found.items], "count": found.total},
    )
    return digests


# --- the advocate's dashboard ----------------------------------------------------------------


@dataclass
class Attention:
    overdue_steps: list[tuple[int, str, str, Any]] = field(default_factory=list)  # id, code, ref, StepState
    overdue_cycle: list[tuple[int, str, str, Any]] = field(default_factory=list)  # the same, after the report
    stuck_services: list[tuple[int, str, str, int]] = field(default_factory=list)  # id, code, type, days
    no_assistance: list[tuple[int, str]] = field(default_factory=list)
    no_update: list[tuple[int, str, date]] = field(default_factory=list)
    # (victim, case code, allegation or claim, outcome (None: a claim's step to tell), due, overdue)
    open_tasks: list[tuple[int, str, str, str | None, date, bool]] = field(default_factory=list)
    follow_ups: list[tuple[int, str, date | None, bool, bool]] = field(
        default_factory=list
    )  # id, code, follow up by, a complaint, overdue
    glass_breaks: list[tuple[BreakGlass, str]] = field(default_factory=list)
    needs_not_met: list[tuple[int, str, str, str, str | None]] = field(
        default_factory=list
    )  # id, code, type, status, reason
    more: set[str] = field(default_factory=set)  # the sections cut at ATTENTION_LIMIT


ATTENTION_LIMIT = 100


def _first(result: Attention, section: str, rows: list[Any]) -> list[Any]:
    """A section's first ATTENTION_LIMIT rows, from a query that fetched one more to tell if more exist."""
    if len(rows) > ATTENTION_LIMIT:
        result.more.add(section)
    return rows[:ATTENTION_LIMIT]


def _overdue_cycle(condition: ColumnElement[bool], on: date) -> list[tuple[int, str, str, Any]]:
    """The victims' allegations with an overdue step of the accountability cycle, found in SQL and
    told by the cycle's clock (vat.allegations.cycle), as the allegation clock's section is."""
    rule_list = cycle.rules()
    found = db.session.execute(
        select(Victim.id, Victim.case_code, Allegation)
        .join(VictimAllegation, VictimAllegation.victim_id == Victim.id)
        .join(Allegation, Allegation.id == VictimAllegation.allegation_id)
        .where(condition, cycle.has_overdue_cycle_step(rule_list, on))
        .order_by(Victim.case_code, Allegation.reference)
        .limit(ATTENTION_LIMIT + 1)
    ).all()
    steps = cycle.steps_for({allegation.id for _, _, allegation in found})
    return [
        (victim_id, code, allegation.reference, state)
        for victim_id, code, allegation in found
        for state in cycle.overdue_cycle_steps(allegation, steps[allegation.id], rule_list, on)
    ]


def _stuck_referrals(condition: ColumnElement[bool], mine_only: bool, cutoff: date) -> list[Any]:
    """The first referrals made by `cutoff` and not started, oldest first, of the victims that
    meet `condition`: (victim id, case code, service type, referral day)."""
    stuck = and_(
        Assistance.status == ServiceStatus.REFERRED,
        Assistance.start_date.is_(None),
        Assistance.referral_date <= cutoff,
    )
    if not mine_only:  # walked in date order: in a scope, most are the reader's at once
        return list(
            db.session.execute(
                select(Victim.id, Victim.case_code, Assistance.service_type, Assistance.referral_date)
                .join(Assistance, Assistance.victim_id == Victim.id)
                .where(condition, stuck)
                .order_by(Assistance.referral_date)
                .limit(ATTENTION_LIMIT + 1)
            )
        )
    # Found from my victims (a caseload at most; none for a senior advocate with no victims of
    # their own, where the walk read every stuck referral), and only the page's case codes read.
    first = (
        select(Assistance.victim_id, Assistance.service_type, Assistance.referral_date)
        .where(Assistance.victim_id.in_(select(Victim.id).where(condition)), stuck)
        .order_by(Assistance.referral_date)
        .limit(ATTENTION_LIMIT + 1)
        .subquery()
    )
    return _with_case_codes(first, ("service_type", "referral_date"), (first.c.referral_date,))


def _with_case_codes(first: Subquery, shown: tuple[str, ...], order: tuple[Any, ...]) -> list[Any]:
    """The rows of `first` (a section's first rows, each with its `victim_id`) in `order`, as
    (victim id, case code, *`shown` columns): only those victims' case codes are read."""
    return list(
        db.session.execute(
            select(Victim.id, Victim.case_code, *(first.c[name] for name in shown))
            .join(first, first.c.victim_id == Victim.id)
            .order_by(*order)
        )
    )


def _follow_ups(condition: ColumnElement[bool], mine_only: bool) -> list[Any]:
    """The first feedback awaiting its follow-up, soonest due first, of the victims that meet
    `condition`: (victim id, case code, follow up by, a complaint). In a whole scope, found from
    the feedback awaiting one (each victim's looked up by its key), not from every victim's."""
    awaiting = and_(Feedback.follow_up_needed.is_(True), Feedback.followed_up_on.is_(None))
    if mine_only:
        order = (Feedback.follow_up_on.is_(None), Feedback.follow_up_on, Feedback.given_on)
        return list(
            db.session.execute(
                select(Victim.id, Victim.case_code, Feedback.follow_up_on, Feedback.complaint)
                .join(Feedback, Feedback.victim_id == Victim.id)
                .where(condition, awaiting)
                .order_by(*order)
                .limit(ATTENTION_LIMIT + 1)
            )
        )
    first = (
        select(Feedback.victim_id, Feedback.follow_up_on, Feedback.complaint, Feedback.given_on)
        .where(awaiting, exists().where(Victim.id == Feedback.victim_id, condition))
        .order_by(Feedback.follow_up_on.is_(None), Feedback.follow_up_on, Feedback.given_on)
        .limit(ATTENTION_LIMIT + 1)
        .subquery()
    )
    soonest_due = (first.c.follow_up_on.is_(None), first.c.follow_up_on, first.c.given_on)
    return _with_case_codes(first, ("follow_up_on", "complaint"), soonest_due)


def _without_update(condition: ColumnElement[bool], cutoff: date) -> list[Any]:
    """The first victims without an update since `cutoff`, the longest without one first: (victim
    id, case code, the day of their last update, or of their registration if none). Two walks of
    at most ATTENTION_LIMIT + 1 each, merged: the victims updated, by the day of their last update
    (an index), and those never updated, by the day registered (an index): no index holds the
    day the two make together, by which all of them were sorted."""
    found: list[Any] = []
    for day, kind in (
        (Victim.last_update_on, Victim.last_update_on.is_not(None)),
        (Victim.registered_on, Victim.last_update_on.is_(None)),
    ):
        found += db.session.execute(
            select(Victim.id, Victim.case_code, day)
            .where(condition, without_update_since(cutoff), kind)
            .order_by(day)
            .limit(ATTENTION_LIMIT + 1)
        ).all()
    return sorted(found, key=lambda row: row[2])[: ATTENTION_LIMIT + 1]


def _needs_not_met(condition: ColumnElement[bool], mine_only: bool) -> list[Any]:
    """The first needs assessed unmet or partly met, oldest assessed first, then by case code, of
    the victims that meet `condition`:
    (victim id, case code, type, status, reason). In a whole scope most needs are in reach: the
    needs are walked by day (an index) up to the day of the first ATTENTION_LIMIT + 1 in reach,
    and only those up to that day are ordered by case code."""
    not_met = Need.status.in_(NOT_MET)
    rows = (
        select(Victim.id, Victim.case_code, Need.need_type, Need.status, Need.reason)
        .join(Need, Need.victim_id == Victim.id)
        .where(condition, not_met)
    )
    if not mine_only:
        first_days = (
            select(Need.assessed_on)
            .where(not_met, exists().where(Victim.id == Need.victim_id, condition))
            .order_by(Need.assessed_on)
            .limit(ATTENTION_LIMIT + 1)
            .subquery()
        )
        last_day = db.session.scalar(select(func.max(first_days.c.assessed_on)))
        if last_day is None:
            return []
        rows = rows.where(Need.assessed_on <= last_day)
    order = (Need.assessed_on, Victim.case_code, Need.need_type)
    return list(db.session.execute(rows.order_by(*order).limit(ATTENTION_LIMIT + 1)))


def attention(user: Actor, *, mine_only: bool = True, on: date | None = None) -> Attention:
    """My victims (or all in my scope) that need something done: each section its first
    ATTENTION_LIMIT rows, in a fixed number of queries whatever the number of victims."""
    on = on or today()

    mine = [Victim.advocate_id == user.id] if mine_only else []
    condition = and_(in_scope_condition(user), *mine, Victim.status != VictimStatus.CLOSED)

    result = Attention()
    rule_list = rules()
    # SQL picks the allegations with an overdue step (one more than a page of them: each has at
    # least one); the clock then says which steps, as on the allegation's page.
    overdue = [
        (victim_id, code, allegation.reference, state)
        for victim_id, code, allegation in db.session.execute(
            select(Victim.id, Victim.case_code, Allegation)
            .join(VictimAllegation, VictimAllegation.victim_id == Victim.id)
            .join(Allegation, Allegation.id == VictimAllegation.allegation_id)
            .where(condition, has_overdue_step(rule_list, on))
            .order_by(Victim.case_code, Allegation.reference)
            .limit(ATTENTION_LIMIT + 1)
        )
        for state in overdue_steps(allegation, rule_list, on)
    ]
    result.overdue_steps = _first(result, "overdue_steps", overdue)
    result.overdue_cycle = _first(result, "overdue_cycle", _overdue_cycle(condition, on))
    stuck = _stuck_referrals(condition, mine_only, on - timedelta(days=STUCK_DAYS))
    result.stuck_services = [
        (victim_id, code, kind, (on - referred).days)
        for victim_id, code, kind, referred in _first(result, "stuck_services", list(stuck))
    ]
    no_assistance = db.session.execute(
        select(Victim.id, Victim.case_code)
        .where(condition, Victim.status == VictimStatus.ACTIVE, not_(received_assistance()))
        .order_by(Victim.registered_on)
        .limit(ATTENTION_LIMIT + 1)
    ).all()
    result.no_assistance = [(i, c) for i, c in _first(result, "no_assistance", list(no_assistance))]
    no_update = _without_update(condition, on - timedelta(days=no_update_days()))
    result.no_update = [(i, c, d) for i, c, d in _first(result, "no_update", no_update)]
    open_tasks = db.session.execute(
        select(Victim.id, Victim.case_code, Allegation.reference, VictimTask.outcome, VictimTask)
        .join(VictimTask, VictimTask.victim_id == Victim.id)
        .outerjoin(Allegation, Allegation.id == VictimTask.allegation_id)
        .where(condition, VictimTask.closed_at.is_(None))
        .order_by(VictimTask.created_at)
        .limit(ATTENTION_LIMIT + 1)
    ).all()
    result.open_tasks = [
        (i, c, ref or task_reference(task), outcome, due_on(task), due_on(task) < on)
        for i, c, ref, outcome, task in _first(result, "open_tasks", list(open_tasks))
    ]
    follow_ups = _follow_ups(condition, mine_only)
    result.follow_ups = [
        (i, c, by, complaint, by is not None and by < on)
        for i, c, by, complaint in _first(result, "follow_ups", follow_ups)
    ]
    not_met = _needs_not_met(condition, mine_only)
    result.needs_not_met = [tuple(row) for row in _first(result, "needs_not_met", not_met)]
    result.glass_breaks = glass_breaks_for(user)
    return result
