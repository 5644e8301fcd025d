"""The list of direct-support payments, narrowed by filters, with its totals per currency."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import aliased

from ledger.models import DirectSupport, Project
from ledger.reports.amounts import exponents
from vat.db import db


@dataclass(frozen=True)
class DirectSupportFilters:
    """What the direct-support list is narrowed to (hashable: it keys the list's kept totals)."""

    start: date | None = None
    end: date | None = None
    currency: str = ""
    country_code: str = ""
    case_code: str = ""


def direct_support_rows(filters: DirectSupportFilters) -> Select[Any]:
    """The payments matching `filters`, newest first (an index on (paid_on, id) serves the order);
    a payment awaiting a second fund manager's approval has no entry yet and is not listed."""
    query = (
        select(DirectSupport)
        .where(DirectSupport.entry_id.is_not(None))
        .order_by(DirectSupport.paid_on.desc(), DirectSupport.id.desc())
    )
    if filters.start:
        query = query.where(DirectSupport.paid_on >= filters.start)
    if filters.end:
        query = query.where(DirectSupport.paid_on <= filters.end)
    if filters.currency:
        query = query.where(DirectSupport.currency == filters.currency.upper())
    if filters.country_code:
        query = query.where(DirectSupport.country_code == filters.country_code)
    if filters.case_code:
        query = query.where(DirectSupport.case_code == filters.case_code.strip().upper())
    return query


def filter_values() -> tuple[list[str], list[str]]:
    """The currencies and the countries the listed payments are in: the filters' choices."""
    currencies = _values_of(DirectSupport.currency)
    return currencies, [c for c in _values_of(DirectSupport.country_code) if c]


def _values_of(column: Any) -> list[str]:
    """The distinct values of `column` among the listed payments, in order: each the least one
    after the one before, read from an index that starts with `column` and holds the entry (a seek
    per value, not a read of every payment: PostgreSQL does not skip through an index itself)."""
    first = select(func.min(column).label("value")).where(DirectSupport.entry_id.is_not(None))
    found = first.cte("found", recursive=True)
    later = aliased(DirectSupport)
    following = (
        select(func.min(getattr(later, column.key)))
        .where(getattr(later, column.key) > found.c.value, later.entry_id.is_not(None))
        .scalar_subquery()
    )
    values = found.union_all(select(following).where(found.c.value.is_not(None)))
    return list(db.session.scalars(select(values.c.value).where(values.c.value.is_not(None))))


def with_amounts(payments: list[DirectSupport]) -> list[tuple[DirectSupport, Decimal]]:
    """Each payment with its amount in its currency (one query, whatever currencies they are in)."""
    places = exponents()
    return [(p, Decimal(p.amount_minor).scaleb(-places[p.currency])) for p in payments]


@dataclass(frozen=True)
class SupportTotal:
    currency: str
    payments: int
    amount: Decimal


def direct_support_totals(filters: DirectSupportFilters) -> list[SupportTotal]:
    """Per currency, the number and sum of the payments matching `filters`: one GROUP BY over
    them all, however many there are (unfiltered, an index on (currency, amount, entry) alone)."""
    matching = direct_support_rows(filters).order_by(None).subquery()
    places = exponents()
    return [
        SupportTotal(currency, payments, Decimal(minor).scaleb(-places[currency]))
        for currency, payments, minor in db.session.execute(
            select(matching.c.currency, func.count(), func.sum(matching.c.amount_minor))
            .group_by(matching.c.currency)
            .order_by(matching.c.currency)
        )
    ]


def project_choices() -> list[tuple[int, str]]:
    """The projects a partner-routed payment may go through, latest approved first, as (id,
    "partner — title"): three columns read, no project loaded with its beneficiaries."""
    rows = db.session.execute(
        select(Project.id, Project.partner, Project.title).order_by(
            Project.approved_on.desc(), Project.id.desc()
        )
    )
    return [(project_id, f"{partner} — {title}") for project_id, partner, title in rows]
