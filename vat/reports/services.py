"""The report queries. Each figure is one SQL aggregate (GROUP BY, conditional sums, window
functions): no Python loop walks a whole table. Money comes back from SQL as integer minor units
(US cents) and becomes Decimal here; percentages are Decimal too.

Scope: advocates and senior advocates see their scope, one row per victim by case code (never an
identity). Fund managers and auditors see aggregates only, counting only victims who consented to
aggregate reporting, with small cells suppressed (see suppression.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.orm import aliased

from ledger.engine import (
    CASH,
    CONTRIBUTIONS,
    GRANTS_PAYABLE,
    PLEDGES_RECEIVABLE,
    WITHHELD_INCOME,
    WITHHELD_RECEIVABLE,
    EntryKind,
)
from ledger.models import (
    Account,
    AccountType,
    Donor,
    Entry,
    Posting,
    Project,
    ProjectBeneficiary,
    ProjectStatus,
)
from vat.allegations.models import STEP_LABELS, Allegation, ClockRule, Step, Urgency
from vat.auth.models import Role
from vat.auth.policy import SCOPED_ROLES, scope_filter
from vat.claims.listing import AGE_BUCKETS
from vat.claims.models import Claim, ClaimStep, Frequency, Letter, LetterDirection, Payment, SupportOrder
from vat.db import db
from vat.reports.suppression import Setting, SuppressedTable, suppress, suppress_line, too_few_to_show
from vat.victims.models import (
    AgeGroup,
    Assistance,
    Communication,
    Consent,
    ConsentPurpose,
    FundingSource,
    ServiceStatus,
    ServiceType,
    Victim,
)

HUNDRED = Decimal(100)
DELIVERED = (ServiceStatus.IN_PROGRESS.value, ServiceStatus.COMPLETED.value)
TRUST_FUND_SOURCES = (FundingSource.TRUST_FUND_PROJECT.value, FundingSource.DIRECT_TRUST_FUND.value)


def cents(minor: Any) -> Decimal:
    return Decimal(int(minor or 0)).scaleb(-2)


def share(part: int, whole: int) -> Decimal | None:
    """part / whole as a percentage to one decimal place (None when there is no whole)."""
    if not whole:
        return None
    return (Decimal(part) * HUNDRED / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def threshold() -> int:
    return int(current_app.config["VAT_SUPPRESSION_THRESHOLD"])


def sees_rows(user: Any) -> bool:
    """Advocates see one row per victim in their scope; everyone else gets suppressed aggregates."""
    return Role(user.role) in SCOPED_ROLES


# --- SQL helpers that differ between SQLite and PostgreSQL -----------------------------------


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def days_between(later: Any, earlier: Any) -> ColumnElement[Any]:
    """Whole days from `earlier` to `later` (NULL if either is NULL)."""
    if _dialect() == "postgresql":
        return type_coerce(cast(later, Date) - cast(earlier, Date), BigInteger)
    return cast(func.julianday(later) - func.julianday(earlier), BigInteger)


def month_of(day: Any) -> ColumnElement[str]:
    if _dialect() == "postgresql":
        return func.to_char(day, "YYYY-MM")
    return func.strftime("%Y-%m", day)


# --- filters ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class VictimFilters:
    country_code: str = ""
    mission: str = ""
    year: int | None = None  # the year the victim was registered
    sex: str = ""
    minor: bool | None = None  # True: minors only; False: adults only; None: everyone

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in ("", None)}


def _victim_conditions(
    user: Any, filters: VictimFilters, *, consented_only: bool
) -> list[ColumnElement[bool]]:
    conditions = [
        scope_filter(user, Victim.country_code, Victim.mission, record_type="victim", id_column=Victim.id)
    ]
    if filters.country_code:
        conditions.append(Victim.country_code == filters.country_code.upper())
    if filters.mission:
        conditions.append(Victim.mission == filters.mission)
    if filters.year:
        conditions.append(Victim.registered_on >= date(filters.year, 1, 1))
        conditions.append(Victim.registered_on < date(filters.year + 1, 1, 1))
    if filters.sex:
        conditions.append(Victim.sex == filters.sex)
    if filters.minor is True:
        conditions.append(Victim.age_group == AgeGroup.MINOR.value)
    elif filters.minor is False:
        conditions.append(Victim.age_group != AgeGroup.MINOR.value)
    if consented_only:
        conditions.append(
            exists().where(
                Consent.victim_id == Victim.id,
                Consent.purpose == ConsentPurpose.AGGREGATE_REPORTING.value,
                Consent.withdrawn_on.is_(None),
                Consent.superseded.is_(False),
            )
        )
    return conditions


# --- trust-fund money, as subqueries keyed by case code ---------------------------------------

_original = aliased(Entry)


def effective_kind() -> ColumnElement[str]:
    """A reversal counts under the kind of the entry it reverses, so every sum nets it out."""
    return case((Entry.kind == EntryKind.REVERSAL, _original.kind), else_=Entry.kind)


def _postings(*columns: Any) -> Select[Any]:
    return (
        select(*columns)
        .select_from(Posting)
        .join(Entry, Entry.id == Posting.entry_id)
        .outerjoin(_original, _original.id == Entry.reverses_id)
        .join(Account, Account.id == Posting.account_id)
    )


def _direct_support_by_case(codes: Any = None) -> Any:
    """US cents the fund paid each victim directly (reversals netted), optionally only for the
    case codes `codes` selects."""
    query = (
        _postings(Posting.case_code.label("case_code"), func.sum(Posting.usd_minor).label("minor"))
        .where(Posting.case_code.is_not(None), effective_kind() == EntryKind.VICTIM_SUPPORT)
        .where(Account.type == AccountType.EXPENSE.value)
        .group_by(Posting.case_code)
    )
    if codes is not None:
        query = query.where(Posting.case_code.in_(codes))
    return query.subquery("direct")


def _disbursed_by_project(projects: Any = None) -> Any:
    """US cents paid out to each project's partner (tranches, reversals netted), optionally only
    for the project ids `projects` selects."""
    query = (
        _postings(Posting.project_id.label("project_id"), (-func.sum(Posting.usd_minor)).label("minor"))
        .where(Account.code == CASH, effective_kind() == EntryKind.DISBURSEMENT)
        .group_by(Posting.project_id)
    )
    if projects is not None:
        query = query.where(Posting.project_id.in_(projects))
    return query.subquery("disbursed")


def _project_share_by_case(codes: Any = None) -> Any:
    """For each case code listed by projects: how many projects, and an equal share of what each
    project has disbursed (rounded down to the cent per project)."""
    projects = None
    if codes is not None:  # only the projects that list one of those victims
        projects = select(ProjectBeneficiary.project_id).where(ProjectBeneficiary.case_code.in_(codes))
    disbursed = _disbursed_by_project(projects)
    listed = (
        select(ProjectBeneficiary.project_id, func.count().label("listed"))
        .where(*([] if projects is None else [ProjectBeneficiary.project_id.in_(projects)]))
        .group_by(ProjectBeneficiary.project_id)
        .subquery("listed")
    )
    per_project = cast(func.coalesce(disbursed.c.minor, 0), BigInteger) // listed.c.listed
    return (
        select(
            ProjectBeneficiary.case_code.label("case_code"),
            func.count().label("projects"),
            cast(func.sum(per_project), BigInteger).label("minor"),
        )
        .join(listed, listed.c.project_id == ProjectBeneficiary.project_id)
        .outerjoin(disbursed, disbursed.c.project_id == ProjectBeneficiary.project_id)
        .where(*([] if codes is None else [ProjectBeneficiary.case_code.in_(codes)]))
        .group_by(ProjectBeneficiary.case_code)
        .subquery("projects")
    )


# --- per-victim support ----------------------------------------------------------------------

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
    user: Any,
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
    conditions = _victim_conditions(user, filters, consented_only=consented_only)
    ids = codes = None
    victims: Any = Victim
    order = (Victim.country_code, Victim.case_code)
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
    direct = _direct_support_by_case(codes)
    projects = _project_share_by_case(codes)
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
    direct = _direct_support_by_case()
    return or_(
        exists().where(Assistance.victim_id == Victim.id, Assistance.status.in_(DELIVERED)),
        Victim.case_code.in_(select(direct.c.case_code).where(direct.c.minor > 0)),
        Victim.case_code.in_(select(ProjectBeneficiary.case_code)),
    )


def headline(user: Any, filters: VictimFilters, *, today: date | None = None, money: bool = True) -> Headline:
    """Victims supported vs not supported at all, with the share that got nothing, and (unless
    `money` is false: the dashboards show counts only) the trust-fund money that reached them."""
    conditions = _victim_conditions(user, filters, consented_only=False)
    total, supported = db.session.execute(
        select(func.count(), func.coalesce(func.sum(case((_supported(), 1), else_=0)), 0)).where(*conditions)
    ).one()
    total, supported = int(total), int(supported)
    if not money:
        return Headline(total, supported, total - supported, share(total - supported, total))
    codes = select(Victim.case_code).where(*conditions)
    direct = _direct_support_by_case()
    projects = _project_share_by_case()
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
    """What leaves the advocates' scope: counts only, consenting victims only, suppressed."""

    by_place: SuppressedTable  # rows: country / mission; columns: supported, not supported
    by_service: SuppressedTable  # rows: service type; columns: status (counts of services)
    headline: Headline


