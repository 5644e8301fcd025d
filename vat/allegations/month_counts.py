"""Allegations counted per place (country, mission) and month received (`vat_allegation_month_count`),
kept exact in the transaction of each change, so that the query-set-size control of the statistics
page and the UN report (vat.reports.statistics.period_cube) reads about a thousand rows instead of
grouping every allegation on each view. Kept where the clock counts are: the allegation services
call `recounting` around a change and `count_added` after a creation, the importer `count_added`.
`differences` and `rebuild` compare with and recompute from every allegation (`flask figures
verify` / `rebuild`)."""

from __future__ import annotations

from functools import partial
from typing import Any

from sqlalchemy import Column, Integer, Select, String, Table, func, select

from vat.allegations.models import Allegation
from vat.db import Base, db, lock_for_chain
from vat.kept_counts import KeptCounts, SummedCounts, lock_rows
from vat.reports.sql import month_of

KEY = ("country_code", "mission", "month")
NONE = ""  # no mission, or no day received (NULL never matches a key)

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


NAME = "allegation month counts"
SUMMED = SummedCounts(NAME, KEPT, summed, lock=partial(lock_rows, Allegation.id), blank=NONE)
recounting = SUMMED.recounting


def count_added(allegation_ids: list[int]) -> None:
    """Add the counts of allegations just inserted (one created, or the importer's)."""
    db.session.flush()
    lock_for_chain("audit_event")  # the audit chain's lock before any count row's, as every writer
    KEPT.add(SUMMED.counted(sorted(set(allegation_ids))))


# --- verify and rebuild (registered with `flask figures`) -----------------------------------------

differences = SUMMED.differences
rebuild = SUMMED.rebuild
