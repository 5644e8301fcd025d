"""What donors gave: each donor's figures in US dollars, and a donor's pledges and receipts."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select

from ledger import engine
from ledger.balances import balances, summed
from ledger.engine import PLEDGES_RECEIVABLE, cents, from_minor
from ledger.models import Donor, Pledge, Receipt
from vat.db import db
from vat.paging import Page, page_of


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


def donor_figures(end: date | None = None) -> dict[int, DonorFigures]:
    """Every donor's figures to `end` (all time when None), by donor id, from the balances: pledged
    is what contributions booked against a pledge came to (a reversed pledge nets to nothing),
    received the cash from the donor, outstanding the pledges receivable."""
    kept = balances(end=end)
    c = kept.c

    def total(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return summed(case((condition, c.usd_minor), else_=0))

    rows = db.session.execute(
        select(
            c.donor_id,
            total(and_(c.account_id == engine.account_id_read(engine.CONTRIBUTIONS), c.pledge_id != 0)),
            total(c.account_id == engine.account_id_read(engine.CASH)),
            total(c.account_id == engine.account_id_read(PLEDGES_RECEIVABLE)),
        )
        .where(c.donor_id != 0)
        .group_by(c.donor_id)
    )
    return {
        donor_id: DonorFigures(-cents(pledged), cents(received), cents(outstanding))
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


def _newest_first(
    model: type[Pledge] | type[Receipt], day: Any, *columns: Any, donor: Donor, page: int, per_page: int
) -> Page:
    """One page of the donor's `model` rows, newest first by `day`: (row, *columns, reversed)."""
    return page_of(
        select(model, *columns, model.entry_id.in_(engine.reversed_ids()))
        .where(model.donor_id == donor.id)
        .order_by(day.desc(), model.id.desc()),
        page=page,
        per_page=per_page,
        count=lambda: db.session.scalar(select(func.count(model.id)).where(model.donor_id == donor.id)) or 0,
    )


def donor_pledges(donor: Donor, *, page: int, per_page: int) -> Page:
    """One page of the donor's pledges, newest first, each with what is received and outstanding
    (in the pledge's currency), as each pledge keeps it (`ledger.pledged_outstanding`)."""
    found = _newest_first(Pledge, Pledge.pledged_on, donor=donor, page=page, per_page=per_page)
    rows = []
    for pledge, reversed_ in found.items:
        amount = from_minor(pledge.amount_minor, pledge.currency)
        outstanding = from_minor(pledge.outstanding_minor, pledge.currency)
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
    found = _newest_first(Receipt, Receipt.received_on, donor=donor, page=page, per_page=per_page)
    return replace(
        found,
        items=[(r, from_minor(r.amount_minor, r.currency), bool(reversed_)) for r, reversed_ in found.items],
    )


def open_pledges(donor: Donor, *, limit: int) -> list[tuple[Pledge, Decimal]]:
    """The donor's `limit` oldest pledges with something outstanding, with what is outstanding
    (in the pledge's currency), as each pledge keeps it: a reversed pledge keeps nothing. One
    range of an index, in its order; no posting read."""
    rows = db.session.scalars(
        select(Pledge)
        .where(Pledge.donor_id == donor.id, Pledge.outstanding_minor > 0)
        .order_by(Pledge.pledged_on, Pledge.id)
        .limit(limit)
    )
    return [(pledge, from_minor(pledge.outstanding_minor, pledge.currency)) for pledge in rows]
