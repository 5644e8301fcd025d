"""Victims' support added up by place and category: the per-victim support summary summed per
country, mission, year of registration, sex and age group (a few hundred rows at 100,000 victims).
The support summary's every change adds its difference here in the same transaction
(vat.victims.support_summary), and a victim whose categories change moves between rows
(vat.victims.identity), so the headline, the per-victim report's totals and the dashboards read
these rows instead of every victim in reach: exact at once, on every worker. `flask figures
verify` adds the summary up again and names each row that differs; `rebuild` rewrites them."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Integer,
    Select,
    String,
    Table,
    case,
    cast,
    delete,
    extract,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite

from vat.db import Base, db
from vat.kept_counts import KeptCounts, SummedCounts
from vat.victims.models import SupportSummary, Victim
from vat.victims.service_tally import lock_victims

KEY = ("country_code", "mission", "year", "sex", "age_group")
NO_MISSION = ""  # the key's mission for a victim with none (NULL would never match in a key)
# Every figure of the per-victim summary that adds up (its `supported` flag counts victims).
SUMMED = tuple(
    c.name for c in SupportSummary.__table__.columns if c.name not in ("victim_id", "projects", "updated_at")
)
SUMS = ("victims", *SUMMED)


def place_table_columns() -> list[Column[Any]]:
    """A place's columns (country, mission) of a table of rows by place (new ones each call: a
    column is one table's)."""
    return [
        Column("country_code", String(3), primary_key=True),
        Column("mission", String(40), primary_key=True),
    ]


def key_table_columns() -> list[Column[Any]]:
    """KEY's columns of a table of rows by cell (new ones each call: a column is one table's)."""
    return [
        *place_table_columns(),
        Column("year", Integer, primary_key=True),
        Column("sex", String(10), primary_key=True),
        Column("age_group", String(10), primary_key=True),
    ]


counts = Table(
    "vat_victim_support_count",
    Base.metadata,
    *key_table_columns(),
    *[Column(n, BigInteger if n.endswith("_minor") else Integer, nullable=False) for n in SUMS],
)

Key = tuple[str, str, int, str, str]


def key_of(victim: Victim) -> Key:
    """The row a victim is counted in."""
    return (
        victim.country_code,
        victim.mission or NO_MISSION,
        victim.registered_on.year,
        victim.sex,
        victim.age_group,
    )


def key_columns() -> list[ColumnElement[Any]]:
    """`key_of` in SQL, over the victims table."""
    return [
        Victim.country_code.label("country_code"),
        func.coalesce(Victim.mission, NO_MISSION).label("mission"),
        cast(extract("year", Victim.registered_on), Integer).label("year"),
        Victim.sex.label("sex"),
        Victim.age_group.label("age_group"),
    ]


def figures_of(row: Any) -> dict[str, int]:
    """One victim's summary row (or None: no row yet) as the sums it adds."""
    if row is None:
        return dict.fromkeys(SUMS, 0)
    return {"victims": 1} | {n: int(getattr(row, n) or 0) for n in SUMMED}


# --- kept in the summary's transaction -------------------------------------------------------


@functools.cache
def _upsert(dialect_name: str) -> Any:
    """INSERT ... ON CONFLICT DO UPDATE adding each row's sums to those of its key (built once)."""
    insert = (postgresql if dialect_name == "postgresql" else sqlite).insert(counts)
    return insert.on_conflict_do_update(
        index_elements=[counts.c[n] for n in KEY],
        set_={n: counts.c[n] + insert.excluded[n] for n in SUMS},
    )


def add(changes: Iterable[tuple[Key, Mapping[str, int]]]) -> None:
    """Add each (key, sums) to its row, in one statement; rows whose sums are all zero are left out."""
    rows = [
        dict(zip(KEY, key, strict=True)) | {n: int(sums.get(n, 0)) for n in SUMS}
        for key, sums in changes
        if any(sums.get(n, 0) for n in SUMS)
    ]
    if rows:
        db.session.connection().execute(_upsert(db.session.get_bind().dialect.name), rows)


