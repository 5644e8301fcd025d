"""Money with sanity: an amount far beyond the usual for its kind (a pledge, a tranche, a payment…)
in its currency is recorded only once the user confirms it. "Far beyond" is more than
VAT_UNUSUAL_AMOUNT_FACTOR times the median of that kind in that currency (once
VAT_UNUSUAL_AMOUNT_MIN_RECORDS are recorded), or above the kind's ceiling in that currency
(VAT_AMOUNT_CEILINGS). One mechanism for every money form: the form carries a `ConfirmAmount`
field (shown only once asked), and its view wraps the service call in `checked`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from flask import current_app
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import Select, func, select
from wtforms import BooleanField

from vat.db import db
from vat.errors import DomainError
from vat.inputs import InvalidField, InvalidFields
from vat.money import from_minor
from vat.templating import in_currency

T = TypeVar("T")


class ConfirmAmount(BooleanField):
    """ "The amount is right": rendered only after an unusual amount was refused (`asked`)."""

    asked = False

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(_l("The amount is right: record it"), **kwargs)


@dataclass(frozen=True)
class Usual:
    """One kind of amount: its name in the ceilings (`kind`), its words in a message (`label`),
    and `amounts(currency)`, the query of the minor units recorded of this kind in a currency."""

    kind: str
    label: LazyString
    amounts: Callable[[str], Select[Any]]

    def median_minor(self, currency: str) -> int | None:
        """The median recorded amount in minor units (the upper one of an even count), or None
        while too few are recorded to say what is usual."""
        recorded = self.amounts(currency).subquery()
        (column,) = recorded.columns
        count = db.session.scalar(select(func.count()).select_from(recorded)) or 0
        if count < int(current_app.config["VAT_UNUSUAL_AMOUNT_MIN_RECORDS"]):
            return None
        return db.session.scalar(select(column).order_by(column).offset(count // 2).limit(1))

    def refusal(self, amount: Decimal, currency: str, field: str = "amount") -> InvalidField | None:
        """Why `amount` is unusual for this kind in `currency`, or None when it is not."""
        ceiling = current_app.config["VAT_AMOUNT_CEILINGS"].get(self.kind, {}).get(currency)
        if ceiling is not None and amount > Decimal(str(ceiling)):
            return InvalidField(
                field,
                _l(
                    "This is above the ceiling set for %(kind)s in %(currency)s (%(ceiling)s). "
                    "Check the amount; if it is right, tick “The amount is right” and record again.",
                    kind=self.label,
                    currency=currency,
                    ceiling=in_currency(Decimal(str(ceiling)), currency),
                ),
            )
        median = self.median_minor(currency)
        factor = int(current_app.config["VAT_UNUSUAL_AMOUNT_FACTOR"])
        if median is None or median <= 0 or amount <= factor * from_minor(median, currency):
            return None
        return InvalidField(
            field,
            _l(
                "This is more than %(factor)s times the usual %(kind)s in %(currency)s (half are "
                "below %(median)s). Check the amount; if it is right, tick “The amount is right” "
                "and record again.",
                factor=factor,
                kind=self.label,
                currency=currency,
                median=in_currency(from_minor(median, currency), currency),
            ),
        )


def checked(
    form: FlaskForm, run: Callable[[], T], usual: Usual, currency: str, *, field: str = "amount"
) -> Callable[[], T]:
    """`run`, once `form`'s amount (its `field`; none given: nothing to check) is usual for its
    kind in `currency` or confirmed as right; else refused on that field, and the confirmation
    is asked for."""

    def plausible_run() -> T:
        confirm = form["amount_confirmed"]
        amount = form[field].data
        if amount is not None and not confirm.data:
            refused = usual.refusal(amount, currency.strip().upper(), field)
            if refused is not None:
                confirm.asked = True
                raise with_the_services_refusals(refused, run)
        return run()

    return plausible_run


def with_the_services_refusals(refused: InvalidField, run: Callable[[], object]) -> InvalidField:
    """The unusual amount's refusal, with what the service refuses of the other fields in the same
    answer (each on its field): the service is run in a savepoint that is always rolled back, so
    nothing it does stays."""
    savepoint = db.session.begin_nested()
    try:
        run()
    except InvalidField as also:
        return InvalidFields([refused, *getattr(also, "errors", [also])])
    except DomainError:
        pass  # a refusal of the whole form: said once the amount is confirmed
    finally:
        if savepoint.is_active:
            savepoint.rollback()
    return refused
