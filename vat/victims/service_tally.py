"""Services counted per victim cell and per facet of the service (`vat_service_tally`), kept exact
in the transaction of each change, so the assistance and referral reports and the directory's
ad-hoc providers read a few counts instead of a pass over every service.

A cell is what the reports filter and scope on: the victim's country and mission, and — in detail
rows only — the year registered, sex and whether a minor. Total rows (`detail` false) leave those
three out, as the ledger's balances keep total rows: an unfiltered page reads a few rows a country.
Detail rows are kept a second time with every place added up (country EVERYWHERE, no mission), for
readers who reach every country and filter on those three alone.
A facet is what a report groups on: `type`, `provider` (as typed) and `year` (of referral) count
services by status and count each wait in whole days (`start`: referral to start, `end`: start to
completion), from which `vat.reports.medians` reads exact medians; `referral` counts the waits to
start of referrals the ledger did not pay, per provider and type; `gap` the referrals that found no
service. Directory providers are kept by id, so renaming one or moving it changes no count.

One definition: `counted` turns service rows into these counts. The victim services call
`recounting` around a change (the counts of the victims' services before it are taken away, those
after it added: one atomic increment per row, never read-modify-write); `differences` and
`rebuild` compare with and recompute from every service (`flask figures verify` / `rebuild`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from datetime import date
from typing import Any
from typing import cast as typed

from sqlalchemy import ColumnElement, Table, delete, func, select

from vat.auth.actor import Actor
from vat.auth.policy import scope_filter
from vat.db import db
from vat.kept_counts import KeptCounts, lock_rows
from vat.victims.models import TALLY_KEY, AgeGroup, Assistance, ServiceStatus, ServiceTally, Victim

Key = tuple[Any, ...]  # TALLY_KEY's values
WAITS = (("start", "to_start"), ("end", "to_end"))
# The country of the detail rows that add up every place: what a reader whose reach is everywhere
# reads for a filter on the year registered, sex or minor alone (a few rows a place would be many).
EVERYWHERE = "*"
CHUNK = 500  # victims or services per statement: under SQLite's and psycopg's parameter limits


KEPT = KeptCounts(typed(Table, ServiceTally.__table__), TALLY_KEY, "services")


# --- the one definition: service rows to counts --------------------------------------------------


def _days(later: date | None, earlier: date | None) -> int | None:
    return (later - earlier).days if later is not None and earlier is not None else None


def _facets(row: Any) -> Iterator[tuple[str, str, int, str, str, str, int]]:
    """(facet, value, provider_id, service_type, status, wait, days) for one service row."""
    typed_name = row.provider or ""
    provider_id = row.provider_id or 0
    waits = {
        "to_start": _days(row.start_date, row.referral_date),
        "to_end": _days(row.end_date, row.start_date),
    }
    found = {wait: days for wait, name in WAITS if (days := waits[name]) is not None}
    year = f"{row.referral_date.year:04d}" if row.referral_date is not None else ""
    for facet, value, chosen in (
        ("type", row.service_type, 0),
        ("provider", typed_name, provider_id),
        ("year", year, 0),
    ):
        yield facet, value, chosen, "", row.status, "", 0
        for wait, days in found.items():
            yield facet, value, 0, "", "", wait, days
    if "start" in found and row.ledger_entry_id is None:
        yield "referral", typed_name, provider_id, row.service_type, "", "start", found["start"]
    no_provider = row.provider_id is None and row.provider is None
    if row.status == ServiceStatus.NOT_AVAILABLE or (row.status == ServiceStatus.REFERRED and no_provider):
        yield "gap", "", provider_id, row.service_type, "", "", 0


def _service_rows(conditions: list[ColumnElement[bool]]) -> Any:
    return db.session.execute(
        select(
            Victim.country_code,
            Victim.mission,
            Victim.registered_on,
            Victim.sex,
            Victim.age_group,
            Assistance.service_type,
            Assistance.status,
            Assistance.provider,
            Assistance.provider_id,
            Assistance.referral_date,
            Assistance.start_date,
            Assistance.end_date,
            Assistance.ledger_entry_id,
        )
        .join(Victim, Victim.id == Assistance.victim_id)
        .where(*conditions)
        .execution_options(yield_per=5000)
    )


def counted(
    *, victim_ids: Iterable[int] | None = None, service_ids: Iterable[int] | None = None
) -> Counter[Key]:
    """The counts the services say (every service, or those of `victim_ids`, or `service_ids`),
    by key (TALLY_KEY); read with the caller's transaction."""
    chunks: list[list[ColumnElement[bool]]]
    if victim_ids is None and service_ids is None:
        chunks = [[]]
    else:
        column, ids = (
            (Assistance.victim_id, victim_ids) if victim_ids is not None else (Assistance.id, service_ids)
        )
        listed = sorted(set(ids or ()))
        chunks = [[column.in_(listed[i : i + CHUNK])] for i in range(0, len(listed), CHUNK)]
    counts: Counter[Key] = Counter()
    for conditions in chunks:
        counts += counted_rows(_service_rows(conditions))
    return counts


