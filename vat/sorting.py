"""A list's order, chosen by the reader from the columns it offers (`?sort=status&order=asc`):
what the `sortable_table` macro links to, and the ORDER BY it becomes. Unknown keys read as the
list's default, so an address never reaches the SQL beyond a known column."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select
from sqlalchemy.orm import QueryableAttribute

ASCENDING, DESCENDING = "asc", "desc"
Column = ColumnElement[Any] | QueryableAttribute[Any]
Query = TypeVar("Query", bound="Select[*tuple[Any, ...]]")


@dataclass(frozen=True)
class Sort:
    """The order of one list: a column key the list offers, and its direction."""

    key: str
    descending: bool

    @property
    def order(self) -> str:
        return DESCENDING if self.descending else ASCENDING

    def link(self, key: str) -> dict[str, str]:
        """The address arguments that sort by `key`: the other way round when already sorted by it."""
        if key == self.key:
            return {"sort": key, "order": ASCENDING if self.descending else DESCENDING}
        return {"sort": key, "order": ASCENDING}

    def aria(self, key: str) -> str | None:
        """The column heading's aria-sort value: only the sorted column has one."""
        if key != self.key:
            return None
        return "descending" if self.descending else "ascending"


@dataclass(frozen=True)
class SortableColumns:
    """The columns a list may be sorted by (key → SQL expression), its default, and the columns
    that break ties so that pages never overlap (a unique key last)."""

    columns: Mapping[str, Column]
    default: Sort
    tie_breakers: Sequence[Column]

    @classmethod
    def of(cls, model: Any, keys: Sequence[str], default: Sort) -> SortableColumns:
        """A model's columns named by their attributes, ties broken by its id."""
        return cls({key: getattr(model, key) for key in keys}, default, (model.id,))

    def chosen(self, args: Mapping[str, str]) -> Sort:
        """The order an address asks for, if the list offers it; else the list's default."""
        key = args.get("sort", "")
        if key not in self.columns:
            return self.default
        return Sort(key, args.get("order") == DESCENDING)

    def apply(self, query: Query, sort: Sort) -> Query:
        column = self.columns[sort.key]
        # NULLs sort as the smallest value on every database, as SQLite does. A column that cannot
        # hold one is left without: PostgreSQL reads "DESC NULLS LAST" along no index, and sorts.
        nullable = getattr(column.expression, "nullable", True)
        if sort.descending:
            first = column.desc().nulls_last() if nullable else column.desc()
            return query.order_by(None).order_by(first, *(c.desc() for c in self.tie_breakers))
        first = column.asc().nulls_first() if nullable else column.asc()
        return query.order_by(None).order_by(first, *(c.asc() for c in self.tie_breakers))


def without_sort(args: Mapping[str, str]) -> dict[str, str]:
    """A list's other address arguments (filters, page size), for its sorting links."""
    return {k: v for k, v in args.items() if k not in ("sort", "order", "page") and v}
