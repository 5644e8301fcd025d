"""What awaits a second fund manager: each pending outflow with what it pays, in its currency
and in US dollars, the programme support cost a tranche books with it, who asked and which
four-eyes limit held it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select

from ledger import engine
from ledger.models import DirectSupport, Entry, Tranche
from ledger.outflows import Outflow, OutflowKind
from ledger.services import four_eyes, grants
from vat.auth.models import User
from vat.db import db


@dataclass(frozen=True)
class PendingOutflow:
    outflow: Outflow
    what: str  # the kind, in words
    subject: str  # the project, the case code, or the entry reversed
    link: tuple[str, dict[str, int]] | None  # endpoint and arguments of the subject's page
    amount: Decimal
    currency: str
    usd: Decimal
    maker: str
    held: str
    reference: str = ""  # the tranche's reference; direct support and reversals have none
    support_cost: Decimal | None = None  # US dollars booked with a tranche when it is approved


def pending_outflows() -> list[PendingOutflow]:
    rows = four_eyes.pending()
    ids = sorted({r.maker_id for r in rows})
    query = select(User.id, User.username).where(User.id.in_(ids))
    makers: dict[int, str] = {user_id: name for user_id, name in db.session.execute(query)}
    return [_describe(row, makers.get(row.maker_id, "")) for row in rows]


def _describe(row: Outflow, maker: str) -> PendingOutflow:
    usd = engine.cents(row.usd_minor)
    held = _held_labels().get(row.held_because or "", "")
    if row.kind == OutflowKind.TRANCHE:
        tranche = db.session.get_one(Tranche, row.record_id)
        currency = tranche.project.currency
        return PendingOutflow(
            row,
            _("tranche"),
            tranche.project.title,
            ("ledger.project", {"project_id": tranche.project_id}),
            engine.from_minor(tranche.amount_minor, currency),
            currency,
            usd,
            maker,
            held,
            tranche.reference,
            grants.programme_support(usd),
        )
    if row.kind == OutflowKind.DIRECT_SUPPORT:
        support = db.session.get_one(DirectSupport, row.record_id)
        return PendingOutflow(
            row,
            _("direct support"),
            support.case_code,
            None,
            engine.from_minor(support.amount_minor, support.currency),
            support.currency,
            usd,
            maker,
            held,
        )
    entry = db.session.get_one(Entry, row.record_id)
    return PendingOutflow(
        row,
        _("reversal of income"),
        _("entry %(seq)s: %(reason)s", seq=entry.seq, reason=row.reason or ""),
        ("ledger.entry", {"entry_id": entry.id}),
        usd,
        engine.USD,
        usd,
        maker,
        held,
    )


def _held_labels() -> dict[str, str]:
    return {
        "project": _("over the threshold for the project in 30 days"),
        "case": _("over the threshold for the case code in 30 days"),
        "payee": _("over the threshold for the payee in 30 days"),
        "victim_cap": _("over the per-victim cap in 30 days"),
    }
