"""Amounts read in bulk: the reports turn many minor-unit sums into Decimals at once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, ColumnElement, cast, func, select

from ledger.models import Currency
from vat.db import db


def exponents() -> dict[str, int]:
    """Decimal places per currency code (one query, whatever currencies a page holds)."""
    return {code: places for code, places in db.session.execute(select(Currency.code, Currency.exponent))}


def summed(minor: Any) -> ColumnElement[int]:
    """A sum of minor units as an integer (PostgreSQL sums bigints as numeric)."""
    return cast(func.sum(minor), BigInteger)
