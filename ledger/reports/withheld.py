"""The withholding reconciliation: per allegation and per contributing country, what was withheld,
transferred and is outstanding, with its ageing, set against the accounts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, not_, or_, select, union_all

from ledger import engine
from ledger.balances import balances
from ledger.engine import WITHHELD_RECEIVABLE, from_minor
from ledger.models import Account, Currency, Posting, Withholding, WithholdingTransfer
from ledger.reports.amounts import exponents, summed
from ledger.services.booking import standing
from vat.db import db
from vat.i18n import N_
from vat.paging import Page

# Named in English (the figures' keys) and translated where shown.
AGEING_BUCKETS = (
    (0, 90, N_("0–90 days")),
    (91, 180, N_("91–180 days")),
    (181, 365, N_("181–365 days")),
    (366, None, N_("over 365 days")),
)


@dataclass(slots=True)
class ReconciliationLine:
    """One live withholding as the page shows it."""

    withholding_id: int
    allegation_ref: str
    country_code: str
    currency: str
    decided_on: date
    withheld: Decimal
    transferred: Decimal
    ledger_outstanding: Decimal
    last_transfer: date | None
    days_outstanding: int
    age: str  # the ageing bucket of its days outstanding

    @property
    def outstanding(self) -> Decimal:
        return self.withheld - self.transferred

    @property
    def ageing(self) -> str | None:
        return self.age if self.outstanding else None


@dataclass
class Reconciliation:
    lines: list[ReconciliationLine]
    by_country: list[dict[str, Any]]
    ageing: dict[str, Decimal]
    totals: dict[str, dict[str, Decimal]] = field(default_factory=dict)  # per currency
    ledger: dict[str, dict[str, Decimal]] = field(default_factory=dict)  # per currency, from accounts
    by_mission: dict[tuple[str, str], dict[str, Decimal]] = field(default_factory=dict)
    line_count: int = 0  # the live withholdings: the lines, on every page
    owing_count: int = 0  # those of them with something outstanding, listed first

    @property
    def differences(self) -> dict[str, dict[str, Decimal]]:
        return {
            currency: {
                k: self.totals[currency][k] - self.ledger.get(currency, {}).get(k, Decimal(0)) for k in values
            }
            for currency, values in self.totals.items()
        }

    @property
    def ties(self) -> bool:
        return not any(v for d in self.differences.values() for v in d.values())


def reconciliation(today: date | None = None, *, lines: bool = True) -> Reconciliation:
    """Per allegation and per contributing country: withheld, transferred and outstanding from the
    sub-ledger records, the days outstanding and their ageing bucket — with totals set against the
    withheld-income, withheld-receivable and cash accounts, which must agree. Three grouped
    queries: the lines (none with `lines=False`, for a page that reads them a page at a time with
    `line_page`); the countries with their ageing, the missions and the lines' counts, together;
    the accounts."""
    today = today or date.today()
    summary = _withholding_summary(today)
    return Reconciliation(
        lines=_reconciliation_lines(today) if lines else [],
        by_country=summary.by_country,
        ageing=summary.ageing,
        totals=summary.totals,
        ledger=_withholding_ledger_totals(),
        by_mission=summary.by_mission,
        line_count=summary.line_count,
        owing_count=summary.owing_count,
    )


def outstanding_by_currency() -> dict[str, Decimal]:
    """Withheld and not yet transferred per currency, for each currency a withholding stands in
    (nothing outstanding included): the reconciliation's outstanding totals, read as
    `outstanding_by_country` reads them, from the receivable's kept balances, and not from every
    withholding joined to its transfers (for pages that show only those totals)."""
    kept = balances(columns=("account_id", "currency", "amount_minor"))
    receivable = select(Account.id).where(Account.code == WITHHELD_RECEIVABLE).scalar_subquery()
    owed: dict[str, int] = {
        currency: minor
        for currency, minor in db.session.execute(
            select(kept.c.currency, summed(kept.c.amount_minor))
            .where(kept.c.account_id == receivable)
            .group_by(kept.c.currency)
        )
    }
    # A withholding stands only in a currency posted on the receivable: those few are asked.
    held = select(Currency.code).where(
        Currency.code.in_(owed),
        standing(select(Withholding.id).where(Withholding.currency == Currency.code), Withholding).exists(),
    )
    return {
        currency: from_minor(owed[currency], currency)
        for currency in db.session.scalars(held.order_by(Currency.code))
    }


def for_allegation(allegation_ref: str) -> dict[str, dict[str, Decimal]]:
    """What was withheld for one allegation, transferred and outstanding, per currency."""
    rows = _amounts_by(literal(""), Withholding.allegation_ref == allegation_ref)
    return {currency: amounts for (_, currency), amounts in rows.items()}


def by_mission() -> dict[tuple[str, str], dict[str, Decimal]]:
    """Withheld, transferred and outstanding per holding mission ("" if none recorded) and
    currency: what each mission holds for the fund (OIOS §115)."""
    return _withholding_summary(date.today()).by_mission


def outstanding_by_country() -> dict[tuple[str, str], Decimal]:
    """Withheld and not yet transferred per contributing country and currency, where not zero:
    the withheld-receivable account's kept balances (total rows), a few per month. Equal to the
    standing withholdings less their standing transfers: every posting to the receivable carries
    its withholding's country and currency (a withholding debits it, a transfer credits it, a
    reversal mirrors either), and a withholding is reversed only once no transfer stands on it."""
    kept = balances(columns=("account_id", "currency", "country_code", "amount_minor"))
    query = (
        select(kept.c.country_code, kept.c.currency, summed(kept.c.amount_minor))
        .where(
            kept.c.account_id
            == select(Account.id).where(Account.code == WITHHELD_RECEIVABLE).scalar_subquery()
        )
        .group_by(kept.c.country_code, kept.c.currency)
    )
    found = {
        (country, currency): from_minor(minor, currency)
        for country, currency, minor in db.session.execute(query)
        if minor
    }
    return dict(sorted(found.items()))


def _amounts_by(key: Any, *where: Any) -> dict[tuple[str, str], dict[str, Decimal]]:
    paid = _transfers_by_withholding()
    query = standing(
        select(
            key, Withholding.currency, summed(Withholding.amount_minor), summed(func.coalesce(paid.c.paid, 0))
        )
        .outerjoin(paid, paid.c.withholding_id == Withholding.id)
        .where(*where)
        .group_by(key, Withholding.currency),
        Withholding,
    )
    amounts: dict[tuple[str, str], dict[str, Decimal]] = {}
    for name, currency, withheld_minor, paid_minor in db.session.execute(query):
        withheld, transferred = from_minor(withheld_minor, currency), from_minor(paid_minor, currency)
        outstanding = withheld - transferred
        amounts[(name, currency)] = {
            "withheld": withheld,
            "transferred": transferred,
            "outstanding": outstanding,
        }
    return dict(sorted(amounts.items()))


def _transfers_by_withholding() -> Any:
    """Per withholding: what its live transfers brought in (`paid`) and the last day (`last_on`)."""
    return standing(
        select(
            WithholdingTransfer.withholding_id.label("withholding_id"),
            summed(WithholdingTransfer.amount_minor).label("paid"),
            func.max(WithholdingTransfer.transferred_on).label("last_on"),
        ).group_by(WithholdingTransfer.withholding_id),
        WithholdingTransfer,
    ).subquery("paid")


def _ageing_bucket(decided_on: Any, today: date) -> ColumnElement[int]:
    """The index in AGEING_BUCKETS of the days from `decided_on` to `today` (a day in the future
    counts in the first bucket)."""
    limits = [
        (decided_on >= today - timedelta(days=high), index)
        for index, (_, high, _) in enumerate(AGEING_BUCKETS)
        if high is not None
    ]
    return case(*limits, else_=len(AGEING_BUCKETS) - 1)


def line_page(recon: Reconciliation, today: date, *, page: int, per_page: int) -> Page:
    """One page of the reconciliation's lines, in their order, from the counts of `recon` (made
    for `today` without its lines): those with something outstanding, then the others, each read
    oldest first along an index on (decided_on, id) and only as far as the page's end — not every
    line summed and sorted for one page — and the receivable of the page's lines alone."""
    start, wanted = (page - 1) * per_page, per_page + 1
    owing = _lines_owing(today, owing=True, part=0)
    rest = _lines_owing(today, owing=False, part=1)
    # Each part reads no further than the page needs of it (nothing, past its end or before its start).
    owing = owing.offset(start).limit(wanted if start < recon.owing_count else 0)
    rest = rest.offset(max(0, start - recon.owing_count))
    rest = rest.limit(wanted if start + wanted > recon.owing_count else 0)
    both = union_all(select(owing.subquery()), select(rest.subquery())).subquery("page")
    receivable = (
        select(func.coalesce(summed(Posting.amount_minor), 0))
        .where(
            Posting.withholding_id == both.c.id,
            Posting.account_id
            == select(Account.id).where(Account.code == WITHHELD_RECEIVABLE).scalar_subquery(),
        )
        .scalar_subquery()
    )
    query = (
        select(*[both.c[name] for name in _LINE_COLUMNS[:-1]], receivable, both.c.age)
        .order_by(both.c.part, both.c.decided_on, both.c.id)
        .limit(wanted)
    )
    rows = db.session.execute(query).all()
    return Page(
        items=_lines(rows[:per_page], today),
        page=page,
        per_page=per_page,
        total=recon.line_count,
        more=len(rows) > per_page,
    )


