"""What each kind of amount the ledger's forms record usually is, per currency (vat.plausibility):
the amounts recorded of that kind, in minor units of one currency. A kind read from one table has
an index on (currency, amount): its count and its median are read from the index alone (the
median an indexed OFFSET), not from a scan and a sort of every amount."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import Index, select

from ledger.models import (
    DirectSupport,
    Pledge,
    Project,
    Receipt,
    Tranche,
    TrancheStatus,
    Withholding,
    WithholdingTransfer,
)
from vat.plausibility import Usual

USUAL_INDEXES = [
    Index(f"ix_{model.__tablename__}_currency_amount_minor", model.currency, model.amount_minor)
    for model in (Pledge, Receipt, Withholding)
]  # direct support's, which holds its entry too, is the model's own

PLEDGES = Usual("pledge", _l("pledges"), lambda c: select(Pledge.amount_minor).where(Pledge.currency == c))
RECEIPTS = Usual(
    "receipt", _l("receipts"), lambda c: select(Receipt.amount_minor).where(Receipt.currency == c)
)
WITHHOLDINGS = Usual(
    "withholding",
    _l("withholdings"),
    lambda c: select(Withholding.amount_minor).where(Withholding.currency == c),
)
TRANSFERS = Usual(
    "transfer",
    _l("transfers of withheld money"),
    lambda c: select(WithholdingTransfer.amount_minor).join(Withholding).where(Withholding.currency == c),
)
PROJECTS = Usual(
    "project", _l("project grants"), lambda c: select(Project.approved_minor).where(Project.currency == c)
)
TRANCHES = Usual(
    "tranche",
    _l("tranches"),
    lambda c: (
        select(Tranche.amount_minor)
        .join(Project)
        .where(Project.currency == c, Tranche.status != TrancheStatus.REJECTED)
    ),
)
DIRECT_SUPPORT = Usual(
    "direct_support",
    _l("direct-support payments"),
    lambda c: select(DirectSupport.amount_minor).where(DirectSupport.currency == c),
)
