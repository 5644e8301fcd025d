"""The Secretary-General's annual tables and OIOS's metrics (issue 17, item 6), for a quarter, a
year or a date range, over the allegations received in it:

- allegations and alleged perpetrators by personnel group (SG §62: "41 allegations involved 101
  military personnel"), the allegations split by whether the number of perpetrators is recorded;
- investigation status against outcome (SG §65: referred, under review, completed and
  substantiated or not, still under investigation);
- victims of those allegations by entity category and by entity category and type, as the UN's
  groups (girls, women, boys, men, unknown; SG §62, §67–68);
- the alleged perpetrators concerned by each action taken in the period, per personnel group,
  counted per person (SG §66: administrative action against 25 military and 2 police personnel;
  5 civilians referred to OHRM and 2 to the UN Volunteers programme for disciplinary action);
- earlier years' allegations by year of allegation: results received and missing, member states'
  actions reported and awaited (SG §65–66; vat.reports.un_followup);
- OIOS's measures: days from intake to referral against 10 (§73), months of investigation and the
  share within 6, open allegations and their age, the substantiation rate, the share of
  substantiated allegations sanctioned (§88, per allegation) and of their alleged perpetrators
  (§90, per person), and the share of their victims with no assistance (§110).

Who sees what is the statistics page's rule (vat.reports.statistics): advocates everything; for
fund managers and auditors each table is suppressed, a period is refused when the query-set-size
control says so (dates ranges always), and a measure is hidden unless it stands on at least k
allegations or victims and neither its part nor the rest is a count from 1 to k − 1."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, and_, func, literal, or_, select, true, union_all

from vat.allegations.clock import deadline
from vat.allegations.cycle_models import (
    DISCIPLINARY_REFERRALS,
    MEASURES,
    NOT_REFERRED,
    AccountabilityStep,
    CycleStep,
    StepPerson,
)
from vat.allegations.models import (
    Allegation,
    AllegationType,
    EntityCategory,
    InvestigationStatus,
    Outcome,
    PersonnelCategory,
)
from vat.auth.actor import Actor
from vat.db import db
from vat.inputs import today
from vat.reports.scope import (
    Period,
    VictimFilters,
    place_conditions,
    sees_rows,
    share,
    threshold,
    victim_conditions,
)
from vat.reports.statistics import GROUPS, NOT_RECORDED, SEPARATOR, UNKNOWN_GROUP, too_few
from vat.reports.suppression import SuppressedTable, suppress
from vat.reports.un_followup import FollowUp, follow_up
from vat.victims.models import SupportSummary, Victim, VictimAllegation

# The SG report's groups of personnel (§62): military, police, civilian; then the others.
PERSONNEL_GROUPS: dict[str, tuple[str, ...]] = {
    "military": (PersonnelCategory.MILITARY_CONTINGENT, PersonnelCategory.MILITARY_EXPERT),
    "police": (PersonnelCategory.FORMED_POLICE, PersonnelCategory.INDIVIDUAL_POLICE),
    "civilian": (PersonnelCategory.CIVILIAN, PersonnelCategory.UN_VOLUNTEER, PersonnelCategory.CONTRACTOR),
    "implementing_partner": (PersonnelCategory.IMPLEMENTING_PARTNER,),
    "non_un_force": (PersonnelCategory.NON_UN_FORCE,),
    "unknown": (PersonnelCategory.UNKNOWN,),
}
GROUP_OF = {category: group for group, categories in PERSONNEL_GROUPS.items() for category in categories}
NUMBER_COLUMNS = ["number_recorded", "number_not_recorded"]
STATUS_ROWS = [*(s.value for s in InvestigationStatus), NOT_RECORDED]
OUTCOME_COLUMNS = [o.value for o in Outcome]
VICTIM_COLUMNS = [*(name for name, _, _ in GROUPS), UNKNOWN_GROUP]
CATEGORY_ROWS = [*(c.value for c in EntityCategory), NOT_RECORDED]
CATEGORY_TYPE_ROWS = [f"{c}{SEPARATOR}{t.value}" for c in CATEGORY_ROWS for t in AllegationType]

REFERRAL_DAYS = 10  # OIOS §73: intake to referral for investigation
INVESTIGATION_MONTHS = 6  # OIOS §74 and the SG's target for investigations
DAYS_PER_MONTH = Decimal("30.4375")  # an average month, for average durations only
# A sanction: an administrative action or a member state's outcome that punishes (not "other",
# which says nothing of what was done, nor a referral for disciplinary action, still to be decided).
SANCTIONS = {
    CycleStep.ADMINISTRATIVE_ACTION.value: set(MEASURES[CycleStep.ADMINISTRATIVE_ACTION])
    - {"left_before_action", "no_action", "other", *DISCIPLINARY_REFERRALS},
    CycleStep.MEMBER_STATE_OUTCOME.value: set(MEASURES[CycleStep.MEMBER_STATE_OUTCOME])
    - {"acquitted", "no_action", "ongoing", "other"},
}


class Received(NamedTuple):
    """One of the period's allegations, as the tables and measures read it: a plain tuple, whose
    fields are read several times each for every allegation (a result row's by name cost ten
    times as much: ~10 ms a view for the 1,927 allegations of a year at 100,000 victims)."""

    id: int
    personnel_category: str
    perpetrators: int | None
    investigation_status: str | None
    outcome: str
    received_on: date | None
    referred_on: date | None
    investigation_completed_on: date | None


@dataclass(frozen=True)
class Measure:
    """One of OIOS's measures: its value (an average or a percentage; None when there is nothing
    to measure or it is hidden), and how many allegations or victims it stands on (None: hidden)."""

    key: str
    value: Decimal | None
    base: int | None


@dataclass(frozen=True)
class UnReport:
    period: Period
    threshold: int
    by_personnel: SuppressedTable | None  # rows: PERSONNEL_GROUPS; columns: NUMBER_COLUMNS
    perpetrators: SuppressedTable | None  # rows: PERSONNEL_GROUPS; one column
    outcomes: SuppressedTable | None  # rows: STATUS_ROWS; columns: OUTCOME_COLUMNS
    victims_by_category: SuppressedTable | None  # rows: CATEGORY_ROWS; columns: VICTIM_COLUMNS
    victims_by_type: SuppressedTable | None  # rows: CATEGORY_TYPE_ROWS; columns: VICTIM_COLUMNS
    measures: list[Measure]
    refused: bool  # too few allegations for these filters: nothing is shown
    persons: SuppressedTable | None = None  # rows: "<step>/<measure>" taken; columns: PERSONNEL_GROUPS
    earlier: FollowUp | None = None

    @property
    def tables(self) -> dict[str, SuppressedTable]:
        named = {
            "personnel_groups": self.by_personnel,
            "perpetrators": self.perpetrators,
            "outcomes": self.outcomes,
            "victims_by_category": self.victims_by_category,
            "victims_by_type": self.victims_by_type,
            "persons": self.persons,
        }
        if self.earlier is not None:
            named |= {
                "results_received": self.earlier.results_received,
                "results_missing": self.earlier.results_missing,
                "actions_reported": self.earlier.actions_reported,
                "actions_awaited": self.earlier.actions_awaited,
            }
        return {key: table for key, table in named.items() if table is not None}


def un_report(user: Actor, filters: VictimFilters, period: Period, *, on: date | None = None) -> UnReport:
    """The SG's tables and OIOS's measures for `period` over what the viewer may count (`filters`:
    country and mission). A free date range is for advocates only: the view refuses it to others."""
    filters = VictimFilters(country_code=filters.country_code, mission=filters.mission)
    limit = 1 if sees_rows(user) else threshold()
    if too_few(user, filters, period, "allegations"):
        return UnReport(period, limit, None, None, None, None, None, [], refused=True)

    place = place_conditions(
        user, filters, record=Allegation, record_type="allegation", dated=Allegation.received_on
    )
    conditions = [*place, *period.conditions(Allegation.received_on)]

    rows = [
        Received._make(row)
        for row in db.session.execute(
            select(*(getattr(Allegation, name) for name in Received._fields)).where(*conditions)
        )
    ]
    personnel, perpetrators = _personnel(rows, limit)
    by_category, by_type, assisted = _victim_tables(user, conditions, limit)
    return UnReport(
        period=period,
        threshold=limit,
        by_personnel=personnel,
        perpetrators=perpetrators,
        outcomes=_outcomes(rows, limit),
        victims_by_category=by_category,
        victims_by_type=by_type,
        measures=_measures(rows, assisted, limit, on or today()),
        refused=False,
        persons=_persons(place, period, limit),
        # Counted as at the period's end: for aggregate viewers only once a year, as the SG does,
        # so that two consecutive quarters' difference cannot show one allegation's news.
        earlier=follow_up(place, period, limit) if limit == 1 or period.kind == "year" else None,
    )


def _personnel(rows: Sequence[Received], limit: int) -> tuple[SuppressedTable, SuppressedTable]:
    groups = list(PERSONNEL_GROUPS)
    counts = {(g, c): 0 for g in groups for c in NUMBER_COLUMNS}
    people = dict.fromkeys(groups, 0)
    for row in rows:
        group = GROUP_OF.get(row.personnel_category, "unknown")
        counts[(group, NUMBER_COLUMNS[row.perpetrators is None])] += 1
        people[group] += row.perpetrators or 0
    table = suppress(
        groups, NUMBER_COLUMNS, [[counts[(g, c)] for c in NUMBER_COLUMNS] for g in groups], threshold=limit
    )
    return table, suppress(groups, ["perpetrators"], [[people[g]] for g in groups], threshold=limit)


def _persons(place: list[Any], period: Period, limit: int) -> SuppressedTable:
    """Each alleged perpetrator once per action (step and measure) dated in the period, on the
    allegations received by its end; a referral decided without referring is no action, and a
    number above the allegation's count (left from an earlier count) is no one."""
    found = db.session.execute(
        select(
            AccountabilityStep.step,
            AccountabilityStep.measure,
            Allegation.personnel_category,
            Allegation.id,
            StepPerson.person,
        )
        .join(Allegation, Allegation.id == AccountabilityStep.allegation_id)
        .join(StepPerson, StepPerson.step_id == AccountabilityStep.id)
        .where(
            *place,
            Allegation.received_on <= period.end,
            AccountabilityStep.measure != NOT_REFERRED,
            StepPerson.person <= func.coalesce(Allegation.perpetrators, 1),
            *period.conditions(AccountabilityStep.dated_on),
        )
    ).all()
    seen = {
        (f"{r.step}{SEPARATOR}{r.measure}", GROUP_OF.get(r.personnel_category, "unknown"), r.id, r.person)
        for r in found
    }
    counts = Counter((action, group) for action, group, _allegation, _person in seen)
    order = [f"{step}{SEPARATOR}{m}" for step, measures in MEASURES.items() for m in measures]
    rows = [action for action in order if any(counts[(action, g)] for g in PERSONNEL_GROUPS)]
    groups = list(PERSONNEL_GROUPS)
    return suppress(rows, groups, [[counts[(r, g)] for g in groups] for r in rows], threshold=limit)


