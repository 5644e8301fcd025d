"""What the ledger says, read from postings: trial balance, fund statement, donors, projects, the
withholding reconciliation with ageing, sub-ledgers against control accounts, the close pack."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select

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
    Donor,
    Entry,
    ExchangeRate,
    Period,
    Pledge,
    Posting,
    Project,
    Receipt,
    Tranche,
    Withholding,
    WithholdingTransfer,
)
from ledger.services import behind_schedule, fund_position, psc_rate
from vat.db import db

AGEING_BUCKETS = (
    (0, 90, "0–90 days"),
    (91, 180, "91–180 days"),
    (181, 365, "181–365 days"),
    (366, None, "over 365 days"),
)


# --- trial balance and fund statement --------------------------------------------------------


@dataclass
class BalanceRow:
    account: Account
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
    for account in db.session.scalars(select(Account).order_by(Account.code)):
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


def donor_summary() -> list[dict[str, Any]]:
    """Per donor, in US dollars: pledged, received against pledges and unpledged, outstanding."""
    pledged = dict(
        db.session.execute(
            select(Posting.donor_id, func.sum(Posting.usd_minor))
            .join(Entry)
            .where(
                Posting.account_id == engine.account_id(PLEDGES_RECEIVABLE),
                Entry.kind == engine.EntryKind.PLEDGE,
                Entry.id.not_in(engine.reversed_ids()),
            )
            .group_by(Posting.donor_id)
        ).all()
    )
    outstanding = dict(
        db.session.execute(
            select(Posting.donor_id, func.sum(Posting.usd_minor))
            .where(Posting.account_id == engine.account_id(PLEDGES_RECEIVABLE))
            .group_by(Posting.donor_id)
        ).all()
    )
    received = dict(
        db.session.execute(
            select(Posting.donor_id, func.sum(Posting.usd_minor))
            .where(Posting.account_id == engine.account_id(engine.CASH), Posting.donor_id.is_not(None))
            .group_by(Posting.donor_id)
        ).all()
    )
    rows = []
    for donor in db.session.scalars(select(Donor).order_by(Donor.name)):
        p = cents(pledged.get(donor.id) or 0)
        rows.append(
            {
                "donor": donor,
                "pledged": p,
                "received": cents(received.get(donor.id) or 0),
                "outstanding": cents(outstanding.get(donor.id) or 0),
            }
        )
    return rows


def donor_pledges(donor: Donor) -> list[dict[str, Any]]:
    # Outstanding balances and reversals in one query each, not one per pledge.
    balances = dict(
        db.session.execute(
            select(Posting.pledge_id, func.sum(Posting.amount_minor))
            .join(Pledge, Pledge.id == Posting.pledge_id)
            .where(
                Posting.account_id == engine.account_id(PLEDGES_RECEIVABLE),
                Posting.currency == Pledge.currency,
                Pledge.donor_id == donor.id,
            )
            .group_by(Posting.pledge_id)
        ).all()
    )
    reversed_entries = _reversed_entries()
    rows = []
    for pledge in db.session.scalars(
        select(Pledge).where(Pledge.donor_id == donor.id).order_by(Pledge.pledged_on)
    ):
        amount = from_minor(pledge.amount_minor, pledge.currency)
        outstanding = from_minor(balances.get(pledge.id) or 0, pledge.currency)
        reversed_ = pledge.entry_id in reversed_entries
        rows.append(
            {
                "pledge": pledge,
                "amount": amount,
                "received": Decimal(0) if reversed_ else amount - outstanding,
                "outstanding": outstanding,
                "reversed": reversed_,
            }
        )
    return rows


def donor_receipts(donor: Donor) -> list[tuple[Receipt, Decimal, bool]]:
    receipts = db.session.scalars(
        select(Receipt).where(Receipt.donor_id == donor.id).order_by(Receipt.received_on, Receipt.id)
    )
    reversed_entries = _reversed_entries()
    return [(r, from_minor(r.amount_minor, r.currency), r.entry_id in reversed_entries) for r in receipts]


def _reversed_entries() -> set[int]:
    """Ids of the entries that have been reversed (reversals are few)."""
    return set(db.session.scalars(engine.reversed_ids()))


def _reversed(entry_id: int | None) -> bool:
    return db.session.scalar(select(Entry.id).where(Entry.reverses_id == entry_id)) is not None


# --- withholdings: reconciliation with ageing --------------------------------------------------


def bucket(days: int) -> str:
    for low, high, label in AGEING_BUCKETS:
        if days >= low and (high is None or days <= high):
            return label
    return AGEING_BUCKETS[0][2]


@dataclass
class ReconciliationLine:
    withholding: Withholding
    withheld: Decimal
    transferred: Decimal
    ledger_outstanding: Decimal
    last_transfer: date | None
    days_outstanding: int

    @property
    def outstanding(self) -> Decimal:
        return self.withheld - self.transferred

    @property
    def ageing(self) -> str | None:
        return bucket(self.days_outstanding) if self.outstanding else None


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
    withheld-income, withheld-receivable and cash accounts, which must agree."""
    today = today or date.today()
    withholdings = db.session.scalars(
        _live(select(Withholding), Withholding).order_by(Withholding.decided_on, Withholding.id)
    ).all()
    transfers: dict[int, list[WithholdingTransfer]] = defaultdict(list)
    for transfer in db.session.scalars(_live(select(WithholdingTransfer), WithholdingTransfer)):
        transfers[transfer.withholding_id].append(transfer)
    ledger_outstanding = dict(
        db.session.execute(
            select(Posting.withholding_id, func.sum(Posting.amount_minor))
            .where(Posting.account_id == engine.account_id(WITHHELD_RECEIVABLE))
            .group_by(Posting.withholding_id)
        ).all()
    )
    lines = []
    for w in withholdings:
        done = transfers.get(w.id, [])
        transferred = sum((t.amount_minor for t in done), 0)
        last = max((t.transferred_on for t in done), default=None)
        line = ReconciliationLine(
            withholding=w,
            withheld=from_minor(w.amount_minor, w.currency),
            transferred=from_minor(transferred, w.currency),
            ledger_outstanding=from_minor(ledger_outstanding.get(w.id) or 0, w.currency),
            last_transfer=last,
            days_outstanding=(today - w.decided_on).days,
        )
        lines.append(line)

    by_country: dict[tuple[str, str], dict[str, Any]] = {}
    ageing: dict[str, Decimal] = {label: Decimal(0) for _, _, label in AGEING_BUCKETS}
    totals: dict[str, dict[str, Decimal]] = {}
    for line in lines:
        w = line.withholding
        row = by_country.setdefault(
            (w.country_code, w.currency),
            {
                "country": w.country_code,
                "currency": w.currency,
                "allegations": 0,
                "withheld": Decimal(0),
                "transferred": Decimal(0),
                "outstanding": Decimal(0),
                "oldest_days": 0,
            },
        )
        row["allegations"] += 1
        row["withheld"] += line.withheld
        row["transferred"] += line.transferred
        row["outstanding"] += line.outstanding
        if line.outstanding:
            row["oldest_days"] = max(row["oldest_days"], line.days_outstanding)
            if w.currency == engine.USD:
                ageing[line.ageing or ""] += line.outstanding
        t = totals.setdefault(
            w.currency, {"withheld": Decimal(0), "transferred": Decimal(0), "outstanding": Decimal(0)}
        )
        t["withheld"] += line.withheld
        t["transferred"] += line.transferred
        t["outstanding"] += line.outstanding
    return Reconciliation(
        lines=sorted(lines, key=lambda x: (-(x.outstanding > 0), -x.days_outstanding)),
        by_country=sorted(by_country.values(), key=lambda r: (-r["outstanding"], r["country"])),
        ageing=ageing,
        totals=totals,
        ledger=_withholding_ledger_totals(),
    )