def counted_rows(rows: Iterable[Any]) -> Counter[Key]:
    """The counts of service rows given as `_service_rows` reads them (a service's columns and its
    victim's): the importer counts its new victims' services before they are written."""
    counts: Counter[Key] = Counter()
    for row in rows:
        mission = row.mission or ""
        person = (row.registered_on.year, row.sex, row.age_group == AgeGroup.MINOR)
        cells = (
            (True, row.country_code, mission, *person),
            (True, EVERYWHERE, "", *person),
            (False, row.country_code, mission, 0, "", False),
        )
        for facet, *rest in _facets(row):
            for cell in cells:
                counts[(facet, *cell, *rest)] += 1
    return counts


# --- kept by the victim services -----------------------------------------------------------------


def lock_victims(victim_ids: list[int]) -> None:
    """Hold the victims' rows until the transaction ends (PostgreSQL; SQLite's writer already holds
    its lock): a victim's services are counted with the cell its row says, so a change to the
    victim and a change to one of its services never count from each other's old state."""
    lock_rows(Victim.id, victim_ids)


def recounting(victim_ids: Iterable[int]) -> AbstractContextManager[None]:
    """Around a change to these victims or their services (added, changed, linked to a provider):
    what it changes in the counts is added to them when the block ends, in the same transaction."""
    return KEPT.recounting(victim_ids, lock=lock_victims, counted=lambda ids: counted(victim_ids=ids))


def count_added(service_ids: list[int], *, counted_before: Counter[Key] | None = None) -> None:
    """Add the counts of services just inserted in bulk (the importer's), their victims locked, and
    `counted_before`: counts of services no other writer can see yet (new victims'), counted
    before the caller took the audit chain's lock."""
    victims: set[int] = set()
    for start in range(0, len(service_ids), CHUNK):
        chunk = service_ids[start : start + CHUNK]
        victims.update(
            db.session.scalars(select(Assistance.victim_id).where(Assistance.id.in_(chunk)).distinct())
        )
    lock_victims(sorted(victims))
    KEPT.add(counted(service_ids=service_ids) + (counted_before or Counter()))


# --- read by the directory -----------------------------------------------------------------------


def typed_providers(actor: Actor, limit: int) -> list[tuple[str, str, int]]:
    """Providers typed as free text and not chosen from the directory, in the actor's scope:
    (country, one spelling of the name, services), most services first."""
    name_key = func.lower(func.trim(ServiceTally.value))
    services = func.sum(ServiceTally.services)
    rows = db.session.execute(
        select(ServiceTally.country_code, func.min(ServiceTally.value), services)
        .where(
            ServiceTally.facet == "provider",
            ServiceTally.detail.is_(False),
            ServiceTally.wait == "",
            ServiceTally.provider_id == 0,
            ServiceTally.value != "",
            ServiceTally.services != 0,
            scope_filter(actor, ServiceTally.country_code, ServiceTally.mission),
        )
        .group_by(ServiceTally.country_code, name_key)
        .having(services > 0)
        .order_by(services.desc(), ServiceTally.country_code, name_key)
        .limit(limit)
    ).all()
    return [(str(c), str(n), int(k)) for c, n, k in rows]


# --- verify and rebuild (registered with `flask figures`) ----------------------------------------

NAME = "service tally"


def _named(key: Key) -> str:
    parts = dict(zip(TALLY_KEY, key, strict=True))
    level = "detail" if parts.pop("detail") else "total"
    shown = " ".join(f"{name}={value}" for name, value in parts.items() if value not in ("", 0, False))
    return f"{NAME}: {level} {shown}"


def _kept() -> Counter[Key]:
    kept: Counter[Key] = Counter()
    columns = [ServiceTally.__table__.c[name] for name in (*TALLY_KEY, "services")]
    for *key, services in db.session.execute(select(*columns).execution_options(yield_per=5000)):
        kept[tuple(key)] += int(services)
    return kept


def differences() -> list[str]:
    """Each count that disagrees with the services, named by its key."""
    expected, kept = counted(), _kept()
    return [
        f"{_named(key)} is {kept.get(key, 0)}, should be {expected.get(key, 0)}"
        for key in sorted(expected.keys() | kept.keys())
        if kept.get(key, 0) != expected.get(key, 0)
    ]


def rebuild() -> int:
    """Recompute every count from the services; returns how many rows were written."""
    counts = counted()
    db.session.execute(delete(ServiceTally))
    KEPT.add(counts)
    db.session.expire_all()
    return len(counts)
