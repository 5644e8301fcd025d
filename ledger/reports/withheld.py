"""The withholding reconciliation: per allegation and per contributing country, what was withheld,
transferred and is outstanding, with its ageing, set against the accounts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, or_, select

from ledger import engine
from ledger.balances import balances
from ledger.engine import WITHHELD_RECEIVABLE, from_minor
from ledger.models import Account, Posting, Withholding, WithholdingTransfer
from ledger.reports.amounts import exponents, summed
from ledger.services.booking import standing
from vat.db import db
from vat.paging import Page, page_of

AGEING_BUCKETS = (
    (0, 90, "0–90 days"),
    (91, 180, "91–180 days"),
    (181, 365, "181–365 days"),
    (366, None, "over 365 days"),
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
    withheld-income, withheld-receivable and cash accounts, which must agree. One grouped query per
    table of the page: the lines (none with `lines=False`, for a page that reads them a page at a
    time with `line_page`), the countries with their ageing, the accounts."""
    today = today or date.today()
    by_country, ageing, totals = _withholding_summary(today)
    return Reconciliation(
        lines=_reconciliation_lines(today) if lines else [],
        by_country=by_country,
        ageing=ageing,
        totals=totals,
        ledger=_withholding_ledger_totals(),
    )


def withheld_totals(today: date | None = None) -> dict[str, dict[str, Decimal]]:
    """The reconciliation's totals per currency (withheld, transferred, outstanding from the
    records) without its lines: for pages that show only the totals."""
    return _withholding_summary(today or date.today())[2]


def for_allegation(allegation_ref: str) -> dict[str, dict[str, Decimal]]:
    """What was withheld for one allegation, transferred and outstanding, per currency."""
    rows = _amounts_by(literal(""), Withholding.allegation_ref == allegation_ref)
    return {currency: amounts for (_, currency), amounts in rows.items()}


def by_mission() -> dict[tuple[str, str], dict[str, Decimal]]:
    """Withheld, transferred and outstanding per holding mission ("" if none recorded) and
    currency: what each mission holds for the fund (OIOS §115)."""
    return _amounts_by(func.coalesce(Withholding.mission, ""))


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


def line_page(today: date, *, page: int, per_page: int) -> Page:
    """One page of the reconciliation's lines, in their order (the page reads its own rows)."""
    found = page_of(
        _lines_query(today),
        page=page,
        per_page=per_page,
        count=lambda: db.session.scalar(standing(select(func.count(Withholding.id)), Withholding)) or 0,
    )
    return replace(found, items=_lines(found.items, today))


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
            Withholding.id,
            Withholding.allegation_ref,
            Withholding.country_code,
            Withholding.currency,
            Withholding.decided_on,
            Withholding.amount_minor,
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


def _withholding_summary(
    today: date,
) -> tuple[list[dict[str, Any]], dict[str, Decimal], dict[str, dict[str, Decimal]]]:
    """By contributing country and currency, the ageing of what is outstanding in US dollars, and
    the totals per currency — from one query grouped by country, currency and ageing bucket."""
    paid = _transfers_by_withholding()
    transferred = func.coalesce(paid.c.paid, 0)
    outstanding = Withholding.amount_minor - transferred
    age = _ageing_bucket(Withholding.decided_on, today)
    query = standing(
        select(
            Withholding.country_code,
            Withholding.currency,
            age,
            func.count(),
            summed(Withholding.amount_minor),
            summed(transferred),
            func.min(case((outstanding != 0, Withholding.decided_on))),
        )
        .outerjoin(paid, paid.c.withholding_id == Withholding.id)
        .group_by(Withholding.country_code, Withholding.currency, age),
        Withholding,
    )
    labels = [label for _, _, label in AGEING_BUCKETS]
    by_country: dict[tuple[str, str], dict[str, Any]] = {}
    ageing = {label: Decimal(0) for label in labels}
    totals: dict[str, dict[str, Decimal]] = defaultdict(_amounts)
    rows = db.session.execute(query)
    for country, currency, age_index, count, withheld_minor, paid_minor, oldest in rows:
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
    return countries, ageing, dict(sorted(totals.items()))


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
