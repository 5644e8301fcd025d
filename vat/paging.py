"""One page of a list, cut in SQL: what the `pager` macros read, for lists of any kind of row.
Page sizes come from a fixed set, whatever the address asks for."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select

from vat.db import db

PAGE_SIZES = (20, 50, 100)
MAX_PAGE = 100_000  # a larger page number reads as this one (past any list's end: an empty page)


def page_number(text: str | None) -> int:
    """The page an address asks for (`?page=3`): 1 unless written in ASCII digits, at most MAX_PAGE,
    so the offset stays within the database's integers whatever the address holds."""
    if not text or not (text.isascii() and text.isdigit()):
        return 1
    digits = text.lstrip("0")
    if len(digits) > len(str(MAX_PAGE)):
        return MAX_PAGE
    return max(1, min(int(digits or "0"), MAX_PAGE))


def other_args(args: Mapping[str, str]) -> dict[str, str]:
    """The address's filters that a list's pager links keep: every one given, but the page."""
    return {k: v for k, v in args.items() if k != "page" and v}


def page_size(asked: int | None) -> int:
    """The page size asked for if the lists offer it, else the smallest."""
    return asked if asked in PAGE_SIZES else PAGE_SIZES[0]


@dataclass(frozen=True)
class Page:
    """One page of rows (several columns per row, which `db.paginate` cannot give): two queries."""

    items: list[Any]
    page: int
    per_page: int
    total: int
    more: bool = False  # rows exist after this page

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page), self.page + self.more)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.more

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def page_of(query: Select[*tuple[Any, ...]], *, page: int, per_page: int, count: Callable[[], int]) -> Page:
    """Page `page` of an ordered `query`: its rows and one more (is there a next page?), and the
    list's total from `count`."""
    rows = db.session.execute(query.limit(per_page + 1).offset((page - 1) * per_page)).all()
    total = count()
    return Page(
        items=list(rows[:per_page]), page=page, per_page=per_page, total=total, more=len(rows) > per_page
    )


def page_of_rows(rows: Sequence[Any], *, page: int, per_page: int) -> Page:
    """Page `page` of rows already at hand, in their order."""
    start = (page - 1) * per_page
    return Page(
        items=list(rows[start : start + per_page]),
        page=page,
        per_page=per_page,
        total=len(rows),
        more=len(rows) > start + per_page,
    )
