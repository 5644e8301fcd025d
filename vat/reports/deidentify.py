"""De-identified per-victim rows, for analysis outside the advocates' scope: the case code becomes
a stable keyed hash (the same victim gets the same id in every export, and nobody without the key
can go back), every date moves by the same secret offset for a given victim (intervals stay true,
calendar dates do not), the mission is dropped, and only victims who consented to aggregate
reporting are included. Identity fields are never read by reports in the first place."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from typing import Any

from flask import current_app

MAX_SHIFT_DAYS = 30


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


def deidentify(header: list[str], rows: Iterable[list[Any]]) -> tuple[list[str], Iterator[list[Any]]]:
    """The header and rows of the per-victim export, de-identified (see the module docstring)."""
    code_at, mission_at = header.index("case code"), header.index("mission")
    date_columns = [i for i, name in enumerate(header) if name in ("registered on", "last case update")]
    new_header = [
        "pseudonymous id" if i == code_at else f"{name} (shifted)" if i in date_columns else name
        for i, name in enumerate(header)
        if i != mission_at
    ]

    def generate() -> Iterator[list[Any]]:
        for row in rows:
            code = row[code_at]
            shift = date_shift(code)
            values = list(row)
            values[code_at] = pseudonym(code)
            for i in date_columns:
                if isinstance(values[i], date):
                    values[i] = values[i] + shift
            yield [v for i, v in enumerate(values) if i != mission_at]

    return new_header, generate()