_LINE_COLUMNS = (
    "id",
    "allegation_ref",
    "country_code",
    "currency",
    "decided_on",
    "withheld",
    "paid",
    "last_on",
    "age",
)


# A reconciliation line's columns from the withholding's own row, in the lines' order.
_RECORD_COLUMNS = (
    Withholding.id,
    Withholding.allegation_ref,
    Withholding.country_code,
    Withholding.currency,
    Withholding.decided_on,
    Withholding.amount_minor,
)


def _lines_owing(today: date, *, owing: bool, part: int) -> Select[Any]:
    """The live withholdings with (`owing`) or without something outstanding, oldest first, each
    with what its live transfers brought in and the last day (`_LINE_COLUMNS`), and `part`."""
    transfers = lambda column: standing(  # noqa: E731
        select(column).where(WithholdingTransfer.withholding_id == Withholding.id), WithholdingTransfer
    ).scalar_subquery()
    transferred = func.coalesce(transfers(summed(WithholdingTransfer.amount_minor)), 0)
    outstanding = Withholding.amount_minor - transferred > 0
    columns: list[Any] = [
        *_RECORD_COLUMNS,
        transferred,
        transfers(func.max(WithholdingTransfer.transferred_on)),
        _ageing_bucket(Withholding.decided_on, today),
    ]
    return standing(
        select(
            *[column.label(name) for column, name in zip(columns, _LINE_COLUMNS, strict=True)],
            literal(part).label("part"),
        )
        .where(outstanding if owing else not_(outstanding))
        .order_by(Withholding.decided_on, Withholding.id),
        Withholding,
    )


