"""The trial balance and the fund statement (income by source, expenses, the fund's position)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select

from ledger import engine
from ledger.engine import cents
from ledger.models import Account, Donor, Entry, Posting
from ledger.services.grants import fund_position, psc_rate
from vat.db import db


@dataclass
class BalanceRow:
    account: Any  # the account's id, code, name and type: a row, not an ORM object, to be kept
    debit: Decimal
    credit: Decimal

    @property
    def balance(self) -> Decimal:
        return self.debit - self.credit


def trial_balance(as_of: date | None = None) -> list[BalanceRow]:
    """Every account's US-dollar debits and credits (to `as_of`, inclusive)."""
    debit = func.coalesce(func.sum(Posting.usd_minor).filter(Posting.usd_minor > 0), 0)
    credit = func.coalesce(func.sum(Posting.usd_minor).filter(Posting.usd_minor < 0), 0)
    query = select(Posting.account_id, debit, credit).join(Entry).group_by(Posting.account_id)
    if as_of is not None:
        query = query.where(Entry.entry_date <= as_of)
    sums = {row[0]: (row[1], row[2]) for row in db.session.execute(query)}
    rows = []
    accounts = select(Account.id, Account.code, Account.name, Account.type).order_by(Account.code)
    for account in db.session.execute(accounts):
        d, c = sums.get(account.id, (0, 0))
        rows.append(BalanceRow(account, cents(d), -cents(c)))
    return rows


def fund_statement(start: date | None = None, end: date | None = None) -> dict[str, Any]:
    """Income by source (voluntary by donor, withheld by country), expenses by category with the
    programme support cost on its own line, and the fund balance."""

    def postings(code: str) -> Select[int]:
        query = (
            select(func.coalesce(func.sum(Posting.usd_minor), 0))
            .join(Entry)
            .where(Posting.account_id == engine.account_id(code))
        )
        if start:
            query = query.where(Entry.entry_date >= start)
        if end:
            query = query.where(Entry.entry_date <= end)
        return query

    def total(code: str) -> Decimal:
        return cents(db.session.scalar(postings(code)) or 0)

    def credits_by(code: str, group: Any) -> list[tuple[Any, Decimal]]:
        query = postings(code).add_columns(group).group_by(group)
        return [(key, -cents(value)) for value, key in db.session.execute(query)]

    donors = {d.id: d.name for d in db.session.scalars(select(Donor))}
    voluntary = sorted(
        ((donors.get(k, "—"), v) for k, v in credits_by(engine.CONTRIBUTIONS, Posting.donor_id) if v),
        key=lambda r: -r[1],
    )
    withheld = sorted(
        ((k or "—", v) for k, v in credits_by(engine.WITHHELD_INCOME, Posting.country_code) if v),
        key=lambda r: -r[1],
    )
    exchange = -(total(engine.EXCHANGE_DIFFERENCES) + total(engine.ROUNDING))
    income = sum((v for _, v in voluntary), Decimal(0)) + sum((v for _, v in withheld), Decimal(0)) + exchange
    expenses = [
        (_l("Project grants"), total(engine.GRANT_EXPENSE)),
        (_l("Direct support to victims"), total(engine.VICTIM_SUPPORT)),
        (_l("Programme support cost"), total(engine.PROGRAMME_SUPPORT)),
    ]
    spent = sum((v for _, v in expenses), Decimal(0))
    return {
        "voluntary": voluntary,
        "withheld": withheld,
        "exchange": exchange,
        "income": income,
        "expenses": expenses,
        "spent": spent,
        "surplus": income - spent,
        "position": fund_position(),
        "psc_rate": psc_rate(),
    }
