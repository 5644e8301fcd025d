"""What is outstanding of each pledge (`ledger_pledge.outstanding_minor`): its balance on pledges
receivable in its own currency, that is its amount less what its standing receipts brought in,
and nothing once it is reversed. Kept exact in the transaction that books the pledge or a receipt
against it (`ledger.services.contributions`) or reverses either (`ledger.services.corrections`):
the receipt form offers a donor's open pledges from their own rows, from an index, instead of
adding up their postings. Checked against and recomputed from the postings (`flask figures
verify` / `rebuild`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from ledger import engine
from ledger.kept_column import KeptColumn
from ledger.models import Pledge, Posting


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


KEPT = KeptColumn(
    "pledges outstanding",
    Pledge.outstanding_minor,
    _from_postings,
    row_noun="pledge",
    source_words="its postings on pledges receivable",
)