def _reconciliation_lines(today: date) -> list[ReconciliationLine]:
    """Every live withholding, those with something outstanding first, oldest first."""
    return _lines(db.session.execute(_lines_query(today)).all(), today)


def _lines_query(today: date) -> Select[Any]:
    paid = _transfers_by_withholding()
    receivable_id = engine.account_id(WITHHELD_RECEIVABLE)
    receivable = (
        select(Posting.withholding_id.label("withholding_id"), summed(Posting.amount_minor).label("minor"))
        # Postings with a withholding only: a range of ix_ledger_posting_withholding_id_figures.
        .where(Posting.withholding_id.is_not(None), Posting.account_id == receivable_id)
        .group_by(Posting.withholding_id)
        .subquery("receivable")
    )
    transferred = func.coalesce(paid.c.paid, 0)
    return standing(
        select(
            *_RECORD_COLUMNS,
            transferred,
            paid.c.last_on,
            func.coalesce(receivable.c.minor, 0),
            _ageing_bucket(Withholding.decided_on, today),
        )
        .outerjoin(paid, paid.c.withholding_id == Withholding.id)
        .outerjoin(receivable, receivable.c.withholding_id == Withholding.id)
        .order_by(
            case((Withholding.amount_minor - transferred > 0, 0), else_=1),
            Withholding.decided_on,
            Withholding.id,
        ),
        Withholding,
    )


def _lines(rows: Sequence[Any], today: date) -> list[ReconciliationLine]:
    places = exponents()
    labels = [label for _, _, label in AGEING_BUCKETS]
    return [
        ReconciliationLine(
            withholding_id=id_,
            allegation_ref=ref,
            country_code=country,
            currency=currency,
            decided_on=decided_on,
            withheld=Decimal(withheld).scaleb(-places[currency]),
            transferred=Decimal(paid_minor).scaleb(-places[currency]),
            ledger_outstanding=Decimal(ledger).scaleb(-places[currency]),
            last_transfer=last,
            days_outstanding=(today - decided_on).days,
            age=labels[age],
        )
        for id_, ref, country, currency, decided_on, withheld, paid_minor, last, ledger, age in rows
    ]


def _amounts() -> dict[str, Decimal]:
    return {"withheld": Decimal(0), "transferred": Decimal(0), "outstanding": Decimal(0)}


@dataclass
class _Summary:
    by_country: list[dict[str, Any]]
    ageing: dict[str, Decimal]
    totals: dict[str, dict[str, Decimal]]
    by_mission: dict[tuple[str, str], dict[str, Decimal]]
    line_count: int
    owing_count: int