def _outcomes(rows: Sequence[Received], limit: int) -> SuppressedTable:
    cells = {(s, o): 0 for s in STATUS_ROWS for o in OUTCOME_COLUMNS}
    for row in rows:
        cells[(row.investigation_status or NOT_RECORDED, row.outcome)] += 1
    grid = [[cells[(s, o)] for o in OUTCOME_COLUMNS] for s in STATUS_ROWS]
    return suppress(STATUS_ROWS, OUTCOME_COLUMNS, grid, threshold=limit)


# The UN group of a victim's (sex, age group); any other pair is "unknown".
GROUP_OF_PERSON = {(sex, age): name for name, sex, age in reversed(GROUPS)}


def _victim_tables(
    user: Actor, conditions: list[ColumnElement[bool]], limit: int
) -> tuple[SuppressedTable, SuppressedTable, tuple[int, int]]:
    """The victims named in the allegations by entity category, and by category and type, per UN
    group; each victim counted once per row (a victim named in two allegations of a row, once);
    and of those victims (each once) how many are supported, and how many there are. One
    statement: the distinct (victim, category, type) pairs once, counted per category and type
    and, distinct victims, per category and in all; a victim's (sex, age group) falls in one group."""
    named = (
        select(
            Victim.id.label("victim"),
            func.coalesce(Allegation.entity_category, NOT_RECORDED).label("category"),
            Allegation.type.label("kind"),
            Victim.sex.label("sex"),
            Victim.age_group.label("age"),
        )
        .distinct()
        .select_from(VictimAllegation)
        .join(Allegation, Allegation.id == VictimAllegation.allegation_id)
        .join(Victim, Victim.id == VictimAllegation.victim_id)
        .where(
            *conditions,
            *victim_conditions(user, VictimFilters(), consented_only=False),
            # Implied by the join; lets SQLite start from the period's allegations, not every victim.
            VictimAllegation.allegation_id.in_(select(Allegation.id).where(*conditions).correlate(None)),
        )
        .cte("named")
    )
    by_type = select(named.c.category, named.c.kind, named.c.sex, named.c.age, func.count()).group_by(
        named.c.category, named.c.kind, named.c.sex, named.c.age
    )
    by_category = select(
        named.c.category, literal(None), named.c.sex, named.c.age, func.count(named.c.victim.distinct())
    ).group_by(named.c.category, named.c.sex, named.c.age)
    # The category is never NULL in the CTE: a NULL one marks these two counts.
    everyone = select(
        literal(None), literal("named"), literal(None), literal(None), func.count(named.c.victim.distinct())
    )
    # The named victims' summary rows that count them supported (supported_in_summary's rule;
    # one row a victim): read from the summary's index on the flag, not its rows one by one.
    supported = select(
        literal(None),
        literal("supported"),
        literal(None),
        literal(None),
        select(func.count())
        .select_from(SupportSummary)
        .where(SupportSummary.supported == true(), SupportSummary.victim_id.in_(select(named.c.victim)))
        .scalar_subquery(),
    )
    cells: Counter[tuple[str, str]] = Counter()
    counted = {"named": 0, "supported": 0}
    for category, kind, sex, age, n in db.session.execute(
        union_all(by_type, by_category, everyone, supported)
    ):
        if category is None:
            counted[kind] = int(n)
            continue
        row = category if kind is None else f"{category}{SEPARATOR}{kind}"
        cells[(row, GROUP_OF_PERSON.get((sex, age), UNKNOWN_GROUP))] += int(n)

    def table(rows: list[str]) -> SuppressedTable:
        grid = [[cells[(r, c)] for c in VICTIM_COLUMNS] for r in rows]
        return suppress(rows, VICTIM_COLUMNS, grid, threshold=limit)

    return table(CATEGORY_ROWS), table(CATEGORY_TYPE_ROWS), (counted["supported"], counted["named"])


