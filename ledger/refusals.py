"""What the posting engine says when it refuses, in the reader's language (lazy: translated when
shown). Kept apart from the engine so that its rules read as rules."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from babel.dates import format_skeleton
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from vat.money import exponent, shown

FORM_EXPIRED = _l("This form has expired: open it again.")
RESUBMITTED_DIFFERENTLY = _l("This form was already submitted with different values; open it again.")
FUTURE_DATE = _l("The date is in the future.")
ZERO_AMOUNT = _l("An amount must not be zero.")
UNBALANCED_USD = _l("The entry does not balance in US dollars.")
UNBALANCED_CURRENCY = _l("The entry does not balance in every currency.")
ONE_LINE = _l("An entry needs at least two lines.")
REVERSING_A_REVERSAL = _l("A reversal cannot itself be reversed: book the right entry instead.")


def unknown_currency(currency: str) -> Any:
    return _l("Unknown currency %(currency)s.", currency=currency)


def no_rate(currency: str, day: date) -> Any:
    return _l(
        "No UN operational rate for %(currency)s in %(month)s: record it under Exchange rates first.",
        currency=currency,
        month=f"{day:%Y-%m}",
    )


def unconfirmed_rate(currency: str, day: date) -> Any:
    return _l(
        "The %(currency)s rate for %(month)s awaits confirmation by a second fund manager: "
        "nothing is converted at it until then.",
        currency=currency,
        month=f"{day:%Y-%m}",
    )


def _month(day: date) -> str:
    """January 2019 / janvier 2019 / 2019年1月, the reader's way."""
    return format_skeleton("yMMMM", day, locale=get_locale())


def closed_month(day: date) -> Any:
    return _l("%(month)s is closed: date the entry in an open month.", month=_month(day))


def not_enough_cash(held: Decimal) -> Any:
    cents = Decimal(1).scaleb(-exponent("USD"))  # US$0.00, not US$0, when the fund holds nothing
    return _l("Not enough cash: the fund holds US$%(amount)s.", amount=shown(held.quantize(cents)))


def reversed_already(seq: int) -> Any:
    return _l("Entry %(seq)s has already been reversed.", seq=seq)