def _withholding_ledger_totals() -> dict[str, dict[str, Decimal]]:
    """From the accounts, per currency: withheld = credits to withheld income (net of reversals),
    transferred = cash received with a withholding dimension, outstanding = the receivable."""

    def per_currency(code: str, *where: Any) -> dict[str, Decimal]:
        query = (
            select(Posting.currency, func.sum(Posting.amount_minor))
            .where(Posting.account_id == engine.account_id(code), *where)
            .group_by(Posting.currency)
        )
        return {c: from_minor(v or 0, c) for c, v in db.session.execute(query)}

    withheld = per_currency(engine.WITHHELD_INCOME)
    transferred = per_currency(engine.CASH, Posting.withholding_id.is_not(None))
    outstanding = per_currency(WITHHELD_RECEIVABLE)
    currencies = set(withheld) | set(transferred) | set(outstanding)
    return {
        c: {
            "withheld": -withheld.get(c, Decimal(0)),
            "transferred": transferred.get(c, Decimal(0)),
            "outstanding": outstanding.get(c, Decimal(0)),
        }
        for c in currencies
    }


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
    """`project_figures` for many projects, in a fixed number of queries."""
    payable = dict(
        db.session.execute(
            select(Posting.project_id, func.sum(Posting.amount_minor))
            .join(Project, Project.id == Posting.project_id)
            .where(
                Posting.account_id == engine.account_id(GRANTS_PAYABLE), Posting.currency == Project.currency
            )
            .group_by(Posting.project_id)
        ).all()
    )
    tranches = select(Tranche.project_id, func.sum(Tranche.amount_minor)).group_by(Tranche.project_id)
    posted = dict(db.session.execute(_live(tranches.where(Tranche.status == "posted"), Tranche)).all())
    pending = dict(db.session.execute(tranches.where(Tranche.status == "pending")).all())
    figures = []
    for project in projects:
        currency = project.currency
        figures.append(
            {
                "approved": from_minor(project.approved_minor, currency),
                "disbursed": from_minor(posted.get(project.id) or 0, currency),
                "remaining": -from_minor(payable.get(project.id) or 0, currency),
                "released": from_minor(project.released_minor, currency),
                "pending": from_minor(pending.get(project.id) or 0, currency),
                "behind": behind_schedule(project, today),
            }
        )
    return figures


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

    pledges: dict[str, int] = defaultdict(int)
    for p in db.session.scalars(_live(select(Pledge), Pledge)):
        pledges[p.currency] += p.amount_minor
    for r in db.session.scalars(_live(select(Receipt).where(Receipt.pledge_id.is_not(None)), Receipt)):
        pledges[r.currency] -= r.amount_minor
    compare("pledges", PLEDGES_RECEIVABLE, pledges, 1)

    withheld: dict[str, int] = defaultdict(int)
    currency_of: dict[int, str] = {}
    for w in db.session.scalars(_live(select(Withholding), Withholding)):
        withheld[w.currency] += w.amount_minor
        currency_of[w.id] = w.currency
    for t in db.session.scalars(_live(select(WithholdingTransfer), WithholdingTransfer)):
        withheld[currency_of[t.withholding_id]] -= t.amount_minor
    compare("withholdings", WITHHELD_RECEIVABLE, withheld, 1)

    grants: dict[str, int] = defaultdict(int)
    live_projects = {p.id: p for p in db.session.scalars(_live(select(Project), Project))}
    for project in live_projects.values():
        grants[project.currency] += project.approved_minor - project.released_minor
    for tranche in db.session.scalars(_live(select(Tranche).where(Tranche.status == "posted"), Tranche)):
        if tranche.project_id in live_projects:
            grants[live_projects[tranche.project_id].currency] -= tranche.amount_minor
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