def _withholding_summary(today: date) -> _Summary:
    """By contributing country and currency, the ageing of what is outstanding in US dollars, the
    totals per currency, by holding mission and currency, and how many lines there are and owe —
    from one query: each live withholding with what its transfers brought in (kept on it), grouped
    by country, currency, mission and ageing bucket (one index read, not once per table of the
    page)."""
    each = _each_withholding(today)
    owed = each.c.withheld - each.c.transferred
    query = select(
        each.c.country_code,
        each.c.currency,
        each.c.mission,
        each.c.age,
        func.count(),
        summed(each.c.withheld),
        summed(each.c.transferred),
        func.count(case((owed > 0, 1))),
        func.min(case((owed != 0, each.c.decided_on))),
    ).group_by(each.c.country_code, each.c.currency, each.c.mission, each.c.age)
    labels = [label for _, _, label in AGEING_BUCKETS]
    by_country: dict[tuple[str, str], dict[str, Any]] = {}
    ageing = {label: Decimal(0) for label in labels}
    totals: dict[str, dict[str, Decimal]] = defaultdict(_amounts)
    missions: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    line_count = owing_count = 0
    rows = db.session.execute(query)
    for country, currency, mission, age_index, count, withheld_minor, paid_minor, owing, oldest in rows:
        line_count, owing_count = line_count + count, owing_count + owing
        held = missions[(mission, currency)]
        held[0], held[1] = held[0] + withheld_minor, held[1] + paid_minor
        amounts = {
            "withheld": from_minor(withheld_minor, currency),
            "transferred": from_minor(paid_minor, currency),
        }
        amounts["outstanding"] = amounts["withheld"] - amounts["transferred"]
        row = by_country.setdefault(
            (country, currency),
            {"country": country, "currency": currency, "allegations": 0, **_amounts(), "oldest_days": 0},
        )
        row["allegations"] += count
        if oldest is not None:
            row["oldest_days"] = max(row["oldest_days"], (today - oldest).days)
        for name, amount in amounts.items():
            row[name] += amount
            totals[currency][name] += amount
        if currency == engine.USD and amounts["outstanding"]:
            ageing[labels[age_index]] += amounts["outstanding"]
    countries = sorted(by_country.values(), key=lambda r: (-r["outstanding"], r["country"], r["currency"]))
    by_mission = {}
    for (mission, currency), (withheld_minor, paid_minor) in sorted(missions.items()):
        withheld, transferred = from_minor(withheld_minor, currency), from_minor(paid_minor, currency)
        by_mission[(mission, currency)] = {
            "withheld": withheld,
            "transferred": transferred,
            "outstanding": withheld - transferred,
        }
    return _Summary(countries, ageing, dict(sorted(totals.items())), by_mission, line_count, owing_count)


def _each_withholding(today: date) -> Any:
    """Each standing withholding once, with what its standing transfers brought in (`transferred`,
    kept on it by `ledger.withheld_transferred`): read from its index on the country alone, its
    transfers not joined."""
    return standing(
        select(
            Withholding.country_code.label("country_code"),
            Withholding.currency.label("currency"),
            func.coalesce(Withholding.mission, "").label("mission"),
            _ageing_bucket(Withholding.decided_on, today).label("age"),
            Withholding.decided_on.label("decided_on"),
            Withholding.amount_minor.label("withheld"),
            Withholding.transferred_minor.label("transferred"),
        ),
        Withholding,
    ).subquery("each")


def _withholding_ledger_totals() -> dict[str, dict[str, Decimal]]:
    """From the accounts' balances, per currency, in one query: withheld = credits to withheld
    income (net of reversals), transferred = cash received for an allegation, outstanding = the
    receivable."""
    income, cash, receivable = (
        engine.account_id(code) for code in (engine.WITHHELD_INCOME, engine.CASH, WITHHELD_RECEIVABLE)
    )
    kept = balances()
    query = (
        select(kept.c.account_id, kept.c.currency, summed(kept.c.amount_minor))
        .where(
            or_(
                kept.c.account_id.in_((income, receivable)),
                and_(kept.c.account_id == cash, kept.c.allegation_ref != ""),
            )
        )
        .group_by(kept.c.account_id, kept.c.currency)
    )
    totals: dict[str, dict[str, Decimal]] = {}
    for account, currency, minor in db.session.execute(query):
        values = totals.setdefault(currency, _amounts())
        amount = from_minor(minor or 0, currency)
        if account == income:
            values["withheld"] = -amount  # credits
        else:
            values["transferred" if account == cash else "outstanding"] = amount
    return totals
