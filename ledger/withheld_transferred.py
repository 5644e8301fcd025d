"""What each withholding's standing transfers brought in (`ledger_withholding.transferred_minor`),
kept exact in the transaction that books a transfer (`ledger.services.withholdings`) or reverses
one (`ledger.services.corrections`): the reconciliation's summary reads each withholding's own row,
from an index, instead of joining and summing its transfers. Checked against and recomputed from
the transfers (`flask figures verify` / `rebuild`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from ledger.kept_column import KeptColumn
from ledger.models import Withholding, WithholdingTransfer
from ledger.services.booking import standing


def _from_transfers() -> Any:
    """What the withholding's standing transfers add up to, as a correlated scalar subquery."""
    summed = select(func.coalesce(func.sum(WithholdingTransfer.amount_minor), 0)).where(
        WithholdingTransfer.withholding_id == Withholding.id
    )
    return standing(summed, WithholdingTransfer).scalar_subquery()


KEPT = KeptColumn(
    "withholding transfers",
    Withholding.transferred_minor,
    _from_transfers,
    row_noun="withholding",
    source_words="its standing transfers",
)
