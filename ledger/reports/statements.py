"""The trial balance and the fund statement: the one definition of the fund's income, expenses,
cash and fund balance, read from the balances the engine keeps (ledger.balances).

Income is what the revenue accounts were credited with (voluntary contributions by donor,
withheld payments by contributing country, realised exchange differences and rounding); expenses
what the expense accounts were debited with; the fund balance is the net assets (the revenue,
expense and fund-balance accounts, credit positive), which is cash and receivables less what is
payable; cash is the bank account's balance. The dashboard, the ledger's overview and statement,
and the fund report with its exports all show these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, select

from ledger import engine
from ledger.balances import balances, summed
from ledger.engine import cents
from ledger.labels import donor_name
from ledger.models import Account, AccountType, Donor
from ledger.reports.donor_figures import donor_figures
from ledger.services.grants import programme_support, psc_rate
from vat.db import db


@dataclass
class BalanceRow:
    account: Any  # the account's id, code, name and type
    debit: Decimal
    credit: Decimal

    @property
    def balance(self) -> Decimal:
        return self.debit - self.credit


def trial_balance(as_of: date | None = None) -> list[BalanceRow]:
    """Every account's US-dollar debits and credits (to `as_of`, inclusive)."""
    kept = balances(end=as_of)
    sums = {
        account_id: (debit, total - debit)
        for account_id, debit, total in db_rows(
            select(kept.c.account_id, summed(kept.c.usd_debit_minor), summed(kept.c.usd_minor)).group_by(
                kept.c.account_id
            )
        )
    }
    rows = []
    for account in db_rows(
        select(Account.id, Account.code, Account.name, Account.type).order_by(Account.code)
    ):
        debit, credit = sums.get(account.id, (0, 0))
        rows.append(BalanceRow(account, cents(debit), -cents(credit)))
    return rows


def db_rows(query: Any) -> list[Any]:
    return list(db.session.execute(query))


# The accounts whose balance is the fund balance (net assets), credit positive.
FUND_BALANCE_TYPES = (AccountType.REVENUE.value, AccountType.EXPENSE.value, AccountType.NET_ASSETS.value)
EXCHANGE_ACCOUNTS = (engine.EXCHANGE_DIFFERENCES, engine.ROUNDING)
EXPENSES = (
    (engine.GRANT_EXPENSE, _l("Project grants")),
    (engine.VICTIM_SUPPORT, _l("Direct support to victims")),
    (engine.PROGRAMME_SUPPORT, _l("Programme support cost")),
)


@dataclass
class FundFlows:
    """The fund's income and expenses for the days from `start` (since inception when None) to
    `end`, in US dollars, between its balances at either end: the statement without the positions
    as at `end` (what the dashboard shows of it)."""

    start: date | None
    end: date
    opening_balance: Decimal  # the fund balance at the start
    closing_balance: Decimal  # the fund balance at the end
    opening_cash: Decimal
    closing_cash: Decimal
    voluntary: list[tuple[str, Decimal]]  # income: contributions by donor
    withheld_income: list[tuple[str, Decimal]]  # income: withheld payments by contributing country
    exchange: Decimal  # income: realised exchange differences and rounding
    expenses: list[tuple[Any, Decimal]]  # (category, amount)
    months: list[tuple[str, Decimal, Decimal]]  # month, income, spending

    @property
    def income(self) -> list[tuple[Any, str, Decimal]]:
        """(category, source, amount): by donor, by contributing country, exchange differences."""
        lines: list[tuple[Any, str, Decimal]] = [
            *((_l("Voluntary contributions"), donor, amount) for donor, amount in self.voluntary),
            *((_l("Withheld payments"), country, amount) for country, amount in self.withheld_income),
        ]
        if self.exchange:
            lines.append((_l("Realised exchange differences and rounding"), "", self.exchange))
        return lines

    @property
    def total_income(self) -> Decimal:
        return sum((amount for _, _, amount in self.income), Decimal(0))

    @property
    def total_expenses(self) -> Decimal:
        return sum((amount for _, amount in self.expenses), Decimal(0))

    @property
    def surplus(self) -> Decimal:
        """Income less expenses: what the period added to the fund balance."""
        return self.total_income - self.total_expenses


@dataclass
class FundStatement(FundFlows):
    """The fund's statement: its flows, and pledges, withheld payments and the position as at `end`."""

    pledges: list[tuple[str, Decimal, Decimal, Decimal]]  # donor, pledged, received, outstanding
    withheld: list[tuple[str, Decimal, Decimal, Decimal]]  # country, withheld, transferred, outstanding
    position: dict[str, Decimal]  # cash, commitments, psc_reserve, available
    psc_rate: Decimal


def _by_account(start: date | None, end: date | None) -> dict[int, int]:
    kept = balances(start, end)
    return dict(db_rows(select(kept.c.account_id, summed(kept.c.usd_minor)).group_by(kept.c.account_id)))


def fund_balance(as_of: date | None = None) -> Decimal:
    """The fund balance (net assets) at the end of `as_of` (today when None), in US dollars: the
    figure the dashboard, the ledger's overview and the fund statement show under that name."""
    in_fund = {id_ for id_, type_ in db_rows(select(Account.id, Account.type)) if type_ in FUND_BALANCE_TYPES}
    return _fund_total(_by_account(None, as_of or date.today()), in_fund)


def _fund_total(sums: dict[int, int], in_fund: set[int]) -> Decimal:
    return -cents(sum(minor for account, minor in sums.items() if account in in_fund))


