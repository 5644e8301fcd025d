"""What is outstanding of each pledge (`ledger_pledge.outstanding_minor`): its balance on pledges
receivable in its own currency, that is its amount less what its standing receipts brought in,
and nothing once it is reversed. Kept exact in the transaction that books the pledge or a receipt
against it (`ledger.services.contributions`) or reverses either (`ledger.services.corrections`):
the receipt form offers a donor's open pledges from their own rows, from an index, instead of
adding up their postings. Checked against and recomputed from the postings (`flask figures
verify` / `rebuild`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update

from ledger import engine
from ledger.models import Pledge, Posting
from vat.db import db, lock_for_chain

NAME = "pledges outstanding"


def add(pledge_id: int, minor: int) -> None:
    """Add `minor` (less than zero for a receipt, or for the pledge reversed) to what is
    outstanding of the pledge: in the database, not from a value read earlier (two bookings
    cannot both add to one they read)."""
    db.session.execute(
        update(Pledge)
        .where(Pledge.id == pledge_id)
        .values(outstanding_minor=Pledge.outstanding_minor + minor)
    )


def _from_postings() -> Any:
    """The pledge's balance on pledges receivable in its currency, as a correlated scalar subquery."""
    return (
        select(func.coalesce(func.sum(Posting.amount_minor), 0))
        .where(
            Posting.pledge_id == Pledge.id,
            Posting.account_id == engine.account_id_read(engine.PLEDGES_RECEIVABLE),
            Posting.currency == Pledge.currency,
        )
        .scalar_subquery()
    )


def differences() -> list[str]:
    """Each pledge whose kept figure differs from its balance on pledges receivable."""
    lock_for_chain("ledger")  # no booking between the two reads
    computed = _from_postings()
    query = (
        select(Pledge.id, Pledge.outstanding_minor, computed)
        .where(Pledge.outstanding_minor != computed)
        .order_by(Pledge.id)
    )
    return [
        f"{NAME}: pledge {pledge_id} holds {kept}; its postings on pledges receivable add up to {summed}"
        for pledge_id, kept, summed in db.session.execute(query)
    ]


def rebuild() -> int:
    """Write every pledge's figure anew from its postings; how many pledges there are."""
    lock_for_chain("ledger")
    db.session.execute(
        update(Pledge).values(outstanding_minor=_from_postings()).execution_options(synchronize_session=False)
    )
    db.session.expire_all()
    return int(db.session.scalar(select(func.count()).select_from(Pledge)) or 0)
