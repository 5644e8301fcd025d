"""Allegations counted per place (country, mission) and month received (`vat_allegation_month_count`),
kept exact in the transaction of each change, so that the query-set-size control of the statistics
page and the UN report (vat.reports.statistics.period_cube) reads about a thousand rows instead of
grouping every allegation on each view. Kept where the clock counts are: the allegation services
call `recounting` around a change and `count_added` after a creation, the importer `count_added`.
`differences` and `rebuild` compare with and recompute from every allegation (`flask figures
verify` / `rebuild`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import Column, Integer, Select, String, Table, delete, func, select

from vat.allegations.models import Allegation
from vat.db import Base, db, lock_for_chain
from vat.kept_counts import KeptCounts, counted_in_chunks, lock_rows
from vat.reports.sql import month_of

KEY = ("country_code", "mission", "month")
NONE = ""  # no mission, or no day received (NULL never matches a key)
Key = tuple[Any, ...]

counts = Table(
    "vat_allegation_month_count",
    Base.metadata,
    Column("country_code", String(3), primary_key=True),
    Column("mission", String(40), primary_key=True),
    Column("month", String(7), primary_key=True),  # YYYY-MM of the day received
    Column("allegations", Integer, nullable=False),
)
KEPT = KeptCounts(counts, KEY, "allegations")


def summed(allegation_ids: list[int] | None = None) -> Select[Any]:
    """The allegations (all, or those of `allegation_ids`) counted per KEY."""
    keys: list[Any] = [
        Allegation.country_code,
        func.coalesce(Allegation.mission, NONE),
        func.coalesce(month_of(Allegation.received_on), NONE),
    ]
    query = select(*keys, func.count())
    if allegation_ids is not None:
        query = query.where(Allegation.id.in_(allegation_ids))
    return query.group_by(*keys)


def _counted(allegation_ids: list[int]) -> Counter[Key]:
    return counted_in_chunks(summed, allegation_ids)


def recounting(allegation_ids: Iterable[int]) -> AbstractContextManager[None]:
    """Around a change to these allegations: what it changes in the counts is added to them when
    the block ends, in the same transaction."""
    return KEPT.recounting(allegation_ids, lock=lambda ids: lock_rows(Allegation.id, ids), counted=_counted)


def count_added(allegation_ids: list[int]) -> None:
    """Add the counts of allegations just inserted (one created, or the importer's)."""
    db.session.flush()
    lock_for_chain("audit_event")  # the audit chain's lock before any count row's, as every writer
    KEPT.add(_counted(sorted(set(allegation_ids))))


# --- verify and rebuild (registered with `flask figures`) -----------------------------------------

NAME = "allegation month counts"


def differences() -> list[str]:
    """Each count that disagrees with the allegations, named by its key."""
    return KEPT.differences(NAME, db.session.execute(summed()), blank=NONE)


def rebuild() -> int:
    """Rewrite every row from the allegations; how many rows there are."""
    db.session.execute(delete(counts))
    db.session.execute(counts.insert().from_select([*KEY, "allegations"], summed()))
    return int(db.session.scalar(select(func.count()).select_from(counts)) or 0)
