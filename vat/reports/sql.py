"""SQL that differs between SQLite and PostgreSQL, for the reports' aggregates."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Date, cast, func, type_coerce

from vat.db import db


def dialect() -> str:
    return db.session.get_bind().dialect.name


def days_between(later: Any, earlier: Any) -> ColumnElement[Any]:
    """Whole days from `earlier` to `later` (NULL if either is NULL)."""
    if dialect() == "postgresql":
        return type_coerce(cast(later, Date) - cast(earlier, Date), BigInteger)
    return cast(func.julianday(later) - func.julianday(earlier), BigInteger)


def month_of(day: Any) -> ColumnElement[str]:
    if dialect() == "postgresql":
        return func.to_char(day, "YYYY-MM")
    return func.strftime("%Y-%m", day)


def year_of(day: Any) -> ColumnElement[str]:
    if dialect() == "postgresql":
        return func.to_char(day, "YYYY")
    return func.strftime("%Y", day)