def fund_statement(start: date | None = None, end: date | None = None) -> FundStatement:
    """The statement for [start, end] (since inception to today by default): a few grouped reads
    of the balances, whatever the number of postings."""
    end = end or date.today()
    flows, ids, donors, to_end = _flows(start, end)
    commitments = -cents(to_end.get(ids[engine.GRANTS_PAYABLE], 0))
    reserve = programme_support(commitments)
    return FundStatement(
        **vars(flows),
        pledges=_pledges(end, donors),
        withheld=_withheld(end, ids),
        position={
            "cash": flows.closing_cash,
            "commitments": commitments,
            "psc_reserve": reserve,
            "available": flows.closing_cash - commitments - reserve,
        },
        psc_rate=psc_rate(),
    )


def fund_flows(start: date | None = None, end: date | None = None) -> FundFlows:
    """The statement's income, expenses and balances for [start, end], without its positions as at
    `end`: its closing balance is `fund_balance(end)`."""
    return _flows(start, end or date.today())[0]


def _flows(start: date | None, end: date) -> tuple[FundFlows, dict[str, int], dict[int, str], dict[int, int]]:
    """The flows, the accounts' ids by code, the donors' names by id and the balances at the end
    by account (minor units)."""
    accounts = {a.code: a for a in db_rows(select(Account.id, Account.code, Account.type))}
    ids = {code: a.id for code, a in accounts.items()}
    in_fund = {a.id for a in accounts.values() if a.type in FUND_BALANCE_TYPES}
    before = _by_account(None, _day_before(start)) if start else {}
    to_end = _by_account(None, end)
    during = {k: v - before.get(k, 0) for k, v in to_end.items()}
    kept = balances(start, end)
    donors = {d.id: donor_name(d) for d in db.session.scalars(select(Donor))}
    voluntary = _credits(kept, kept.c.donor_id, ids[engine.CONTRIBUTIONS])
    withheld = _credits(kept, kept.c.country_code, ids[engine.WITHHELD_INCOME])
    flows = FundFlows(
        start=start,
        end=end,
        opening_balance=_fund_total(before, in_fund),
        closing_balance=_fund_total(to_end, in_fund),
        opening_cash=cents(before.get(ids[engine.CASH], 0)),
        closing_cash=cents(to_end.get(ids[engine.CASH], 0)),
        voluntary=sorted(((donors.get(d, "—"), v) for d, v in voluntary.items()), key=_by_name),
        withheld_income=sorted(((c or "—", v) for c, v in withheld.items()), key=_by_name),
        exchange=-cents(sum(during.get(ids[code], 0) for code in EXCHANGE_ACCOUNTS)),
        expenses=[(label, cents(during[ids[code]])) for code, label in EXPENSES if during.get(ids[code])],
        months=_months(kept, accounts),
    )
    return flows, ids, donors, to_end


def _by_name(line: tuple[str, Decimal]) -> str:
    return line[0]


def _day_before(day: date) -> date:
    return date.fromordinal(day.toordinal() - 1)


def _credits(kept: Any, group: Any, account_id: int) -> dict[Any, Decimal]:
    """What `account_id` was credited with in the range, per value of `group`."""
    query = select(group, summed(kept.c.usd_minor)).where(kept.c.account_id == account_id).group_by(group)
    return {key: -cents(minor) for key, minor in db_rows(query)}


def _months(kept: Any, accounts: dict[str, Any]) -> list[tuple[str, Decimal, Decimal]]:
    """Income and spending per month of the range, for months with either."""
    revenue = [a.id for a in accounts.values() if a.type == AccountType.REVENUE.value]
    expense = [a.id for a in accounts.values() if a.type == AccountType.EXPENSE.value]
    query = (
        select(kept.c.month, kept.c.account_id, summed(kept.c.usd_minor))
        .where(kept.c.account_id.in_(revenue + expense))
        .group_by(kept.c.month, kept.c.account_id)
    )
    months: dict[str, list[Decimal]] = {}
    for month, account_id, minor in db_rows(query):
        flows = months.setdefault(str(month)[:7], [Decimal(0), Decimal(0)])
        if account_id in expense:
            flows[1] += cents(minor)
        else:
            flows[0] -= cents(minor)
    return [(month, income, spent) for month, (income, spent) in sorted(months.items()) if income or spent]


def _pledges(end: date, donors: dict[int, str]) -> list[tuple[str, Decimal, Decimal, Decimal]]:
    """Per donor (by name) as at `end`: pledged, received and outstanding."""
    figures = donor_figures(end)
    return [
        (donors[donor], f.pledged, f.received, f.outstanding)
        for donor, f in sorted(figures.items(), key=lambda item: donors.get(item[0], ""))
        if donor in donors
    ]


def _withheld(end: date, ids: dict[str, int]) -> list[tuple[str, Decimal, Decimal, Decimal]]:
    """Per contributing country as at `end`: withheld, transferred and outstanding."""
    kept = balances(end=end)
    c = kept.c

    def total(condition: Any) -> Any:
        return summed(case_of(condition, c.usd_minor))

    query = (
        select(
            c.country_code,
            total(c.account_id == ids[engine.WITHHELD_INCOME]),
            total(c.account_id == ids[engine.CASH]),
            total(c.account_id == ids[engine.WITHHELD_RECEIVABLE]),
        )
        .where(c.allegation_ref != "")
        .group_by(c.country_code)
        .order_by(c.country_code)
    )
    return [(country, -cents(w), cents(t), cents(o)) for country, w, t, o in db_rows(query)]


def case_of(condition: Any, value: Any) -> Any:
    return case((condition, value), else_=0)
