"""Amounts read in bulk: the reports turn many minor-unit sums into Decimals at once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Select, case, cast, func, select
from sqlalchemy.orm import aliased

from ledger.engine import EntryKind
from ledger.models import Account, Currency, Entry, Posting
from vat.db import db

original = aliased(Entry)  # the entry a reversal reverses


def exponents() -> dict[str, int]:
    """Decimal places per currency code (one query, whatever currencies a page holds)."""
    return {code: places for code, places in db.session.execute(select(Currency.code, Currency.exponent))}


def summed(minor: Any) -> ColumnElement[int]:
    """A sum of minor units as an integer (PostgreSQL sums bigints as numeric)."""
    return cast(func.sum(minor), BigInteger)


def effective_kind() -> ColumnElement[str]:
    """A reversal counts under the kind of the entry it reverses, so every sum nets it out."""
    return case((Entry.kind == EntryKind.REVERSAL, original.kind), else_=Entry.kind)


def postings(*columns: Any) -> Select[Any]:
    """`columns` over the postings with their entry, the entry it reverses and their account."""
    return (
        select(*columns)
        .select_from(Posting)
        .join(Entry, Entry.id == Posting.entry_id)
        .outerjoin(original, original.id == Entry.reverses_id)
        .join(Account, Account.id == Posting.account_id)
    )
