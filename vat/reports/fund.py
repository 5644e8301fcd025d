"""The fund statement: income, expenses and balances for a period, pledges, withheld payments and
the project portfolio as at its end."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, and_, case, cast, func, or_, select

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
from vat.db import db
from vat.reports.fund_money import effective_kind, original, postings
from vat.reports.scope import cents
from vat.reports.sql import month_of


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


def _income(
    sums: _PeriodSums, accounts: dict[str, Any], donors: Sequence[Any]
) -> list[tuple[str, str, Decimal]]:
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


@dataclass(frozen=True)
class _SubLedger:
    """A receivable the fund keeps per `group`: what `origin` entries put on it and `settlement`
    entries bring in as cash, over the postings `of` selects."""

    group: Any
    of: ColumnElement[bool]
    receivable: str
    origin: str
    settlement: str


PLEDGES = _SubLedger(
    Posting.donor_id, Posting.donor_id.is_not(None), PLEDGES_RECEIVABLE, EntryKind.PLEDGE, EntryKind.RECEIPT
)
WITHHOLDINGS = _SubLedger(
    Posting.country_code,
    Posting.withholding_id.is_not(None),
    WITHHELD_RECEIVABLE,
    EntryKind.WITHHOLDING,
    EntryKind.WITHHELD_TRANSFER,
)


def _sub_ledger_balances(
    end: date, accounts: dict[str, Any], ledger: _SubLedger
) -> dict[Any, tuple[Decimal, Decimal, Decimal]]:
    """Per value of the sub-ledger's group as at `end`, in US dollars: what its origin entries put
    on its receivable account, the cash its settlement entries brought in, and the receivable's
    balance (reversals counted under the kind they reverse). In the order of the group."""
    group, receivable = ledger.group, ledger.receivable
    receivable_id, cash_id = accounts[receivable].id, accounts[CASH].id
    kind = effective_kind()

    def amount(condition: Any) -> ColumnElement[int]:
        return _minor_sum(case((condition, Posting.usd_minor), else_=0))

    rows = db.session.execute(
        select(
            group,
            amount(and_(Posting.account_id == receivable_id, kind == ledger.origin)),
            amount(and_(Posting.account_id == cash_id, kind == ledger.settlement)),
            amount(Posting.account_id == receivable_id),
        )
        .select_from(Posting)
        .join(Entry, Entry.id == Posting.entry_id)
        .outerjoin(original, original.id == Entry.reverses_id)
        .where(Entry.entry_date <= end, Posting.account_id.in_((receivable_id, cash_id)), ledger.of)
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
    by_donor = _sub_ledger_balances(end, accounts, PLEDGES)
    by_country = _sub_ledger_balances(end, accounts, WITHHOLDINGS)
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

    def credited(condition: ColumnElement[bool]) -> ColumnElement[Any]:
        return -func.sum(case((condition, Posting.usd_minor), else_=0))

    money = (
        postings(
            Posting.project_id.label("project_id"),
            credited(
                and_(Account.code == GRANTS_PAYABLE, effective_kind() == EntryKind.GRANT_APPROVAL)
            ).label("approved"),
            credited(and_(Account.code == CASH, effective_kind() == EntryKind.DISBURSEMENT)).label(
                "disbursed"
            ),
            credited(Account.code == GRANTS_PAYABLE).label("remaining"),
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
