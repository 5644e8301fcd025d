"""Whether a victim was supported — one definition, in Python and its SQL twin side by side — and
the per-victim support summary that the victim services keep exact in the transaction of each
change. Lists, the victim page, dashboards and reports read the summary."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    and_,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite

from vat.db import UTCDateTime, db, utcnow
from vat.victims import support_counts
from vat.victims.models import (
    Assistance,
    FundingSource,
    FundPayment,
    PaymentSource,
    ServiceStatus,
    ServiceType,
    SupportSummary,
    Victim,
)
from vat.victims.partner_support import PartnerSupport

DELIVERED = (ServiceStatus.IN_PROGRESS, ServiceStatus.COMPLETED)


class _Service(Protocol):
    status: str


class _Payment(Protocol):
    reversed: bool


# --- the definition, twice --------------------------------------------------------------------


def is_supported(
    services: Iterable[_Service], payments: Iterable[_Payment], reported: Iterable[object]
) -> bool:
    """A victim is supported when they received a service (in progress or completed), money from
    the fund reached them (a direct or project payment recorded for them and not reversed), or an
    implementing partner reported giving them money or a service (a line of its per-beneficiary
    report). Being listed as a project's beneficiary is not support."""
    return (
        any(s.status in DELIVERED for s in services)
        or any(not p.reversed for p in payments)
        or any(True for _line in reported)
    )


def supported_sql(victim_id: Any) -> ColumnElement[bool]:
    """`is_supported` for the victim whose id is `victim_id`, in SQL."""
    return or_(
        exists().where(Assistance.victim_id == victim_id, Assistance.status.in_(DELIVERED)),
        exists().where(FundPayment.victim_id == victim_id, FundPayment.reversed.is_(False)),
        exists().where(PartnerSupport.victim_id == victim_id),
    )


# --- the summary ------------------------------------------------------------------------------

STATUS_COLUMNS = [(f"status_{s.value}", s) for s in ServiceStatus]
TYPE_COLUMNS = [(f"type_{t.value}", t) for t in ServiceType]
COUNTED = [name for name, _ in STATUS_COLUMNS + TYPE_COLUMNS]
FIGURES = [
    *COUNTED,
    "direct_usd_minor",
    "project_usd_minor",
    "reported_usd_minor",
    "projects",
    "supported",
    "funded_usd_minor",
]
TRUST_FUND_SOURCES = (FundingSource.TRUST_FUND_PROJECT.value, FundingSource.DIRECT_TRUST_FUND.value)


def funded_cost() -> ColumnElement[int]:
    """A service's cost in US cents when the trust fund paid it outside the ledger, else 0."""
    paid_outside = and_(
        Assistance.funding_source.in_(TRUST_FUND_SOURCES),
        Assistance.ledger_entry_id.is_(None),
        Assistance.currency == "USD",
    )
    return case((paid_outside, func.coalesce(Assistance.cost_minor, 0)), else_=0)