def _measures(rows: Sequence[Received], assisted: tuple[int, int], limit: int, on: date) -> list[Measure]:
    """OIOS's measures over the period's allegations; `assisted`: of the victims named in them
    (each once), how many are supported, and how many there are."""

    def hidden(*counts: int) -> bool:
        return any(0 < n < limit for n in counts)

    def average(key: str, values: list[Decimal]) -> Measure:
        if hidden(len(values)) or not values:
            return Measure(key, None, None if hidden(len(values)) else 0)
        mean = sum(values, Decimal(0)) / len(values)
        return Measure(key, mean.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP), len(values))

    def part(key: str, found: int, whole: int) -> Measure:
        if hidden(whole, found, whole - found):
            return Measure(key, None, None if hidden(whole) else whole)
        return Measure(key, share(found, whole), whole)

    referrals = [(r.referred_on - r.received_on).days for r in rows if r.received_on and r.referred_on]
    investigations = [
        (r.referred_on, r.investigation_completed_on)
        for r in rows
        if r.referred_on and r.investigation_completed_on
    ]
    open_ages = [
        (on - r.received_on).days
        for r in rows
        if r.outcome == Outcome.PENDING
        and r.investigation_status != InvestigationStatus.CLOSED_WITHOUT_INVESTIGATION
        and r.received_on
    ]
    decided = [r for r in rows if r.outcome != Outcome.PENDING]
    substantiated = {r.id for r in rows if r.outcome == Outcome.SUBSTANTIATED}
    sanctioned = _sanctioned(substantiated)
    persons = sum(r.perpetrators or 1 for r in rows if r.id in substantiated)
    supported, victims = assisted
    return [
        average("referral_days", [Decimal(d) for d in referrals]),
        part("referred_within", sum(d <= REFERRAL_DAYS for d in referrals), len(referrals)),
        average(
            "investigation_months",
            [Decimal((end - start).days) / DAYS_PER_MONTH for start, end in investigations],
        ),
        part(
            "investigated_within",
            sum(end <= deadline(start, INVESTIGATION_MONTHS, "months") for start, end in investigations),
            len(investigations),
        ),
        Measure("open", None, None)
        if hidden(len(open_ages))
        else Measure("open", Decimal(len(open_ages)), len(open_ages)),
        average("open_age_days", [Decimal(d) for d in open_ages]),
        part("substantiated", len(substantiated), len(decided)),
        part("sanctioned", len(sanctioned), len(substantiated)),
        part("sanctioned_persons", _sanctioned_persons(substantiated), persons),
        part("no_assistance", victims - supported, victims),
    ]


