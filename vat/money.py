"""One money model for the whole application: an amount is a Decimal in a currency, stored as an
integer count of that currency's minor units (ISO 4217 exponent: USD 2, JPY 0, KWD 3).

Nothing here rounds: an amount with more decimals than its currency has is refused, because
rounding is a business rule that belongs to the service that knows it.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Generic, TypeVar, overload

import pycountry
from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l

from vat.inputs import InvalidField

# ISO 4217 list one (SIX, maintenance agency of ISO 4217): the currencies whose minor unit is not
# 2 decimals. pycountry has the codes but not the exponents, and Babel's CLDR digits are display
# rules that differ from ISO 4217 (CLDR gives IQD 0 and LBP 0; ISO gives 3 and 2).
NOT_TWO_DECIMALS = {
    **dict.fromkeys(
        ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV"),
        0,
    ),
    **dict.fromkeys(("XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}

MAX_AMOUNT = Decimal("1e12")  # far above any payment; keeps minor units inside a 64-bit integer


def currency(field: str, value: str | None) -> str:
    """An ISO 4217 code, upper-cased; refused when missing or unknown."""
    code = (value or "").strip().upper()
    if not code or pycountry.currencies.get(alpha_3=code) is None:
        raise InvalidField(field, _l("Use an ISO 4217 currency code (e.g. USD, XAF, CDF, HTG)."))
    return code


def known(value: str | None) -> str | None:
    """The ISO 4217 code typed, or None when it is none (its own field says so): what an amount
    beside it is checked in."""
    code = (value or "").strip().upper()
    return code if code and pycountry.currencies.get(alpha_3=code) is not None else None


def exponent(currency_code: str) -> int:
    """How many decimals the currency's minor unit has (ISO 4217)."""
    return NOT_TWO_DECIMALS.get(currency_code, 2)


def shown(value: Decimal | int | str) -> str:
    """A decimal grouped the reader's way with every decimal it has, never rounded (USD 1,234.50 /
    1 234,50; JPY 1,234; a rate 655.957 / 655,957); also one written out as text (a close pack's
    JSON keeps amounts and rates as exact decimal strings). Refusals name amounts with it too."""
    value = Decimal(value)
    places = max(0, -int(value.as_tuple().exponent))
    return format_decimal(value, format="#,##0." + "0" * places if places else "#,##0")


def check_places(field: str, amount: Decimal, currency_code: str) -> Decimal:
    """Refuse an amount with more decimals than its currency has (never round)."""
    places = exponent(currency_code)
    minor = amount.scaleb(places)
    if minor != minor.to_integral_value():
        raise InvalidField(
            field,
            _l(
                "%(currency)s amounts have at most %(places)s decimal places.",
                currency=currency_code,
                places=places,
            ),
        )
    return amount


def parse(field: str, value: Any) -> Decimal:
    """A finite Decimal from a form or spreadsheet value ("1,200.50" reads as 1200.50); never a float."""
    if isinstance(value, float):
        raise InvalidField(field, _l("Give the amount as a decimal number."))
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation as error:
        raise InvalidField(field, _l("Give the amount as a number, e.g. 120.50.")) from error
    if not amount.is_finite():
        raise InvalidField(field, _l("Give the amount as a number, e.g. 120.50."))
    return amount


def amount(field: str, value: Any, currency_code: str | None, *, maximum: Decimal = MAX_AMOUNT) -> Decimal:
    """A positive amount in `currency_code`, at most its ISO 4217 decimals, below `maximum`
    (without a currency — one refused on its own field — its decimals are not checked)."""
    if value is None or value == "":
        raise InvalidField(field, _l("Give an amount."))
    parsed = parse(field, value)
    if parsed <= 0:
        raise InvalidField(field, _l("The amount must be more than zero."))
    if currency_code is not None:
        check_places(field, parsed, currency_code)
    if parsed >= maximum:
        raise InvalidField(field, _l("This amount is too large."))
    if currency_code is None:
        return parsed
    return parsed.quantize(Decimal(1).scaleb(-exponent(currency_code)))


def to_minor(value: Decimal, currency_code: str, *, field: str = "amount") -> int:
    """The integer count of minor units (KWD 12.345 -> 12345; JPY 1200 -> 1200)."""
    if not isinstance(value, Decimal):
        raise TypeError("money must be a Decimal")
    return int(check_places(field, value, currency_code).scaleb(exponent(currency_code)))


def from_minor(minor: int, currency_code: str) -> Decimal:
    return Decimal(minor).scaleb(-exponent(currency_code))


AmountT = TypeVar("AmountT", Decimal, Decimal | None)


class InCurrency(Generic[AmountT]):
    """A model's amount as a Decimal over its integer minor-units column, scaled by the row's own
    currency. On the class (in SQL) it is that column: sums per currency stay integer minor units.

    Set the currency before the amount (models using this put `currency` first in `__init__`).
    """

    def __init__(self, minor: str, currency_attribute: str = "currency") -> None:
        self.minor = minor
        self.currency_attribute = currency_attribute
        self.name = minor

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type) -> Any: ...

    @overload
    def __get__(self, instance: object, owner: type) -> AmountT: ...

    def __get__(self, instance: object | None, owner: type) -> Any:
        if instance is None:
            return getattr(owner, self.minor)
        minor = getattr(instance, self.minor)
        if minor is None:
            return None
        return from_minor(minor, getattr(instance, self.currency_attribute))

    def __set__(self, instance: object, value: AmountT) -> None:
        if value is None:
            setattr(instance, self.minor, None)
            return
        code = getattr(instance, self.currency_attribute)
        if code is None:
            raise ValueError(f"set the currency before {self.name}")
        setattr(instance, self.minor, to_minor(value, code, field=self.name))


def currency_first(values: dict[str, Any]) -> dict[str, Any]:
    """Constructor arguments reordered so the currency is set before the amount it scales."""
    return dict(sorted(values.items(), key=lambda item: item[0] != "currency"))


class CurrencyFirst:
    """A model with an amount `InCurrency` of its `currency`: its constructor sets the currency
    first, whatever the order of the arguments."""

    def __init__(self, **values: Any) -> None:
        super().__init__(**currency_first(values))