def _source_rows(victim_ids: Any = None) -> Select[*tuple[Any, ...]]:
    """The summary as the services and payments say it should be: one row per victim (all of
    them, or those `victim_ids` selects), columns `victim_id` then FIGURES."""
    only = [] if victim_ids is None else [Victim.id.in_(victim_ids)]
    services = (
        select(
            Assistance.victim_id.label("victim_id"),
            *[func.sum(case((Assistance.status == s.value, 1), else_=0)).label(n) for n, s in STATUS_COLUMNS],
            *[
                func.sum(case((Assistance.service_type == t.value, 1), else_=0)).label(n)
                for n, t in TYPE_COLUMNS
            ],
            func.sum(funded_cost()).label("funded_usd_minor"),
        )
        .where(*([] if victim_ids is None else [Assistance.victim_id.in_(victim_ids)]))
        .group_by(Assistance.victim_id)
        .subquery("services")
    )

    def paid(source: PaymentSource) -> Any:
        return func.sum(case((FundPayment.source == source.value, FundPayment.usd_minor), else_=0))

    payments = (
        select(
            FundPayment.victim_id.label("victim_id"),
            paid(PaymentSource.DIRECT).label("direct_usd_minor"),
            paid(PaymentSource.PROJECT).label("project_usd_minor"),
            func.count(FundPayment.project_id.distinct()).label("projects"),
        )
        .where(
            FundPayment.reversed.is_(False),
            *([] if victim_ids is None else [FundPayment.victim_id.in_(victim_ids)]),
        )
        .group_by(FundPayment.victim_id)
        .subquery("payments")
    )
    reported = (
        select(PartnerSupport.victim_id.label("victim_id"), func.sum(PartnerSupport.usd_minor).label("usd"))
        .where(*([] if victim_ids is None else [PartnerSupport.victim_id.in_(victim_ids)]))
        .group_by(PartnerSupport.victim_id)
        .subquery("reported")
    )
    return (
        select(
            Victim.id.label("victim_id"),
            *[func.coalesce(services.c[n], 0).label(n) for n in COUNTED],
            cast(func.coalesce(payments.c.direct_usd_minor, 0), BigInteger).label("direct_usd_minor"),
            cast(func.coalesce(payments.c.project_usd_minor, 0), BigInteger).label("project_usd_minor"),
            cast(func.coalesce(reported.c.usd, 0), BigInteger).label("reported_usd_minor"),
            func.coalesce(payments.c.projects, 0).label("projects"),
            supported_sql(Victim.id).label("supported"),
            cast(func.coalesce(services.c.funded_usd_minor, 0), BigInteger).label("funded_usd_minor"),
        )
        .outerjoin(services, services.c.victim_id == Victim.id)
        .outerjoin(payments, payments.c.victim_id == Victim.id)
        .outerjoin(reported, reported.c.victim_id == Victim.id)
        .where(*only)
    )