SUPPORT_COLUMNS = ["supported", "not supported"]


def aggregate_support(user: Any, filters: VictimFilters, *, today: date | None = None) -> AggregateSupport:
    place = Victim.country_code + literal(" / ") + func.coalesce(Victim.mission, "—")
    grouped = db.session.execute(
        select(
            place.label("place"), func.coalesce(func.sum(case((_supported(), 1), else_=0)), 0), func.count()
        )
        .where(*_victim_conditions(user, filters, consented_only=True))
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
        .where(*_victim_conditions(user, filters, consented_only=True))
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


def aggregate_export_rows(table: SuppressedTable) -> list[list[Any]]:
    """A suppressed table as rows, hidden cells written as the text "suppressed"."""

    def show(value: int | None) -> Any:
        return "suppressed" if value is None else value

    rows = [
        [label, *[show(v) for v in cells], show(total)]
        for label, cells, total in zip(table.row_labels, table.cells, table.row_totals, strict=True)
    ]
    rows.append(["total", *[show(v) for v in table.column_totals], show(table.grand_total)])
    return rows


# --- fund statement --------------------------------------------------------------------------


@dataclass
class FundStatement:
    start: date
    end: date
    opening_balance: Decimal
    closing_balance: Decimal
    opening_cash: Decimal
    closing_cash: Decimal
    income: list[tuple[str, str, Decimal]]  # (category, source, amount)
    expenses: list[tuple[str, Decimal]]  # (category, amount)
    pledges: list[tuple[str, Decimal, Decimal, Decimal]]  # donor, pledged, received, outstanding
    withheld: list[tuple[str, Decimal, Decimal, Decimal]]  # country, withheld, transferred, outstanding
    projects: list[dict[str, Any]]
    months: list[tuple[str, Decimal, Decimal]]  # month, income, spending
    total_income: Decimal = field(default=Decimal(0))
    total_expenses: Decimal = field(default=Decimal(0))


FUND_BALANCE_TYPES = (AccountType.REVENUE.value, AccountType.EXPENSE.value, AccountType.NET_ASSETS.value)
FLOW_TYPES = (AccountType.REVENUE.value, AccountType.EXPENSE.value)


def _minor_sum(column: Any) -> ColumnElement[int]:
    """A sum of minor units, as an integer on both backends (PostgreSQL sums bigints as numeric)."""
    return cast(func.sum(column), BigInteger)


@dataclass
class _PeriodSums:
    """US cents per account in [start, end] (contributions also per donor, withheld income also per
    country, revenue and expenses also per month), and the fund balance and cash before and in it."""

    by_account: dict[int, int] = field(default_factory=dict)
    by_donor: dict[int | None, int] = field(default_factory=dict)
    by_country: dict[str | None, int] = field(default_factory=dict)
    by_month: dict[str, list[int]] = field(default_factory=dict)  # month: [revenue, expenses]
    fund_before: int = 0
    fund_during: int = 0
    cash_before: int = 0
    cash_during: int = 0


def _period_sums(start: date, end: date, accounts: dict[str, Any]) -> _PeriodSums:
    """One pass over the postings to `end`, grouped by account, donor (contributions only), country
    (withheld income only) and month (NULL before `start`)."""
    ids = {a.code: a.id for a in accounts.values()}
    wanted = [a.id for a in accounts.values() if a.type in FUND_BALANCE_TYPES or a.code == CASH]
    donor = case((Posting.account_id == ids[CONTRIBUTIONS], Posting.donor_id))
    country = case((Posting.account_id == ids[WITHHELD_INCOME], Posting.country_code))
    month = case((Entry.entry_date >= start, month_of(Entry.entry_date)))
    rows = db.session.execute(
        select(Posting.account_id, donor, country, month, _minor_sum(Posting.usd_minor))
        .join(Entry, Entry.id == Posting.entry_id)
        .where(Entry.entry_date <= end, Posting.account_id.in_(wanted))
        .group_by(Posting.account_id, donor, country, month)
    )
    type_of = {a.id: a.type for a in accounts.values()}
    sums = _PeriodSums()
    for account_id, donor_id, country_code, period_month, minor in rows:
        before = period_month is None
        if account_id == ids[CASH]:
            sums.cash_before += minor if before else 0
            sums.cash_during += 0 if before else minor
            continue
        sums.fund_before += minor if before else 0
        sums.fund_during += 0 if before else minor
        if before or type_of[account_id] not in FLOW_TYPES:
            continue
        sums.by_account[account_id] = sums.by_account.get(account_id, 0) + minor
        if account_id == ids[CONTRIBUTIONS]:
            sums.by_donor[donor_id] = sums.by_donor.get(donor_id, 0) + minor
        if account_id == ids[WITHHELD_INCOME]:
            sums.by_country[country_code] = sums.by_country.get(country_code, 0) + minor
        flows = sums.by_month.setdefault(period_month, [0, 0])
        flows[type_of[account_id] == AccountType.EXPENSE.value] += minor
    return sums


def _income(sums: _PeriodSums, accounts: dict[str, Any], donors: list[Any]) -> list[tuple[str, str, Decimal]]:
    """Voluntary contributions by donor (`donors`: ids and names in order), withheld payments by
    country, then any other revenue account with a balance."""
    named = [(name, sums.by_donor[id_]) for id_, name in donors if id_ in sums.by_donor]
    if None in sums.by_donor:
        named.append(("unnamed donor", sums.by_donor[None]))
    countries = sorted(sums.by_country.items(), key=lambda item: (item[0] is None, item[0] or ""))
    others = sorted(
        (a for a in accounts.values() if a.type == AccountType.REVENUE.value),
        key=lambda a: a.code,
    )
    return (
        [("Voluntary contributions", name, -cents(m)) for name, m in named]
        + [("Withheld payments", code or "unknown country", -cents(m)) for code, m in countries]
        + [
            ("Other", a.name, -cents(sums.by_account[a.id]))
            for a in others
            if a.code not in (CONTRIBUTIONS, WITHHELD_INCOME) and sums.by_account.get(a.id)
        ]
    )


def _expenses(sums: _PeriodSums, accounts: dict[str, Any]) -> list[tuple[str, Decimal]]:
    """Each expense account with postings in the period, by code."""
    return [
        (a.name, cents(sums.by_account[a.id]))
        for a in sorted(accounts.values(), key=lambda a: a.code)
        if a.type == AccountType.EXPENSE.value and a.id in sums.by_account
    ]


def _sub_ledger_balances(
    end: date,
    accounts: dict[str, Any],
    *,
    group: Any,
    of: ColumnElement[bool],
    receivable: str,
    origin: str,
    settlement: str,
) -> dict[Any, tuple[Decimal, Decimal, Decimal]]:
    """Per value of `group` as at `end`, over the postings `of` selects, in US dollars: what the
    `origin` entries put on the `receivable` account, the cash the `settlement` entries brought in,
    and the receivable's balance (reversals counted under the kind they reverse). In the order of
    `group`."""
    receivable_id, cash_id = accounts[receivable].id, accounts[CASH].id
    kind = effective_kind()

    def amount(condition: Any) -> ColumnElement[int]:
        return _minor_sum(case((condition, Posting.usd_minor), else_=0))

    rows = db.session.execute(
        select(
            group,
            amount(and_(Posting.account_id == receivable_id, kind == origin)),
            amount(and_(Posting.account_id == cash_id, kind == settlement)),
            amount(Posting.account_id == receivable_id),
        )
        .select_from(Posting)
        .join(Entry, Entry.id == Posting.entry_id)
        .outerjoin(_original, _original.id == Entry.reverses_id)
        .where(Entry.entry_date <= end, Posting.account_id.in_((receivable_id, cash_id)), of)
        .group_by(group)
        .order_by(group)
    )
    return {key: (cents(made), cents(settled), cents(left)) for key, made, settled, left in rows}


def fund_statement(
    start: date, end: date, *, today: date | None = None, small_counts_below: int = 1
) -> FundStatement:
    """Income by source, expenses by category, opening and closing balance for [start, end];
    pledges vs receipts, withheld reconciliation and the project portfolio as at `end`.
    A project's count of listed victims from 1 to `small_counts_below` − 1 is hidden (None).
    One grouped query each for the period's sums, the pledges, the withholdings and the projects."""
    today = today or date.today()
    accounts = {
        a.code: a for a in db.session.execute(select(Account.id, Account.code, Account.name, Account.type))
    }
    donors = db.session.execute(select(Donor.id, Donor.name).order_by(Donor.name)).all()
    sums = _period_sums(start, end, accounts)
    income = _income(sums, accounts, donors)
    expenses = _expenses(sums, accounts)
    by_donor = _sub_ledger_balances(
        end,
        accounts,
        group=Posting.donor_id,
        of=Posting.donor_id.is_not(None),
        receivable=PLEDGES_RECEIVABLE,
        origin=EntryKind.PLEDGE,
        settlement=EntryKind.RECEIPT,
    )
    by_country = _sub_ledger_balances(
        end,
        accounts,
        group=Posting.country_code,
        of=Posting.withholding_id.is_not(None),
        receivable=WITHHELD_RECEIVABLE,
        origin=EntryKind.WITHHOLDING,
        settlement=EntryKind.WITHHELD_TRANSFER,
    )
    projects = project_portfolio(end, today=today)
    for project in projects:
        if 0 < project["victims_listed"] < small_counts_below:
            project["victims_listed"] = None
    months = [
        (month, -cents(revenue), cents(spent)) for month, (revenue, spent) in sorted(sums.by_month.items())
    ]
    return FundStatement(
        start=start,
        end=end,
        opening_balance=-cents(sums.fund_before),
        closing_balance=-cents(sums.fund_before + sums.fund_during),
        opening_cash=cents(sums.cash_before),
        closing_cash=cents(sums.cash_before + sums.cash_during),
        income=income,
        expenses=expenses,
        pledges=[(name, *by_donor[id_]) for id_, name in donors if id_ in by_donor],
        withheld=[(code, *amounts) for code, amounts in by_country.items()],
        projects=projects,
        months=months,
        total_income=sum((amount for _, _, amount in income), Decimal(0)),
        total_expenses=sum((amount for _, amount in expenses), Decimal(0)),
    )


PROJECT_KEYS = (
    "title partner country focus status planned_start planned_end actual_start actual_end "
    "approved disbursed remaining victims_listed behind_schedule"
).split()


def project_portfolio(end: date, *, today: date | None = None) -> list[dict[str, Any]]:
    """Every project approved by `end`: approved, disbursed and remaining (US dollars), schedule,
    and the victims it lists (count only)."""
    today = today or date.today()
    money = (
        _postings(
            Posting.project_id.label("project_id"),
            (
                -func.sum(
                    case(
                        (
                            and_(
                                Account.code == GRANTS_PAYABLE, effective_kind() == EntryKind.GRANT_APPROVAL
                            ),
                            Posting.usd_minor,
                        ),
                        else_=0,
                    )
                )
            ).label("approved"),
            (
                -func.sum(
                    case(
                        (
                            and_(Account.code == CASH, effective_kind() == EntryKind.DISBURSEMENT),
                            Posting.usd_minor,
                        ),
                        else_=0,
                    )
                )
            ).label("disbursed"),
            (-func.sum(case((Account.code == GRANTS_PAYABLE, Posting.usd_minor), else_=0))).label(
                "remaining"
            ),
        )
        .where(Posting.project_id.is_not(None), Entry.entry_date <= end)
        .group_by(Posting.project_id)
        .subquery("money")
    )
    listed = (
        select(ProjectBeneficiary.project_id, func.count().label("listed"))
        .group_by(ProjectBeneficiary.project_id)
        .subquery("listed")
    )
    open_status = Project.status.not_in((ProjectStatus.COMPLETED.value, ProjectStatus.CANCELLED.value))
    late = and_(
        open_status,
        or_(and_(Project.actual_start.is_(None), Project.planned_start < today), Project.planned_end < today),
    )
    result = db.session.execute(
        select(
            Project.title,
            Project.partner,
            Project.country_code,
            Project.focus,
            Project.status,
            Project.planned_start,
            Project.planned_end,
            Project.actual_start,
            Project.actual_end,
            func.coalesce(money.c.approved, 0),
            func.coalesce(money.c.disbursed, 0),
            func.coalesce(money.c.remaining, 0),
            func.coalesce(listed.c.listed, 0),
            case((late, 1), else_=0),
        )
        .outerjoin(money, money.c.project_id == Project.id)
        .outerjoin(listed, listed.c.project_id == Project.id)
        .where(Project.approved_on <= end)
        .order_by(Project.approved_on, Project.id)
    ).all()
    projects = []
    for row in result:
        item = dict(zip(PROJECT_KEYS, row, strict=True))
        for name in ("approved", "disbursed", "remaining"):
            item[name] = cents(item[name])
        item["behind_schedule"] = bool(item["behind_schedule"])
        projects.append(item)
    return projects


def services_by_type(user: Any, filters: VictimFilters) -> list[tuple[str, int]]:
    """How many services of each type the victims in scope were referred to or received."""
    counts = dict(
        db.session.execute(
            select(Assistance.service_type, func.count())
            .join(Victim, Victim.id == Assistance.victim_id)
            .where(*_victim_conditions(user, filters, consented_only=False))
            .group_by(Assistance.service_type)
        ).all()
    )
    return [(t.label, int(counts.get(t.value, 0))) for t in ServiceType]


# --- assistance --------------------------------------------------------------------------------

ASSISTANCE_GROUPS = {
    "type": _l("service type"),
    "provider": _l("provider"),
    "country": _l("country"),
    "mission": _l("mission"),
    "year": _l("year of referral"),
}


def year_of(day: Any) -> ColumnElement[str]:
    if _dialect() == "postgresql":
        return func.to_char(day, "YYYY")
    return func.strftime("%Y", day)


def _assistance_group(by: str) -> ColumnElement[Any]:
    return {
        "type": Assistance.service_type,
        "provider": func.coalesce(Assistance.provider, "not recorded"),
        "country": Victim.country_code,
        "mission": func.coalesce(Victim.mission, "—"),
        "year": func.coalesce(year_of(Assistance.referral_date), "no referral date"),
    }[by]


def _medians(
    group: ColumnElement[Any] | None, days: ColumnElement[Any], conditions: list[Any]
) -> dict[Any, tuple[Decimal, int]]:
    """Median of `days` per group (or over everything when `group` is None), in SQL: number the
    values within each group, then average the one or two in the middle.
    Returns {group: (median, how many values)}; the key is "all" without a group."""
    key = group if group is not None else literal_column("'all'")
    numbered = (
        select(
            key.label("g"),
            days.label("d"),
            func.row_number().over(partition_by=group, order_by=days).label("rn"),
            func.count().over(partition_by=group).label("n"),
        )
        .select_from(Assistance)
        .join(Victim, Victim.id == Assistance.victim_id)
        .where(*conditions, days.is_not(None))
        .subquery("numbered")
    )
    middle = numbered.c.rn.in_([(numbered.c.n + 1) // 2, (numbered.c.n + 2) // 2])
    rows = db.session.execute(
        select(numbered.c.g, func.avg(numbered.c.d), func.max(numbered.c.n))
        .where(middle)
        .group_by(numbered.c.g)
    ).all()
    return {g: (Decimal(str(m)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP), int(n)) for g, m, n in rows}


@dataclass(frozen=True)
class AssistanceReport:
    by: str
    table: SuppressedTable  # rows: the groups; columns: statuses (counts of services)
    referral_to_start: list[Decimal | None]  # median days per row, None if hidden or no data
    start_to_end: list[Decimal | None]
    overall_referral_to_start: Decimal | None
    overall_start_to_end: Decimal | None


def assistance_report(user: Any, filters: VictimFilters, *, by: str = "type") -> AssistanceReport:
    """Services grouped by type, provider, country, mission or year of referral, against their
    status; median days from referral to start and from start to completion. Fund managers and
    auditors get consenting victims only, small counts suppressed, medians of fewer than the
    threshold hidden."""
    if by not in ASSISTANCE_GROUPS:
        raise ValueError(f"unknown grouping {by!r}")
    aggregate = not sees_rows(user)
    limit = threshold() if aggregate else 1
    conditions = _victim_conditions(user, filters, consented_only=aggregate)
    group = _assistance_group(by)
    counts = db.session.execute(
        select(group, Assistance.status, func.count())
        .select_from(Assistance)
        .join(Victim, Victim.id == Assistance.victim_id)
        .where(*conditions)
        .group_by(group, Assistance.status)
    ).all()
    keys = sorted({str(g) for g, _, _ in counts})
    if by == "type":
        order = [t.value for t in ServiceType]
        keys.sort(key=lambda k: order.index(k) if k in order else len(order))
    statuses = list(ServiceStatus)
    grid = {(str(g), s): int(n) for g, s, n in counts}
    type_values = {t.value for t in ServiceType}
    labels = [ServiceType(k).label if by == "type" and k in type_values else k for k in keys]
    table = suppress(
        labels,
        [s.label for s in statuses],
        [[grid.get((k, s.value), 0) for s in statuses] for k in keys],
        threshold=limit,
    )
    to_start = _medians(group, days_between(Assistance.start_date, Assistance.referral_date), conditions)
    to_end = _medians(group, days_between(Assistance.end_date, Assistance.start_date), conditions)
    everyone = literal("all")
    overall_start = _medians(
        everyone, days_between(Assistance.start_date, Assistance.referral_date), conditions
    )
    overall_end = _medians(everyone, days_between(Assistance.end_date, Assistance.start_date), conditions)

    def shown(found: tuple[Decimal, int] | None) -> Decimal | None:
        return found[0] if found is not None and found[1] >= limit else None

    return AssistanceReport(
        by=by,
        table=table,
        referral_to_start=[shown(to_start.get(k)) for k in keys],
        start_to_end=[shown(to_end.get(k)) for k in keys],
        overall_referral_to_start=shown(overall_start.get("all")),
        overall_start_to_end=shown(overall_end.get("all")),
    )


def assistance_export_rows(report: AssistanceReport) -> list[list[Any]]:
    rows = aggregate_export_rows(report.table)
    for row, to_start, to_end in zip(rows, report.referral_to_start, report.start_to_end, strict=False):
        row += [to_start, to_end]
    rows[-1] += [report.overall_referral_to_start, report.overall_start_to_end]
    return rows


# --- allegation clock --------------------------------------------------------------------------

CLOCK_STATES = [
    ("on_time", _l("on time")),
    ("late", _l("late")),
    ("due", _l("open, within the limit")),
    ("overdue", _l("open, overdue")),
    ("waiting", _l("waiting for an earlier step")),
    ("not_applicable", _l("not applicable")),
]


@dataclass(frozen=True)
class ClockRow:
    step: str
    label: str
    limit: str
    counts: list[int | None]  # in CLOCK_STATES order; None: suppressed
    allegations: int
    average_days: Decimal | None  # completed steps, from the step they are counted from


@dataclass(frozen=True)
class ClockReport:
    rows: list[ClockRow]
    allegations: int
    threshold: int


def _deadline(start: Any, amount: ColumnElement[Any], unit: str) -> ColumnElement[Any]:
    """`start` plus `amount` days or calendar months (clamped to the month's end, like the
    allegations service's add_months), in SQL."""
    amount = cast(amount, Integer)
    if _dialect() == "postgresql":
        if unit == "months":
            return cast(start + func.make_interval(0, amount), Date)
        return start + amount
    if unit == "months":
        plain = func.date(start, literal("+") + cast(amount, String) + literal(" months"))
        month_end = func.date(
            start, "start of month", literal("+") + cast(amount + 1, String) + literal(" months"), "-1 day"
        )
        return func.min(plain, month_end)
    return func.date(start, literal("+") + cast(amount, String) + literal(" days"))


def _limit_text(rule: ClockRule) -> str:
    text = f"{rule.amount} {rule.unit}"
    if rule.reduced_amount is not None and rule.reduced_from:
        text += f" ({rule.reduced_amount} {rule.unit} if {Urgency(rule.reduced_from).label} or more urgent)"
    return text


def clock_report(user: Any, filters: VictimFilters, *, today: date | None = None) -> ClockReport:
    """For each step of the allegation clock: how many allegations met the limit, missed it, are
    open within it or overdue; the average days taken against the prescribed limit. Fund managers
    and auditors get each line suppressed (small counts hidden, with a complement)."""
    today = today or date.today()
    conditions: list[ColumnElement[bool]] = [
        scope_filter(
            user,
            Allegation.country_code,
            Allegation.mission,
            record_type="allegation",
            id_column=Allegation.id,
        )
    ]
    if filters.country_code:
        conditions.append(Allegation.country_code == filters.country_code.upper())
    if filters.mission:
        conditions.append(Allegation.mission == filters.mission)
    if filters.year:
        conditions.append(Allegation.received_on >= date(filters.year, 1, 1))
        conditions.append(Allegation.received_on < date(filters.year + 1, 1, 1))
    limit = 1 if sees_rows(user) else threshold()
    rows = []
    total = int(db.session.scalar(select(func.count()).select_from(Allegation).where(*conditions)) or 0)
    for rule in db.session.scalars(select(ClockRule).order_by(ClockRule.position)):
        done = getattr(Allegation, f"{rule.step}_on")
        start = getattr(Allegation, f"{rule.starts_from}_on")
        amount: ColumnElement[Any] = literal(rule.amount)
        if rule.reduced_amount is not None and rule.reduced_from:
            urgent = [u.value for u in Urgency if u.rank >= Urgency(rule.reduced_from).rank]
            amount = case((Allegation.urgency.in_(urgent), rule.reduced_amount), else_=rule.amount)
        due = _deadline(start, amount, rule.unit)
        categories = [c for c in rule.applies_to.split(",") if c]
        applies = Allegation.personnel_category.in_(categories) if categories else literal(True)
        started = and_(applies, start.is_not(None))
        states = {
            "on_time": and_(started, done.is_not(None), done <= due),
            "late": and_(started, done.is_not(None), done > due),
            "due": and_(started, done.is_(None), literal(today, Date) <= due),
            "overdue": and_(started, done.is_(None), literal(today, Date) > due),
            "waiting": and_(applies, start.is_(None)),
            "not_applicable": ~applies if categories else literal(False),
        }
        completed = and_(started, done.is_not(None))
        figures = db.session.execute(
            select(
                *[func.coalesce(func.sum(case((states[k], 1), else_=0)), 0) for k, _ in CLOCK_STATES],
                func.avg(case((completed, days_between(done, start)), else_=None)),
                func.coalesce(func.sum(case((completed, 1), else_=0)), 0),
            ).where(*conditions)
        ).one()
        counts = [int(n) for n in figures[: len(CLOCK_STATES)]]
        average, finished = figures[-2], int(figures[-1])
        rows.append(
            ClockRow(
                step=rule.step,
                label=STEP_LABELS[Step(rule.step)],
                limit=_limit_text(rule),
                counts=suppress_line(counts, threshold=limit),
                allegations=total,
                average_days=(
                    Decimal(str(average)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
                    if average is not None and finished >= limit
                    else None
                ),
            )
        )
    return ClockReport(rows=rows, allegations=total, threshold=limit)


# --- paternity and child-support claims ------------------------------------------------------


def _least(*values: Any) -> ColumnElement[Any]:
    """The smallest of the values (SQLite's scalar min, PostgreSQL's least)."""
    return func.least(*values) if _dialect() == "postgresql" else func.min(*values)


def _date_part(part: str, day: Any) -> ColumnElement[int]:
    if _dialect() == "postgresql":
        return cast(func.extract(part, day), Integer)
    return cast(func.strftime({"year": "%Y", "month": "%m", "day": "%d"}[part], day), Integer)


def _next_day(day: Any) -> ColumnElement[Any]:
    return cast(day + 1, Date) if _dialect() == "postgresql" else func.date(day, "+1 day")


def _previous_day(day: Any) -> ColumnElement[Any]:
    return cast(day - 1, Date) if _dialect() == "postgresql" else func.date(day, "-1 day")


def _instalments_due(start: Any, until: Any, frequency: Any) -> ColumnElement[int]:
    """How many instalments of an order fall due from `start` up to `until`: one on `start` for a
    lump sum; otherwise one every N months on the start's day of the month (clamped to the end of
    shorter months, as the claims service's schedule does)."""
    months = (_date_part("year", until) * 12 + _date_part("month", until)) - (
        _date_part("year", start) * 12 + _date_part("month", start)
    )
    reaches_day = or_(
        _date_part("day", start) <= _date_part("day", until), _date_part("day", _next_day(until)) == 1
    )
    last_index = months - case((reaches_day, 0), else_=1)
    step = case(
        *[(frequency == f.value, f.months) for f in Frequency if f.months],
        else_=1,
    )
    return case(
        (start > until, 0),
        (frequency == Frequency.ONCE.value, 1),
        (last_index < 0, 0),
        else_=last_index // step + 1,
    )


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


def _claim_conditions(
    user: Any, filters: VictimFilters, *, consented_only: bool
) -> list[ColumnElement[bool]]:
    conditions = _victim_conditions(user, replace(filters, year=None), consented_only=consented_only)
    if filters.year:
        conditions.append(Claim.opened_on >= date(filters.year, 1, 1))
        conditions.append(Claim.opened_on < date(filters.year + 1, 1, 1))
    return conditions


def claims_report(user: Any, filters: VictimFilters, *, today: date | None = None) -> ClaimsReport:
    """Claims by member state and step; open claims by age; member states' silence (days since
    the first letter they have not answered); child-support due, received and in arrears.
    `filters.year` is the year a claim was opened. Aggregate roles: consenting victims only,
    suppressed."""
    today = today or date.today()
    aggregate = not sees_rows(user)
    limit = threshold() if aggregate else 1
    conditions = _claim_conditions(user, filters, consented_only=aggregate)

    def claims(*columns: Any) -> Select[Any]:
        return (
            select(*columns).select_from(Claim).join(Victim, Victim.id == Claim.victim_id).where(*conditions)
        )

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

    is_open = Claim.step != ClaimStep.CLOSED.value
    age = days_between(literal(today, Date), Claim.opened_on)
    buckets = [*AGE_BUCKETS, (None, "over 2 years")]
    bucket = case(*[(age <= limit_days, label) for limit_days, label in AGE_BUCKETS], else_="over 2 years")
    ages = dict(db.session.execute(claims(bucket, func.count()).where(is_open).group_by(bucket)).all())
    age_counts = [int(ages.get(label, 0)) for _, label in buckets]
    by_age = list(
        zip([label for _, label in buckets], suppress_line(age_counts, threshold=limit), strict=True)
    )

    waiting = _waiting_by_state(claims, is_open, today, limit)
    arrears = _arrears_by_currency(claims, today, limit)
    return ClaimsReport(by_state=by_state, by_age=by_age, waiting=waiting, arrears=arrears, threshold=limit)


def _waiting_by_state(claims: Any, is_open: Any, today: date, limit: int) -> list[WaitingLine]:
    """The first sent letter after the last reply (by date, then by the order recorded) starts the
    wait, as in the claims service."""
    replies = (
        select(
            Letter.claim_id,
            Letter.dated_on,
            Letter.id,
            func.row_number()
            .over(partition_by=Letter.claim_id, order_by=(Letter.dated_on.desc(), Letter.id.desc()))
            .label("rn"),
        )
        .where(Letter.direction == LetterDirection.RECEIVED.value)
        .subquery("replies")
    )
    last_reply = (
        select(replies.c.claim_id, replies.c.dated_on, replies.c.id).where(replies.c.rn == 1).subquery()
    )
    sent = aliased(Letter)
    since = (
        select(sent.claim_id.label("claim_id"), func.min(sent.dated_on).label("since"))
        .outerjoin(last_reply, last_reply.c.claim_id == sent.claim_id)
        .where(
            sent.direction == LetterDirection.SENT.value,
            or_(
                last_reply.c.claim_id.is_(None),
                sent.dated_on > last_reply.c.dated_on,
                and_(sent.dated_on == last_reply.c.dated_on, sent.id > last_reply.c.id),
            ),
        )
        .group_by(sent.claim_id)
        .subquery("since")
    )
    days = days_between(literal(today, Date), since.c.since)
    rows = db.session.execute(
        claims(
            Claim.member_state,
            func.count(),
            func.count(since.c.since),
            func.max(case((days > 0, days), else_=0)),
        )
        .outerjoin(since, since.c.claim_id == Claim.id)
        .where(is_open)
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


def _arrears_by_currency(claims: Any, today: date, limit: int) -> list[ArrearsLine]:
    ends = func.lead(SupportOrder.starts_on).over(
        partition_by=SupportOrder.claim_id, order_by=(SupportOrder.starts_on, SupportOrder.ordered_on)
    )
    orders = select(
        SupportOrder.claim_id,
        SupportOrder.currency,
        type_coerce(SupportOrder.amount, BigInteger).label("amount"),
        SupportOrder.frequency,
        SupportOrder.starts_on,
        SupportOrder.ends_on,
        ends.label("next_start"),
    ).subquery("orders")
    today_value = literal(today, Date)
    until = _least(
        today_value,
        func.coalesce(orders.c.ends_on, today_value),
        func.coalesce(_previous_day(orders.c.next_start), today_value),
    )
    due = (
        select(
            orders.c.claim_id,
            orders.c.currency,
            cast(
                func.sum(_instalments_due(orders.c.starts_on, until, orders.c.frequency) * orders.c.amount),
                BigInteger,
            ).label("due"),
        )
        .group_by(orders.c.claim_id, orders.c.currency)
        .subquery("due")
    )
    received = (
        select(
            Payment.claim_id,
            Payment.currency,
            cast(func.sum(type_coerce(Payment.amount, BigInteger)), BigInteger).label("received"),
        )
        .group_by(Payment.claim_id, Payment.currency)
        .subquery("received")
    )
    balance = func.coalesce(due.c.due, 0) - func.coalesce(received.c.received, 0)
    rows = db.session.execute(
        claims(
            due.c.currency,
            func.sum(func.coalesce(due.c.due, 0)),
            func.sum(func.coalesce(received.c.received, 0)),
            func.sum(case((balance > 0, 1), else_=0)),
            func.count(),
        )
        .join(due, due.c.claim_id == Claim.id)
        .outerjoin(received, and_(received.c.claim_id == Claim.id, received.c.currency == due.c.currency))
        .group_by(due.c.currency)
        .order_by(due.c.currency)
    ).all()
    lines = []
    for currency, due_minor, received_minor, in_arrears, with_orders in rows:
        hidden = int(with_orders) < limit
        lines.append(
            ArrearsLine(
                currency=currency,
                due=None if hidden else cents(due_minor),
                received=None if hidden else cents(received_minor),
                arrears=None if hidden else cents(due_minor) - cents(received_minor),
                claims_in_arrears=suppress_line([int(in_arrears)], threshold=limit)[0]
                if not hidden
                else None,
            )
        )
    return lines


# --- the few numbers that matter to each role ---------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """The figures on the reports landing page (and for a role's dashboard)."""

    headline: Headline
    aggregate: bool
    overdue_steps: int | None  # allegation steps past their limit and not done (None: suppressed)
    waiting_on_member_states: int | None  # open claims with a letter unanswered
    fund: FundStatement | None  # this year to date, for those who read the ledger


def summary(user: Any, *, reads_ledger: bool, today: date | None = None) -> Summary:
    today = today or date.today()
    aggregate = not sees_rows(user)
    figures = (
        aggregate_support(user, VictimFilters()).headline
        if aggregate
        else headline(user, VictimFilters(), money=False)
    )
    clock = clock_report(user, VictimFilters(), today=today)
    overdue_at = [k for k, _ in CLOCK_STATES].index("overdue")
    overdue = [row.counts[overdue_at] for row in clock.rows]
    waiting = [line.waiting for line in claims_report(user, VictimFilters(), today=today).waiting]
    fund = None
    if reads_ledger:
        fund = fund_statement(
            date(today.year, 1, 1), today, today=today, small_counts_below=threshold() if aggregate else 1
        )
    return Summary(
        headline=figures,
        aggregate=aggregate,
        overdue_steps=None if any(n is None for n in overdue) else sum(n for n in overdue if n is not None),
        waiting_on_member_states=None if any(n is None for n in waiting) else sum(n for n in waiting if n),
        fund=fund,
    )


# --- query-set-size control for those who see only aggregates (S13) ------------------------------
# A report's population cube: how many units fall in each combination of the filterable dimensions
# (country, mission, year, sex, minor), with the same meaning as the filters' SQL conditions.


def _minor_flag(age_group: Any) -> ColumnElement[Any]:
    """1 for minors, 0 for everyone else with an age group (the `minor=False` filter), NULL if none."""
    return case((age_group == AgeGroup.MINOR.value, 1), (age_group.is_not(None), 0), else_=None)


def _cube(
    columns: list[Any], select_from: Any, conditions: list[Any], join: Any = None
) -> dict[Setting, int]:
    query = select(*columns, func.count()).select_from(select_from)
    if join is not None:
        query = query.join(*join)
    rows = db.session.execute(query.where(*conditions).group_by(*columns)).all()
    cube: dict[Setting, int] = {}
    for *key, n in rows:
        country, mission, year, sex, minor = (*key, None, None)[:5]
        setting = (country, mission, int(year) if year else None, sex, None if minor is None else int(minor))
        cube[setting] = cube.get(setting, 0) + int(n)
    return cube


def victim_cube(user: Any) -> dict[Setting, int]:
    """Consenting victims in scope, by country, mission, year registered, sex and minor."""
    columns = [
        Victim.country_code,
        Victim.mission,
        year_of(Victim.registered_on),
        Victim.sex,
        _minor_flag(Victim.age_group),
    ]
    return _cube(columns, Victim, _victim_conditions(user, VictimFilters(), consented_only=True))


def claim_cube(user: Any) -> dict[Setting, int]:
    """Claims of consenting victims in scope, by the victim's country, mission, sex and minor and
    the year the claim was opened."""
    columns = [
        Victim.country_code,
        Victim.mission,
        year_of(Claim.opened_on),
        Victim.sex,
        _minor_flag(Victim.age_group),
    ]
    conditions = _claim_conditions(user, VictimFilters(), consented_only=True)
    return _cube(columns, Claim, conditions, join=(Victim, Victim.id == Claim.victim_id))


def allegation_cube(user: Any) -> dict[Setting, int]:
    """Allegations in scope, by country, mission and year received."""
    columns = [Allegation.country_code, Allegation.mission, year_of(Allegation.received_on)]
    scope = scope_filter(
        user, Allegation.country_code, Allegation.mission, record_type="allegation", id_column=Allegation.id
    )
    return _cube(columns, Allegation, [scope])


POPULATIONS = {"victims": victim_cube, "claims": claim_cube, "allegations": allegation_cube}


def filter_setting(filters: VictimFilters) -> Setting:
    minor = None if filters.minor is None else int(filters.minor)
    return (
        filters.country_code.upper() or None,
        filters.mission or None,
        filters.year,
        filters.sex or None,
        minor,
    )


def too_few_to_show_for(user: Any, filters: VictimFilters, population: str) -> bool:
    """Whether an aggregate-only viewer is refused this filter setting: it matches fewer than the
    threshold, or it could be subtracted from a coarser report to show fewer than the threshold
    (see suppression.too_few_to_show). Advocates see their rows anyway: never refused."""
    setting = filter_setting(filters)
    if sees_rows(user) or all(value is None for value in setting):
        return False
    return too_few_to_show(POPULATIONS[population](user), setting, threshold())


def victims_count(user: Any, filters: VictimFilters, *, consented_only: bool = False) -> int:
    """How many victims a per-victim export holds (for its audit row and its progress bar)."""
    conditions = _victim_conditions(user, filters, consented_only=consented_only)
    return int(db.session.scalar(select(func.count()).select_from(Victim).where(*conditions)) or 0)
