"""What the ledger says, read from postings: trial balance, fund statement, donors, projects, the
withholding reconciliation with ageing, sub-ledgers against control accounts, the close pack."""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, ColumnElement, Select, and_, case, cast, func, or_, select

from ledger import engine
from ledger.engine import (
    GRANTS_PAYABLE,
    PLEDGES_RECEIVABLE,
    WITHHELD_RECEIVABLE,
    cents,
    from_minor,
)
from ledger.models import (
    Account,
    Currency,
    DirectSupport,
    Donor,
    Entry,
    ExchangeRate,
    Period,
    Pledge,
    Posting,
    Project,
    ProjectStatus,
    Receipt,
    Tranche,
    Withholding,
    WithholdingTransfer,
)
from ledger.services import behind_schedule, fund_position, psc_rate
from vat.db import db
from vat.paging import Page, page_of

AGEING_BUCKETS = (
    (0, 90, "0–90 days"),
    (91, 180, "91–180 days"),
    (181, 365, "181–365 days"),
    (366, None, "over 365 days"),
)


# --- trial balance and fund statement --------------------------------------------------------


@dataclass
class BalanceRow:
    account: Any  # the account's id, code, name and type: a row, not an ORM object, to be kept
    debit: Decimal
    credit: Decimal

    @property
    def balance(self) -> Decimal:
        return self.debit - self.credit


def trial_balance(as_of: date | None = None) -> list[BalanceRow]:
    """Every account's US-dollar debits and credits (to `as_of`, inclusive)."""
    debit = func.coalesce(func.sum(Posting.usd_minor).filter(Posting.usd_minor > 0), 0)
    credit = func.coalesce(func.sum(Posting.usd_minor).filter(Posting.usd_minor < 0), 0)
    query = select(Posting.account_id, debit, credit).join(Entry).group_by(Posting.account_id)
    if as_of is not None:
        query = query.where(Entry.entry_date <= as_of)
    sums = {row[0]: (row[1], row[2]) for row in db.session.execute(query)}
    rows = []
    accounts = select(Account.id, Account.code, Account.name, Account.type).order_by(Account.code)
    for account in db.session.execute(accounts):
        d, c = sums.get(account.id, (0, 0))
        rows.append(BalanceRow(account, cents(d), -cents(c)))
    return rows


def fund_statement(start: date | None = None, end: date | None = None) -> dict[str, Any]:
    """Income by source (voluntary by donor, withheld by country), expenses by category with the
    programme support cost on its own line, and the fund balance."""

    def total(code: str, group: Any = None) -> Any:
        query = (
            select(func.coalesce(func.sum(Posting.usd_minor), 0))
            .join(Entry)
            .where(Posting.account_id == engine.account_id(code))
        )
        if start:
            query = query.where(Entry.entry_date >= start)
        if end:
            query = query.where(Entry.entry_date <= end)
        if group is None:
            return cents(db.session.scalar(query) or 0)
        query = query.add_columns(group).group_by(group)
        return [(key, -cents(value)) for value, key in db.session.execute(query)]

    donors = {d.id: d.name for d in db.session.scalars(select(Donor))}
    voluntary = sorted(
        ((donors.get(k, "—"), v) for k, v in total(engine.CONTRIBUTIONS, Posting.donor_id) if v),
        key=lambda r: -r[1],
    )
    withheld = sorted(
        ((k or "—", v) for k, v in total(engine.WITHHELD_INCOME, Posting.country_code) if v),
        key=lambda r: -r[1],
    )
    exchange = -(total(engine.EXCHANGE_DIFFERENCES) + total(engine.ROUNDING))
    income = sum((v for _, v in voluntary), Decimal(0)) + sum((v for _, v in withheld), Decimal(0)) + exchange
    expenses = [
        (_l("Project grants"), total(engine.GRANT_EXPENSE)),
        (_l("Direct support to victims"), total(engine.VICTIM_SUPPORT)),
        (_l("Programme support cost"), total(engine.PROGRAMME_SUPPORT)),
    ]
    spent = sum((v for _, v in expenses), Decimal(0))
    return {
        "voluntary": voluntary,
        "withheld": withheld,
        "exchange": exchange,
        "income": income,
        "expenses": expenses,
        "spent": spent,
        "surplus": income - spent,
        "position": fund_position(),
        "psc_rate": psc_rate(),
    }


