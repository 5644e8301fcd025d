"""Victims' needs counted per cell of the support counts (country, mission, year of registration,
sex, age group), need type and status (`vat_need_count`), kept exact in the transaction of each
change, so that the needs table of the dashboard and of the per-victim report reads a few rows
instead of every need in reach; and the same counts added up by place alone
(`vat_need_place_count`: ~350 rows at 100,000 victims against ~17,000), kept by the same changes,
which the table reads when no year, sex or age filter asks for more. One definition: `summed`
groups the needs in SQL. The needs services and a victim's move call `recounting` around a change
(the victims' counts before it taken away, those after it added: one atomic increment per row);
`differences` and `rebuild` compare with and recompute from every need (`flask figures verify` /
`rebuild`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Index, Integer, Select, String, Table, func, select

from vat.db import Base
from vat.kept_counts import KeptCounts
from vat.victims import support_counts
from vat.victims.models import Need, Victim

KEY = (*support_counts.KEY, "need_type", "status")


def _need_columns() -> list[Column[Any]]:
    """A need's type and status, and the victims counted (new ones each call: a column is one
    table's)."""
    return [
        Column("need_type", String(20), primary_key=True),
        Column("status", String(20), primary_key=True),
        Column("victims", Integer, nullable=False),
    ]


counts = Table(
    "vat_need_count",
    Base.metadata,
    *support_counts.key_table_columns(),
    *_need_columns(),
    # The needs table sums by type and status from this alone, without sorting (migration 1148).
    Index(
        "ix_vat_need_count_need_type_status",
        "need_type",
        "status",
        "country_code",
        "mission",
        "year",
        "sex",
        "age_group",
        "victims",
    ),
)
PLACE_KEY = ("country_code", "mission", "need_type", "status")
# The needs table with no year, sex nor age filter sums these (migration 1164): a scope's OR of
# places over a few hundred rows, where over the finer rows PostgreSQL hashed ~17,000 of them.
by_place = Table(
    "vat_need_place_count",
    Base.metadata,
    *support_counts.place_table_columns(),
    *_need_columns(),
)
KEPT = KeptCounts(counts, KEY, "victims", coarser=KeptCounts(by_place, PLACE_KEY, "victims"))


def summed(victim_ids: Any = None) -> Select[Any]:
    """The needs (all, or those of `victim_ids`: a list or a SELECT of ids) counted per KEY."""
    keys = [*support_counts.key_columns(), Need.need_type.label("need_type"), Need.status.label("status")]
    query = select(*keys, func.count().label("victims")).join(Victim, Victim.id == Need.victim_id)
    return support_counts.of_victims(query, Need.victim_id, victim_ids, keys)


NAME = "need counts"
# A change to victims or their needs recounts them with the victims' rows locked on PostgreSQL.
SUMMED = support_counts.kept_by_cell(NAME, KEPT, summed)
recounting = SUMMED.recounting

# --- verify and rebuild (registered with `flask figures`) -----------------------------------------

differences = SUMMED.differences
rebuild = SUMMED.rebuild