def refresh(victim_id: int) -> SupportSummary:
    """Bring one victim's summary row up to date, in the caller's transaction. The row is locked
    before the victim's services are read (PostgreSQL), so two changes to the same victim at once
    cannot each write a count that misses the other's."""
    row = db.session.scalar(
        select(SupportSummary)
        .where(SupportSummary.victim_id == victim_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    before = support_counts.figures_of(row)
    if row is None:
        row = SupportSummary(victim_id=victim_id)
        db.session.add(row)
    db.session.flush()
    figures = db.session.execute(_source_rows([victim_id])).one()._mapping
    changed = False
    for name in FIGURES:
        value = bool(figures[name]) if name == "supported" else int(figures[name])
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    if changed or row.updated_at is None:
        row.updated_at = utcnow()
    db.session.flush()
    key = support_counts.key_of(db.session.get_one(Victim, victim_id))
    support_counts.changed(key, before, support_counts.figures_of(row))
    return row


def refresh_many(victim_ids: list[int]) -> None:
    """Bring these victims' summaries up to date in a few statements (the importer's victims and
    services, partners' lines), in the caller's transaction. Their rows are locked first, in id
    order, as `refresh` locks its one, and then updated in place: a `refresh` of one of them at
    once waits and then counts this change (a row deleted and inserted again would be gone for
    it, and a sum read before its lock would miss its change)."""
    columns = ["victim_id", *FIGURES, "updated_at"]
    for start_at in range(0, len(victim_ids), 500):
        ids = sorted(victim_ids[start_at : start_at + 500])
        db.session.execute(
            select(SupportSummary.victim_id)
            .where(SupportSummary.victim_id.in_(ids))
            .order_by(SupportSummary.victim_id)
            .with_for_update()
        )
        before = support_counts.by_key(db.session.execute(support_counts.summed(ids)))
        source = (
            _source_rows(ids).add_columns(literal(utcnow(), UTCDateTime()).label("updated_at")).subquery()
        )
        upsert = _dialect_insert()(SupportSummary).from_select(
            columns, select(*[source.c[n] for n in columns]).order_by(source.c.victim_id)
        )
        db.session.execute(
            upsert.on_conflict_do_update(
                index_elements=[SupportSummary.victim_id],
                set_={n: upsert.excluded[n] for n in columns[1:]},
            ),
            execution_options={"synchronize_session": False},
        )
        after = support_counts.by_key(db.session.execute(support_counts.summed(ids)))
        support_counts.replaced(before, after)


def start_many(victim_ids: list[int]) -> dict[Any, dict[str, int]]:
    """New victims' summaries (the importer's), written from their services in a few statements
    before the caller takes the audit chain's lock (no other writer sees these victims yet), and
    what they add to the support counts, by key, for the caller to `support_counts.add` under it."""
    columns = ["victim_id", *FIGURES, "updated_at"]
    added: dict[Any, dict[str, int]] = {}
    for start_at in range(0, len(victim_ids), 500):
        ids = sorted(victim_ids[start_at : start_at + 500])
        source = (
            _source_rows(ids).add_columns(literal(utcnow(), UTCDateTime()).label("updated_at")).subquery()
        )
        db.session.execute(
            insert(SupportSummary).from_select(columns, select(*[source.c[n] for n in columns])),
            execution_options={"synchronize_session": False},
        )
        for key, sums in support_counts.by_key(db.session.execute(support_counts.summed(ids))).items():
            kept = added.setdefault(key, dict.fromkeys(sums, 0))
            for name, value in sums.items():
                kept[name] += value
    return added


def _dialect_insert() -> Any:
    """The backend's INSERT, which knows ON CONFLICT."""
    return postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert


def start(victim_id: int) -> None:
    """A newly registered victim's summary: nothing received yet."""
    figures: dict[str, Any] = dict.fromkeys(FIGURES, 0) | {"supported": False}
    db.session.add(SupportSummary(victim_id=victim_id, **figures, updated_at=utcnow()))
    db.session.flush()
    support_counts.add([(support_counts.key_of(db.session.get_one(Victim, victim_id)), {"victims": 1})])


def supported(victim_id: int) -> bool:
    """What the summary says of one victim (the victim page's open item)."""
    return bool(
        db.session.scalar(select(SupportSummary.supported).where(SupportSummary.victim_id == victim_id))
    )


def supported_in_summary(victim_id: Any = Victim.id) -> ColumnElement[bool]:
    """Whether the summary counts the victim `victim_id` as supported (lists, dashboards, reports)."""
    # Correlated to the enclosing query's victims, never a victims table of its own (which would
    # count every victim once per row of the enclosing query, or in a query without victims, once).
    return (
        exists()
        .where(and_(SupportSummary.victim_id == victim_id, SupportSummary.supported == true()))
        .correlate_except(SupportSummary)
    )


def supported_victims() -> Select[int]:
    """`supported_in_summary` as a set: the ids of the victims the summary counts as supported,
    read once from the index on the flag (a count over every victim goes 2-3x faster on SQLite
    than looking them up victim by victim)."""
    return select(SupportSummary.victim_id).where(SupportSummary.supported == true())


# --- verify and rebuild (registered with `flask figures`) ---------------------------------------

NAME = "victim support summary"


def differences() -> list[str]:
    """Each summary row that disagrees with the services and payments, named by case code."""
    expected = {row.victim_id: row._mapping for row in db.session.execute(_source_rows())}
    kept = {row.victim_id: row for row in db.session.scalars(select(SupportSummary))}
    codes = {victim_id: code for victim_id, code in db.session.execute(select(Victim.id, Victim.case_code))}
    found: list[str] = []
    for victim_id, figures in sorted(expected.items()):
        row = kept.get(victim_id)
        code = codes[victim_id]
        if row is None:
            found.append(f"{NAME}: victim {code} has no row")
            continue
        for name in FIGURES:
            want = bool(figures[name]) if name == "supported" else int(figures[name])
            if getattr(row, name) != want:
                found.append(f"{NAME}: victim {code} {name} is {getattr(row, name)}, should be {want}")
    found += [
        f"{NAME}: row for victim id {i} that does not exist" for i in sorted(kept.keys() - expected.keys())
    ]
    return found


def rebuild() -> int:
    """Recompute every row from the services and payments (after a restore, or an import run
    outside the app); returns how many rows were written."""
    db.session.execute(delete(SupportSummary))
    source = _source_rows().add_columns(literal(utcnow(), UTCDateTime()).label("updated_at")).subquery()
    columns = ["victim_id", *FIGURES, "updated_at"]
    db.session.execute(
        insert(SupportSummary).from_select(columns, select(*[source.c[n] for n in columns])),
        execution_options={"synchronize_session": False},
    )
    support_counts.rebuild()  # added up from these rows, so rebuilt with them
    db.session.expire_all()
    return int(db.session.scalar(select(func.count()).select_from(SupportSummary)) or 0)