def _a_sanction() -> ColumnElement[bool]:
    return or_(
        *(
            and_(AccountabilityStep.step == step, AccountabilityStep.measure.in_(measures))
            for step, measures in SANCTIONS.items()
        )
    )


def _sanctioned(substantiated: set[int]) -> set[int]:
    """The substantiated allegations with a sanction recorded in their accountability cycle."""
    return set(
        db.session.scalars(
            select(AccountabilityStep.allegation_id)
            .distinct()
            .where(AccountabilityStep.allegation_id.in_(substantiated), _a_sanction())
        )
    )


def _sanctioned_persons(substantiated: set[int]) -> int:
    """The alleged perpetrators of the substantiated allegations with a sanction recorded, each
    once (numbers above the allegation's count, left from an earlier count, are not counted)."""
    persons = (
        select(AccountabilityStep.allegation_id, StepPerson.person)
        .distinct()
        .join(StepPerson, StepPerson.step_id == AccountabilityStep.id)
        .join(Allegation, Allegation.id == AccountabilityStep.allegation_id)
        .where(
            AccountabilityStep.allegation_id.in_(substantiated),
            _a_sanction(),
            StepPerson.person <= func.coalesce(Allegation.perpetrators, 1),
        )
        .subquery()
    )
    return int(db.session.scalar(select(func.count()).select_from(persons)) or 0)