# --- donors ----------------------------------------------------------------------------------


def _live(query: Select[Any], model: Any) -> Select[Any]:
    return query.where(model.entry_id.is_not(None), model.entry_id.not_in(engine.reversed_ids()))


@dataclass(frozen=True)
class DonorFigures:
    """A donor's figures in US dollars: pledged, received (against pledges and unpledged), outstanding."""

    pledged: Decimal = Decimal(0)
    received: Decimal = Decimal(0)
    outstanding: Decimal = Decimal(0)

    def __add__(self, other: DonorFigures) -> DonorFigures:
        return DonorFigures(
            self.pledged + other.pledged, self.received + other.received, self.outstanding + other.outstanding
        )


def donor_figures() -> dict[int, DonorFigures]:
    """Every donor's figures, by donor id, whatever the number of donors: one pass over the
    donors' postings, read from the index on (donor_id, account_id, entry_id, usd_minor) alone.
    A pledge counts as pledged while its entry stands (is not reversed)."""
    receivable = engine.account_id(PLEDGES_RECEIVABLE)
    live_pledges = select(Pledge.entry_id).where(Pledge.entry_id.not_in(engine.reversed_ids()))

    def total(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, Posting.usd_minor))), 0)

    rows = db.session.execute(
        select(
            Posting.donor_id,
            total(and_(Posting.account_id == receivable, Posting.entry_id.in_(live_pledges))),
            total(Posting.account_id == engine.account_id(engine.CASH)),
            total(Posting.account_id == receivable),
        )
        .where(Posting.donor_id.is_not(None))
        .group_by(Posting.donor_id)
    )
    return {
        donor_id: DonorFigures(cents(pledged), cents(received), cents(outstanding))
        for donor_id, pledged, received, outstanding in rows
    }


def donor_summary() -> list[dict[str, Any]]:
    """Per donor, in US dollars: pledged, received against pledges and unpledged, outstanding."""
    figures = donor_figures()
    rows = []
    for donor in db.session.scalars(select(Donor).order_by(Donor.name)):
        row = figures.get(donor.id, DonorFigures())
        rows.append(
            {"donor": donor, "pledged": row.pledged, "received": row.received, "outstanding": row.outstanding}
        )
    return rows


def donor_pledges(donor: Donor, *, page: int, per_page: int) -> Page:
    """One page of the donor's pledges, newest first, each with what is received and outstanding
    (in the pledge's currency): the page's balances are read pledge by pledge, not the donor's."""
    receivable = engine.account_id(PLEDGES_RECEIVABLE)
    balance = (
        select(func.coalesce(func.sum(Posting.amount_minor), 0))
        .where(
            Posting.pledge_id == Pledge.id,
            Posting.account_id == receivable,
            Posting.currency == Pledge.currency,
        )
        .scalar_subquery()
    )
    found = page_of(
        select(Pledge, balance, Pledge.entry_id.in_(engine.reversed_ids()))
        .where(Pledge.donor_id == donor.id)
        .order_by(Pledge.pledged_on.desc(), Pledge.id.desc()),
        page=page,
        per_page=per_page,
        count=lambda: (
            db.session.scalar(select(func.count(Pledge.id)).where(Pledge.donor_id == donor.id)) or 0
        ),
    )
    rows = []
    for pledge, balance_minor, reversed_ in found.items:
        amount = from_minor(pledge.amount_minor, pledge.currency)
        outstanding = from_minor(balance_minor, pledge.currency)
        rows.append(
            {
                "pledge": pledge,
                "amount": amount,
                "received": Decimal(0) if reversed_ else amount - outstanding,
                "outstanding": outstanding,
                "reversed": bool(reversed_),
            }
        )
    return replace(found, items=rows)


