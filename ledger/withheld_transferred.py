"""What each withholding's standing transfers brought in (`ledger_withholding.transferred_minor`),
kept exact in the transaction that books a transfer (`ledger.services.withholdings`) or reverses
one (`ledger.services.corrections`): the reconciliation's summary reads each withholding's own row,
from an index, instead of joining and summing its transfers. Checked against and recomputed from
the transfers (`flask figures verify` / `rebuild`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update

from ledger.models import Withholding, WithholdingTransfer
from ledger.services.booking import standing
from vat.db import db, lock_for_chain

NAME = "withholding transfers"


def add(withholding_id: int, minor: int) -> None:
    """Add `minor` (less than zero for a transfer reversed) to what the withholding's transfers
    brought in: in the database, not from a value read earlier (two bookings cannot both add to
    one they read)."""
    db.session.execute(
        update(Withholding)
        .where(Withholding.id == withholding_id)
        .values(transferred_minor=Withholding.transferred_minor + minor)
    )


def _from_transfers() -> Any:
    """What the withholding's standing transfers add up to, as a correlated scalar subquery."""
    summed = select(func.coalesce(func.sum(WithholdingTransfer.amount_minor), 0)).where(
        WithholdingTransfer.withholding_id == Withholding.id
    )
    return standing(summed, WithholdingTransfer).scalar_subquery()


def differences() -> list[str]:
    """Each withholding whose kept figure differs from what its standing transfers add up to."""
    lock_for_chain("ledger")  # no booking between the two reads
    computed = _from_transfers()
    query = (
        select(Withholding.id, Withholding.transferred_minor, computed)
        .where(Withholding.transferred_minor != computed)
        .order_by(Withholding.id)
    )
    return [
        f"{NAME}: withholding {withholding_id} holds {kept}; its standing transfers add up to {summed}"
        for withholding_id, kept, summed in db.session.execute(query)
    ]


def rebuild() -> int:
    """Write every withholding's figure anew from its transfers; how many withholdings there are."""
    lock_for_chain("ledger")
    db.session.execute(
        update(Withholding)
        .values(transferred_minor=_from_transfers())
        .execution_options(synchronize_session=False)
    )
    db.session.expire_all()
    return int(db.session.scalar(select(func.count()).select_from(Withholding)) or 0)
