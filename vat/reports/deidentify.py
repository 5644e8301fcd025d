"""De-identified per-victim rows, for analysis outside the advocates' scope: the case code becomes
a stable keyed hash (the same victim gets the same id in every export, and nobody without the key
can go back), every date moves by the same secret offset for a given victim and is then shown
as its month only, money is shown as a band, the mission is dropped, and only victims who
consented to aggregate reporting are included. Identity fields are never read by reports in the
first place.

Bands and months, not amounts and days: the ledger's direct-support list shows each payment's
exact amount and date beside its case code, so an exact figure here would join a pseudonym back
to its case code (issue 15, item 10). Intervals (days from referral to a service) stay exact."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app

MAX_SHIFT_DAYS = 30
# Upper bounds of the money bands, in US dollars; the last band is open.
MONEY_BANDS = (100, 500, 1_000, 2_500, 5_000, 10_000)
MONEY_COLUMNS = (
    "direct support (USD)",
    "paid by projects (USD)",
    "other trust-fund services (USD)",
    "direct support through implementing partners (USD)",
    "direct support through the mission (USD)",
)
# The mission narrows a victim down; a basis (a decision reference) is beside its case code in the
# ledger's direct-support list.
DROPPED_COLUMNS = ("mission", "approved bases of direct support")
DATE_COLUMNS = ("registered on", "last case update")


def _keyed(purpose: str, case_code: str) -> bytes:
    key = hmac.new(current_app.config["VAT_MAC_KEY"].encode(), b"reports.deidentify", hashlib.sha256).digest()
    return hmac.new(key, f"{purpose}:{case_code}".encode(), hashlib.sha256).digest()


def pseudonym(case_code: str) -> str:
    return "V-" + _keyed("id", case_code).hex()[:16]


def date_shift(case_code: str) -> timedelta:
    """Between −30 and +30 days, never zero, the same for every date of one victim."""
    span = 2 * MAX_SHIFT_DAYS
    days = int.from_bytes(_keyed("dates", case_code)[:4], "big") % span - MAX_SHIFT_DAYS
    return timedelta(days=days or MAX_SHIFT_DAYS)


def money_band(amount: Decimal) -> str:
    """The band of `amount` (US dollars): 0, under 100, 100–499, … 10,000 or more."""
    if not amount:
        return "0"
    lower = 0
    for upper in MONEY_BANDS:
        if amount < upper:
            return f"under {upper:,}" if lower == 0 else f"{lower:,}–{upper - 1:,}"
        lower = upper
    return f"{lower:,} or more"


def _renamed(name: str, i: int, code_at: int, date_columns: list[int], money_columns: list[int]) -> str:
    if i == code_at:
        return "pseudonymous id"
    if i in date_columns:
        return f"{name.removesuffix(' on')} (month, shifted)"
    if i in money_columns:
        return f"{name} band"
    return name


def deidentify(header: list[str], rows: Iterable[list[Any]]) -> tuple[list[str], Iterator[list[Any]]]:
    """The header and rows of the per-victim export, de-identified (see the module docstring)."""
    code_at = header.index("case code")
    dropped = {header.index(name) for name in DROPPED_COLUMNS if name in header}
    date_columns = [i for i, name in enumerate(header) if name in DATE_COLUMNS]
    money_columns = [i for i, name in enumerate(header) if name in MONEY_COLUMNS]
    new_header = [
        _renamed(name, i, code_at, date_columns, money_columns)
        for i, name in enumerate(header)
        if i not in dropped
    ]

    def generate() -> Iterator[list[Any]]:
        for row in rows:
            code = row[code_at]
            shift = date_shift(code)
            values = list(row)
            values[code_at] = pseudonym(code)
            for i in date_columns:
                if isinstance(values[i], date):
                    values[i] = f"{values[i] + shift:%Y-%m}"
            for i in money_columns:
                values[i] = money_band(Decimal(values[i] or 0))
            yield [v for i, v in enumerate(values) if i not in dropped]

    return new_header, generate()