def donor_receipts(donor: Donor, *, page: int, per_page: int) -> Page:
    """One page of the donor's receipts, newest first: (receipt, amount, reversed) rows."""
    found = page_of(
        select(Receipt, Receipt.entry_id.in_(engine.reversed_ids()))
        .where(Receipt.donor_id == donor.id)
        .order_by(Receipt.received_on.desc(), Receipt.id.desc()),
        page=page,
        per_page=per_page,
        count=lambda: (
            db.session.scalar(select(func.count(Receipt.id)).where(Receipt.donor_id == donor.id)) or 0
        ),
    )
    return replace(
        found,
        items=[(r, from_minor(r.amount_minor, r.currency), bool(reversed_)) for r, reversed_ in found.items],
    )


def open_pledges(donor: Donor, *, limit: int) -> list[tuple[Pledge, Decimal]]:
    """The donor's `limit` oldest pledges with something outstanding, with what is outstanding
    (in the pledge's currency). A reversed pledge has nothing outstanding."""
    outstanding = func.sum(Posting.amount_minor)
    rows = db.session.execute(
        select(Pledge, outstanding)
        .join(
            Posting,
            and_(
                Posting.pledge_id == Pledge.id,
                Posting.account_id == engine.account_id(PLEDGES_RECEIVABLE),
                Posting.currency == Pledge.currency,
            ),
        )
        .where(Pledge.donor_id == donor.id)
        .group_by(Pledge.id)
        .having(outstanding > 0)
        .order_by(Pledge.pledged_on, Pledge.id)
        .limit(limit)
    )
    return [(pledge, from_minor(minor, pledge.currency)) for pledge, minor in rows]


def _reversed(entry_id: int | None) -> bool:
    return db.session.scalar(select(Entry.id).where(Entry.reverses_id == entry_id)) is not None


# --- withholdings: reconciliation with ageing --------------------------------------------------


@dataclass(slots=True)
class ReconciliationLine:
    """One live withholding as the page shows it: one flat, slotted object per line (no dict, no
    nested record), as the page holds 50,000 of them at 100,000 victims."""

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


def reconciliation(today: date | None = None) -> Reconciliation:
    """Per allegation and per contributing country: withheld, transferred and outstanding from the
    sub-ledger records, the days outstanding and their ageing bucket — with totals set against the
    withheld-income, withheld-receivable and cash accounts, which must agree. One grouped query per
    table of the page: the lines, the countries with their ageing, the accounts."""
    today = today or date.today()
    by_country, ageing, totals = _withholding_summary(today)
    return Reconciliation(
        lines=_reconciliation_lines(today),
        by_country=by_country,
        ageing=ageing,
        totals=totals,
        ledger=_withholding_ledger_totals(),
    )


def _sum(minor: Any) -> ColumnElement[int]:
    """A sum of minor units as an integer (PostgreSQL sums bigints as numeric)."""
    return cast(func.sum(minor), BigInteger)


def withheld_totals(today: date | None = None) -> dict[str, dict[str, Decimal]]:
    """The reconciliation's totals per currency (withheld, transferred, outstanding from the
    records) without its lines: for pages that show only the totals."""
    return _withholding_summary(today or date.today())[2]