def changed(key: Key, before: Mapping[str, int], after: Mapping[str, int]) -> None:
    """One victim's summary went from `before` to `after`."""
    add([(key, {n: after[n] - before[n] for n in SUMS})])


def moved(victim_id: int, before: Key, after: Key) -> None:
    """A victim's categories changed: their figures leave one row for another."""
    if before == after:
        return
    row = db.session.get(SupportSummary, victim_id)
    figures = figures_of(row)
    add([(before, {n: -v for n, v in figures.items()}), (after, figures)])


def summed(victim_ids: Any = None) -> Select[Any]:
    """The summary rows (all, or those of `victim_ids`) added up per key: KEY then SUMS."""
    column = SupportSummary.__table__.c
    sums = [
        func.count().label("victims"),
        *[
            func.sum(case((column[n].is_(True), 1), else_=0) if n == "supported" else column[n]).label(n)
            for n in SUMMED
        ],
    ]
    keys = key_columns()
    query = select(*keys, *sums).join(Victim, Victim.id == SupportSummary.victim_id)
    return of_victims(query, SupportSummary.victim_id, victim_ids, keys)


def of_victims(
    query: Select[Any], victim_id: Any, victim_ids: Any, keys: list[ColumnElement[Any]]
) -> Select[Any]:
    """`query` over the rows whose `victim_id` is one of `victim_ids` (a list or a SELECT of ids;
    every victim's given None), grouped by `keys`."""
    if victim_ids is not None:
        query = query.where(victim_id.in_(victim_ids))
    return query.group_by(*keys)


def kept_by_cell(name: str, kept: KeptCounts, summed: Callable[..., Select[Any]]) -> SummedCounts:
    """Counts kept per cell of these (KEY, then their own parts), summed from the victims' records:
    recounted with the victims' rows locked, a victim without a mission under NO_MISSION."""
    return SummedCounts(name, kept, summed, lock=lock_victims, blank=NO_MISSION)


def by_key(rows: Iterable[Any]) -> dict[Key, dict[str, int]]:
    return {
        tuple(row[: len(KEY)]): {n: int(v or 0) for n, v in zip(SUMS, row[len(KEY) :], strict=True)}
        for row in rows
    }


def replaced(before: dict[Key, dict[str, int]], after: dict[Key, dict[str, int]]) -> None:
    """Some victims' summary rows were replaced: add what changed, key by key."""
    zero = dict.fromkeys(SUMS, 0)
    add(
        (key, {n: after.get(key, zero)[n] - before.get(key, zero)[n] for n in SUMS})
        for key in before.keys() | after.keys()
    )


# --- verify and rebuild (registered with `flask figures`, after the per-victim summary) ---------

NAME = "victim support counts"


def differences() -> list[str]:
    """Each row that differs from the per-victim summary added up, named by its key."""
    kept = by_key(db.session.execute(select(*[counts.c[n] for n in KEY + SUMS])))
    due = by_key(db.session.execute(summed()))
    found = []
    for key in sorted(kept.keys() | due.keys(), key=repr):
        held, want = kept.get(key), due.get(key)
        if held != want and not (want is None and held is not None and not any(held.values())):
            place = " ".join(str(part) for part in key if part != NO_MISSION)
            found.append(f"{NAME}: {place} holds {_named(held)}; the summary adds up to {_named(want)}")
    return found


def _named(sums: dict[str, int] | None) -> str:
    return "no row" if sums is None else ", ".join(f"{n} {v}" for n, v in sums.items() if v)


def rebuild() -> int:
    """Rewrite every row from the per-victim summary; how many rows there are."""
    db.session.execute(delete(counts))
    db.session.execute(counts.insert().from_select(list(KEY + SUMS), summed()))
    return int(db.session.scalar(select(func.count()).select_from(counts)) or 0)
