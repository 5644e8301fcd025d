"""The close pack of one month: what auditors keep when the month is sealed.

It holds only its period: the entries dated in the month and what they moved on each account,
the withholdings, transfers, pledges and receipts dated in the month, and the month's rates. The
trial balance is the balances at the month's end (entries dated up to it). Every section carries
its totals, each the sum of the section's rows, so the pack can be checked on its own."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from ledger import engine
from ledger.engine import cents, from_minor
from ledger.models import (
    Account,
    Entry,
    ExchangeRate,
    Pledge,
    Posting,
    Receipt,
    Withholding,
    WithholdingTransfer,
)
from ledger.reports.statements import trial_balance
from vat.db import db

FUND = "Trust Fund in Support of Victims of Sexual Exploitation and Abuse"


def month_end(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def close_pack(month: date, *, head_seq: int, head_hash: str, closed_by: str | None) -> dict[str, Any]:
    """The pack of `month` (its first day), sealed by the chain head at closing."""
    end = month_end(month)
    return {
        "fund": FUND,
        "period": f"{month:%Y-%m}",
        "closed_by": closed_by,
        "chain_head": {"seq": head_seq, "hash": head_hash},
        **_entries(month, end),
        "trial_balance": _trial_balance(end),
        **_records(month, end),
        "rates": [
            {"currency": r.currency, "rate": str(r.rate.normalize()), "source": r.source}
            for r in db.session.scalars(
                select(ExchangeRate).where(ExchangeRate.month == month).order_by(ExchangeRate.currency)
            )
        ],
    }


def _entries(start: date, end: date) -> dict[str, Any]:
    """The month's entries with the dollars each debited, and what they moved on each account."""
    debit = func.coalesce(func.sum(Posting.usd_minor).filter(Posting.usd_minor > 0), 0)
    credit = func.coalesce(func.sum(Posting.usd_minor).filter(Posting.usd_minor < 0), 0)
    in_period = (Entry.entry_date >= start, Entry.entry_date <= end)
    entries = db.session.execute(
        select(Entry.seq, Entry.entry_date, Entry.kind, Entry.memo, debit)
        .join(Posting, Posting.entry_id == Entry.id)
        .where(*in_period)
        .group_by(Entry.id, Entry.seq, Entry.entry_date, Entry.kind, Entry.memo)
        .order_by(Entry.seq)
    ).all()
    movements = db.session.execute(
        select(Account.code, Account.name, debit, credit)
        .select_from(Posting)
        .join(Entry, Entry.id == Posting.entry_id)
        .join(Account, Account.id == Posting.account_id)
        .where(*in_period)
        .group_by(Account.code, Account.name)
        .order_by(Account.code)
    ).all()
    return {
        "entries": [
            {"seq": seq, "date": on.isoformat(), "kind": kind, "memo": memo, "debit": str(cents(d))}
            for seq, on, kind, memo, d in entries
        ],
        "entries_total": {"count": len(entries), "debit": str(cents(sum(row[4] for row in entries)))},
        "movements": [
            {"account": code, "name": name, "debit": str(cents(d)), "credit": str(-cents(c))}
            for code, name, d, c in movements
        ],
        "movements_total": {
            "debit": str(cents(sum(row[2] for row in movements))),
            "credit": str(-cents(sum(row[3] for row in movements))),
        },
    }


def _trial_balance(end: date) -> dict[str, Any]:
    rows = [r for r in trial_balance(end) if r.debit or r.credit]
    return {
        "rows": [
            {
                "account": r.account.code,
                "name": r.account.name,
                "debit": str(r.debit),
                "credit": str(r.credit),
            }
            for r in rows
        ],
        "total": {"debit": str(sum(r.debit for r in rows)), "credit": str(sum(r.credit for r in rows))},
    }


# Per section of the pack, its kinds of sub-ledger record: (model, its date, the amount's name,
# the columns shown). A transfer's currency is its withholding's.
RECORDS: dict[str, dict[str, tuple[Any, str, str, tuple[str, ...]]]] = {
    "withholdings": {
        "decided": (Withholding, "decided_on", "withheld", ("id", "allegation_ref", "country_code")),
        "transferred": (WithholdingTransfer, "transferred_on", "transferred", ("withholding_id",)),
    },
    "contributions": {
        "pledged": (Pledge, "pledged_on", "pledged", ("id", "donor_id")),
        "received": (Receipt, "received_on", "received", ("pledge_id", "donor_id")),
    },
}


def _records(start: date, end: date) -> dict[str, Any]:
    """Each section's records booked by an entry dated in the month, with whether that entry has
    been reversed since (its reversal, dated later, is in its own month's pack), and its totals."""
    reversed_ids = set(db.session.scalars(engine.reversed_ids()))
    sections: dict[str, Any] = {}
    for section, kinds in RECORDS.items():
        sections[section] = {}
        for kind, (model, on, amount, columns) in kinds.items():
            currency = Withholding.currency if model is WithholdingTransfer else model.currency
            query = select(
                *(getattr(model, c) for c in columns),
                getattr(model, on),
                currency,
                model.amount_minor,
                Entry.id,
            ).join(Entry, Entry.id == model.entry_id)
            if model is WithholdingTransfer:
                query = query.join(Withholding, Withholding.id == WithholdingTransfer.withholding_id)
            rows = db.session.execute(
                query.where(Entry.entry_date >= start, Entry.entry_date <= end).order_by(Entry.seq)
            )
            sections[section][kind] = [
                {
                    **dict(zip(columns, row[: len(columns)], strict=True)),
                    "date": row[-4].isoformat(),
                    "currency": row[-3],
                    amount: str(from_minor(row[-2], row[-3])),
                    "reversed": row[-1] in reversed_ids,
                }
                for row in rows
            ]
        amounts = [amount for _, _, amount, _ in kinds.values()]
        sections[section]["totals"] = _totals(
            [row for kind in kinds for row in sections[section][kind]], *amounts
        )
    return sections


def _totals(rows: Iterable[dict[str, Any]], *columns: str) -> dict[str, dict[str, str]]:
    """Per currency, the sum of each of `columns` over the rows (amounts kept as strings)."""
    sums: dict[str, dict[str, Decimal]] = defaultdict(lambda: dict.fromkeys(columns, Decimal(0)))
    for row in rows:
        for column in columns:
            if column in row:
                sums[row["currency"]][column] += Decimal(row[column])
    return {
        currency: {
            k: str(v.quantize(Decimal(1).scaleb(-engine.exponent(currency)))) for k, v in values.items()
        }
        for currency, values in sorted(sums.items())
    }