def _transfers_by_withholding() -> Any:
    """Per withholding: what its live transfers brought in (`paid`) and the last day (`last_on`)."""
    return _live(
        select(
            WithholdingTransfer.withholding_id.label("withholding_id"),
            _sum(WithholdingTransfer.amount_minor).label("paid"),
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


def _reconciliation_lines(today: date) -> list[ReconciliationLine]:
    """Every live withholding, those with something outstanding first, oldest first."""
    paid = _transfers_by_withholding()
    receivable = (
        select(Posting.withholding_id.label("withholding_id"), _sum(Posting.amount_minor).label("minor"))
        .where(Posting.account_id == engine.account_id(WITHHELD_RECEIVABLE))
        .group_by(Posting.withholding_id)
        .subquery("receivable")
    )
    transferred = func.coalesce(paid.c.paid, 0)
    query = _live(
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
    places = _exponents()
    labels = [label for _, _, label in AGEING_BUCKETS]
    lines = []
    with _cycle_collector_paused():
        # Core rows, fetched in one call: the ORM would copy each row into a tuple of its own.
        rows = db.session.connection().execute(query).all()
        for id_, ref, country, currency, decided_on, withheld, paid_minor, last, ledger, age in rows:
            exponent = places[currency]
            lines.append(
                ReconciliationLine(
                    withholding_id=id_,
                    allegation_ref=ref,
                    country_code=country,
                    currency=currency,
                    decided_on=decided_on,
                    withheld=Decimal(withheld).scaleb(-exponent),
                    transferred=Decimal(paid_minor).scaleb(-exponent),
                    ledger_outstanding=Decimal(ledger).scaleb(-exponent),
                    last_transfer=last,
                    days_outstanding=(today - decided_on).days,
                    age=labels[age],
                )
            )
    return lines


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """Python's cycle collector off while many objects are made at once (and back on after, if it
    was on): tens of thousands of new objects set off full collections, each of which walks every
    object in the process — a third of the reconciliation's time at 100,000 victims. The lines
    form no reference cycles, so nothing waits that the collector would have freed sooner."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _exponents() -> dict[str, int]:
    """Decimal places per currency code."""
    return dict(db.session.execute(select(Currency.code, Currency.exponent)).all())


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
    query = _live(
        select(
            Withholding.country_code,
            Withholding.currency,
            age,
            func.count(),
            _sum(Withholding.amount_minor),
            _sum(transferred),
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
    """From the accounts, per currency, in one query: withheld = credits to withheld income (net of
    reversals), transferred = cash received with a withholding dimension, outstanding = the
    receivable."""
    income, cash, receivable = (
        engine.account_id(code) for code in (engine.WITHHELD_INCOME, engine.CASH, WITHHELD_RECEIVABLE)
    )
    query = (
        select(Posting.account_id, Posting.currency, _sum(Posting.amount_minor))
        .where(
            or_(
                Posting.account_id.in_((income, receivable)),
                and_(Posting.account_id == cash, Posting.withholding_id.is_not(None)),
            )
        )
        .group_by(Posting.account_id, Posting.currency)
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


# --- projects --------------------------------------------------------------------------------


def project_figures(project: Project, today: date | None = None) -> dict[str, Any]:
    from ledger.services import pending_total, undisbursed

    approved = from_minor(project.approved_minor, project.currency)
    left = undisbursed(project)
    return {
        "approved": approved,
        "disbursed": disbursed_amount(project),
        "remaining": left,
        "released": from_minor(project.released_minor, project.currency),
        "pending": pending_total(project),
        "behind": behind_schedule(project, today),
    }


def projects_figures(projects: list[Project], today: date | None = None) -> list[dict[str, Any]]:
    """`project_figures` for many projects (a page of them), in a fixed number of queries that
    read those projects' postings and tranches only."""
    ids = [project.id for project in projects]
    payable = dict(
        db.session.execute(
            select(Posting.project_id, func.sum(Posting.amount_minor))
            .join(Project, Project.id == Posting.project_id)
            .where(
                Posting.project_id.in_(ids),
                Posting.account_id == engine.account_id(GRANTS_PAYABLE),
                Posting.currency == Project.currency,
            )
            .group_by(Posting.project_id)
        ).all()
    )
    tranches = (
        select(Tranche.project_id, func.sum(Tranche.amount_minor))
        .where(Tranche.project_id.in_(ids))
        .group_by(Tranche.project_id)
    )
    posted = dict(db.session.execute(_live(tranches.where(Tranche.status == "posted"), Tranche)).all())
    pending = dict(db.session.execute(tranches.where(Tranche.status == "pending")).all())
    places = _exponents()  # one query, whatever currencies the page holds
    figures = []
    for project in projects:
        exponent = places[project.currency]
        figures.append(
            {
                "approved": Decimal(project.approved_minor).scaleb(-exponent),
                "disbursed": Decimal(posted.get(project.id) or 0).scaleb(-exponent),
                "remaining": -Decimal(payable.get(project.id) or 0).scaleb(-exponent),
                "released": Decimal(project.released_minor).scaleb(-exponent),
                "pending": Decimal(pending.get(project.id) or 0).scaleb(-exponent),
                "behind": behind_schedule(project, today),
            }
        )
    return figures


def project_counts(today: date | None = None) -> tuple[int, int]:
    """How many projects there are and how many are behind schedule (`behind_schedule`), in SQL."""
    today = today or date.today()
    behind = and_(
        Project.status.not_in((ProjectStatus.COMPLETED.value, ProjectStatus.CANCELLED.value)),
        or_(and_(Project.actual_start.is_(None), Project.planned_start < today), Project.planned_end < today),
    )
    count, late = db.session.execute(
        select(func.count(), func.coalesce(func.sum(case((behind, 1), else_=0)), 0)).select_from(Project)
    ).one()
    return count, int(late)


def disbursed_amount(project: Project) -> Decimal:
    minor = db.session.scalar(
        _live(
            select(func.coalesce(func.sum(Tranche.amount_minor), 0)).where(
                Tranche.project_id == project.id, Tranche.status == "posted"
            ),
            Tranche,
        )
    )
    return from_minor(minor or 0, project.currency)


# --- direct support to victims ----------------------------------------------------------------


@dataclass(frozen=True)
class DirectSupportFilters:
    """What the direct-support list is narrowed to (hashable: it keys the list's kept totals)."""

    start: date | None = None
    end: date | None = None
    currency: str = ""
    country_code: str = ""
    case_code: str = ""


def direct_support_rows(filters: DirectSupportFilters) -> Select[Any]:
    """The payments matching `filters`, newest first (an index on (paid_on, id) serves the order)."""
    query = select(DirectSupport).order_by(DirectSupport.paid_on.desc(), DirectSupport.id.desc())
    if filters.start:
        query = query.where(DirectSupport.paid_on >= filters.start)
    if filters.end:
        query = query.where(DirectSupport.paid_on <= filters.end)
    if filters.currency:
        query = query.where(DirectSupport.currency == filters.currency.upper())
    if filters.country_code:
        query = query.where(DirectSupport.country_code == filters.country_code)
    if filters.case_code:
        query = query.where(DirectSupport.case_code == filters.case_code.strip().upper())
    return query


def with_amounts(payments: list[DirectSupport]) -> list[tuple[DirectSupport, Decimal]]:
    """Each payment with its amount in its currency (one query, whatever currencies they are in)."""
    places = _exponents()
    return [(p, Decimal(p.amount_minor).scaleb(-places[p.currency])) for p in payments]


@dataclass(frozen=True)
class SupportTotal:
    currency: str
    payments: int
    amount: Decimal


def direct_support_totals(filters: DirectSupportFilters) -> list[SupportTotal]:
    """Per currency, the number and sum of the payments matching `filters`: one GROUP BY over
    them all (200,000 at 100,000 victims)."""
    matching = direct_support_rows(filters).order_by(None).subquery()
    places = _exponents()
    return [
        SupportTotal(currency, payments, Decimal(minor).scaleb(-places[currency]))
        for currency, payments, minor in db.session.execute(
            select(matching.c.currency, func.count(), func.sum(matching.c.amount_minor))
            .group_by(matching.c.currency)
            .order_by(matching.c.currency)
        )
    ]


# --- sub-ledgers against control accounts ----------------------------------------------------


def subledger_checks() -> list[dict[str, Any]]:
    """Open totals computed from the sub-ledger records (not from postings), per currency, set
    against the balance of each control account in that currency."""
    checks = []

    def compare(name: str, account: str, records: dict[str, int], sign: int) -> None:
        control = dict(
            db.session.execute(
                select(Posting.currency, func.sum(Posting.amount_minor))
                .where(Posting.account_id == engine.account_id(account))
                .group_by(Posting.currency)
            ).all()
        )
        for currency in sorted(set(records) | {c for c, v in control.items() if v}):
            open_total = from_minor(records.get(currency, 0), currency)
            ledger_total = from_minor(sign * (control.get(currency) or 0), currency)
            checks.append(
                {
                    "name": name,
                    "account": account,
                    "currency": currency,
                    "subledger": open_total,
                    "control": ledger_total,
                    "difference": open_total - ledger_total,
                }
            )

    def sums(query: Select[Any]) -> dict[str, int]:
        return {currency: int(total or 0) for currency, total in db.session.execute(query)}

    def net(plus: dict[str, int], minus: dict[str, int]) -> dict[str, int]:
        return {c: plus.get(c, 0) - minus.get(c, 0) for c in set(plus) | set(minus)}

    pledged = sums(
        _live(select(Pledge.currency, func.sum(Pledge.amount_minor)), Pledge).group_by(Pledge.currency)
    )
    received = sums(
        _live(select(Receipt.currency, func.sum(Receipt.amount_minor)), Receipt)
        .where(Receipt.pledge_id.is_not(None))
        .group_by(Receipt.currency)
    )
    compare("pledges", PLEDGES_RECEIVABLE, net(pledged, received), 1)

    withheld = sums(
        _live(select(Withholding.currency, func.sum(Withholding.amount_minor)), Withholding).group_by(
            Withholding.currency
        )
    )
    transferred = sums(
        _live(select(Withholding.currency, func.sum(WithholdingTransfer.amount_minor)), WithholdingTransfer)
        .join(Withholding, Withholding.id == WithholdingTransfer.withholding_id)
        .group_by(Withholding.currency)
    )
    compare("withholdings", WITHHELD_RECEIVABLE, net(withheld, transferred), 1)

    live_projects = _live(select(Project.id), Project)
    committed = sums(
        _live(
            select(Project.currency, func.sum(Project.approved_minor - Project.released_minor)), Project
        ).group_by(Project.currency)
    )
    disbursed = sums(
        _live(select(Project.currency, func.sum(Tranche.amount_minor)), Tranche)
        .join(Project, Project.id == Tranche.project_id)
        .where(Tranche.status == "posted", Tranche.project_id.in_(live_projects))
        .group_by(Project.currency)
    )
    grants = net(committed, disbursed)
    compare("grant commitments", GRANTS_PAYABLE, grants, -1)
    return checks


# --- periods ---------------------------------------------------------------------------------


def close_pack(month: date, *, head_seq: int, head_hash: str, closed_by: str | None) -> dict[str, Any]:
    """What auditors keep: control totals to the month's end, sub-ledger reconciliations, the
    rates used in the month, and the chain head that seals it."""
    next_month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    end = next_month - timedelta(days=1)
    rates = db.session.scalars(
        select(ExchangeRate).where(ExchangeRate.month == month).order_by(ExchangeRate.currency)
    ).all()
    entries = db.session.scalar(
        select(func.count(Entry.id)).where(Entry.entry_date >= month, Entry.entry_date <= end)
    )
    return {
        "fund": "Trust Fund in Support of Victims of Sexual Exploitation and Abuse",
        "period": f"{month:%Y-%m}",
        "closed_by": closed_by,
        "entries_in_period": entries,
        "chain_head": {"seq": head_seq, "hash": head_hash},
        "trial_balance": [
            {
                "account": r.account.code,
                "name": r.account.name,
                "debit": str(r.debit),
                "credit": str(r.credit),
            }
            for r in trial_balance(end)
        ],
        "subledgers": [{k: str(v) for k, v in c.items()} for c in subledger_checks()],
        "withholdings": {
            currency: {k: str(v) for k, v in values.items()}
            for currency, values in reconciliation(end).totals.items()
        },
        "rates": [
            {"currency": r.currency, "rate": str(r.rate.normalize()), "source": r.source} for r in rates
        ],
    }


def periods() -> list[Period]:
    return list(db.session.scalars(select(Period).order_by(Period.month.desc())))
