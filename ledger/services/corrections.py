"""Corrections: a mistake is never edited away but reversed by the mirror image of its entry."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ledger import engine, memos, pledged_outstanding, refusals, withheld_transferred
from ledger.engine import CASH, CONTRIBUTIONS, WITHHELD_INCOME, EntryKind, Line
from ledger.models import (
    Account,
    Entry,
    ExchangeRate,
    Pledge,
    Project,
    ProjectStatus,
    Receipt,
    Tranche,
    Withholding,
    WithholdingTransfer,
)
from ledger.outflows import Outflow, OutflowKind, OutflowStatus
from ledger.services import four_eyes
from ledger.services.booking import Booking, booked_by, day_field, on_field, standing_count
from ledger.services.grants import pending_total, project_payments_reversed
from ledger.services.victim_support import direct_support_reversed
from vat.auth.actor import Actor
from vat.db import db
from vat.errors import Conflict, DomainError
from vat.inputs import InvalidField, each_field

# The kinds of entry that bring income in: reversing one takes it back out of the fund.
INCOME_KINDS = frozenset(
    {EntryKind.RECEIPT, EntryKind.WITHHELD_TRANSFER, EntryKind.PLEDGE, EntryKind.WITHHOLDING}
)


def reverse_entry(*, actor: Actor, key: str, entry: Entry, on: date, reason: str) -> Entry | Outflow:
    """Correct a mistake: book the mirror image of an entry (and of its programme support cost
    when it is a disbursement). Sub-ledger rows whose entry is reversed no longer count.

    Reversing income (a receipt, a withheld transfer, a pledge, a withholding) is an outflow
    under the four-eyes policy: beyond the limits for its payee (the donor or the contributing
    country) it waits for a second fund manager, and the pending request is returned."""
    reason = (reason or "").strip()
    booking = Booking(actor, key, {"event": "reversal", "entry": entry.id, "on": on, "reason": reason})
    engine.lock()
    if (requested := four_eyes.existing(booking)) is not None:
        return db.session.get_one(Entry, requested.entry_id) if requested.entry_id else requested
    if done := booking.begin():
        return done
    each_field(
        {
            "reason": lambda: _reason(reason),
            "on": day_field(on, "on"),
            # Not a field's rule: shown above the form, with the fields' refusals.
            "entry": on_field("entry", lambda: _check_reversible(entry)),
        }
    )
    if entry.kind in INCOME_KINDS:
        four_eyes.require_fund_manager(actor)
        if engine.reversal_of(entry) is not None:
            raise Conflict(refusals.reversed_already(entry.seq))
        asked = four_eyes.of_record(OutflowKind.REVERSAL, entry.id)
        if asked is not None and asked.status == OutflowStatus.PENDING:
            raise Conflict(_l("A reversal of this entry already awaits approval."))
        outflow = four_eyes.submit(
            booking,
            kind=OutflowKind.REVERSAL,
            usd=_income_taken_back(entry),
            on=on,
            record_id=entry.id,
            payee=_payee(entry),
            reason=reason[:300],
        )
        return db.session.get_one(Entry, outflow.entry_id) if outflow.entry_id else outflow
    return _reverse(booking, entry, on, reason)


def _income_taken_back(entry: Entry) -> Decimal:
    """The dollars that reversing `entry` takes out of the fund: the cash it brought in, or the
    income it recognised, whichever is more."""
    cash, income = (
        engine.account_id(CASH),
        {engine.account_id(CONTRIBUTIONS), engine.account_id(WITHHELD_INCOME)},
    )
    cash_in = sum(p.usd_minor for p in entry.postings if p.account_id == cash and p.usd_minor > 0)
    recognised = -sum(p.usd_minor for p in entry.postings if p.account_id in income and p.usd_minor < 0)
    return engine.cents(max(cash_in, recognised))


def _payee(entry: Entry) -> str:
    """Whom reversing income pays back: the donor, or the contributing country."""
    for posting in entry.postings:
        if posting.donor_id is not None:
            return f"donor:{posting.donor_id}"
    for posting in entry.postings:
        if posting.country_code is not None:
            return f"country:{posting.country_code}"
    return f"entry:{entry.id}"


def _post_approved(outflow: Outflow, actor: Actor, maker: Actor | None) -> int:
    entry = db.session.get_one(Entry, outflow.record_id)
    _check_reversible(entry)
    booking = Booking(actor, outflow.idempotency_key, {"event": "reversal", "outflow": outflow.id}, maker)
    return _reverse(booking, entry, outflow.value_date, outflow.reason or "").id


four_eyes.register(OutflowKind.REVERSAL, post=_post_approved)


def _reason(reason: str) -> str:
    if not reason:
        raise InvalidField("reason", _l("Say why the entry is reversed."))
    return reason


def _check_reversible(entry: Entry) -> Entry:
    if entry.kind == EntryKind.PROGRAMME_SUPPORT:
        raise DomainError(_l("Reverse the disbursement: its programme support cost is reversed with it."))
    if entry.kind == EntryKind.GRANT_RELEASE:
        raise DomainError(_l("A release cannot be reversed: approve a new project instead."))
    if entry.kind == EntryKind.PLEDGE:
        pledge = booked_by(Pledge, entry)
        if standing_count(Receipt, pledge_id=pledge.id):
            raise DomainError(_l("Receipts stand against this pledge: reverse them first."))
    if entry.kind == EntryKind.WITHHOLDING:
        withholding = booked_by(Withholding, entry)
        if standing_count(WithholdingTransfer, withholding_id=withholding.id):
            raise DomainError(_l("Transfers stand against this withholding: reverse them first."))
    if entry.kind == EntryKind.GRANT_APPROVAL:
        project = booked_by(Project, entry)
        if standing_count(Tranche, project_id=project.id) or pending_total(project):
            raise DomainError(_l("Disbursements stand against this project: reverse or decide them first."))
    return entry


def _reverse(booking: Booking, entry: Entry, on: date, reason: str) -> Entry:
    """Book the mirror image of `entry`, and of its programme support cost with it, on `on`."""
    project = booked_by(Project, entry) if entry.kind == EntryKind.GRANT_APPROVAL else None
    tranche = booked_by(Tranche, entry) if entry.kind == EntryKind.DISBURSEMENT else None
    reversal = _mirror(booking, entry, on, reason)
    if tranche is not None:
        tranche.status = "reversed"
        if tranche.psc_entry_id:
            psc = db.session.get_one(Entry, tranche.psc_entry_id)
            _mirror(replace(booking, key=booking.key + ":psc"), psc, on, reason)
    if project is not None:
        project.status = ProjectStatus.CANCELLED.value
    if entry.kind == EntryKind.WITHHELD_TRANSFER:  # what it brought in no longer stands
        transfer = booked_by(WithholdingTransfer, entry)
        withheld_transferred.KEPT.add(transfer.withholding_id, -transfer.amount_minor)
    if entry.kind == EntryKind.PLEDGE:  # nothing of it is due any more
        pledge = booked_by(Pledge, entry)
        pledged_outstanding.KEPT.add(pledge.id, -pledge.amount_minor)
    if entry.kind == EntryKind.RECEIPT:  # what it cleared of its pledge is due again
        receipt = booked_by(Receipt, entry)
        if receipt.pledge_id is not None:
            pledged_outstanding.KEPT.add(receipt.pledge_id, receipt.amount_minor)
    db.session.flush()
    if tranche is not None:  # what it paid victims no longer reached them
        project_payments_reversed.send(
            current_app._get_current_object(),  # type: ignore[attr-defined]
            actor=booking.actor,
            ledger_entry_id=entry.id,
        )
    if entry.kind == EntryKind.VICTIM_SUPPORT:
        direct_support_reversed.send(
            current_app._get_current_object(),  # type: ignore[attr-defined]
            actor=booking.actor,
            ledger_entry_id=entry.id,
        )
    return reversal


def _mirror(booking: Booking, entry: Entry, on: date, reason: str) -> Entry:
    """Book the mirror image of `entry` (same dollar values, rates and dimensions)."""
    if entry.kind == EntryKind.REVERSAL:
        raise DomainError(refusals.REVERSING_A_REVERSAL)
    if engine.reversal_of(entry) is not None:
        raise Conflict(refusals.reversed_already(entry.seq))
    codes = dict(db.session.execute(select(Account.id, Account.code)).all())
    lines = [
        Line(
            account=codes[p.account_id],
            currency=p.currency,
            amount=-engine.from_minor(p.amount_minor, p.currency),
            rate=db.session.get(ExchangeRate, p.fx_rate_id) if p.fx_rate_id else None,
            usd=-engine.cents(p.usd_minor),
            dims={d: getattr(p, d) for d in engine.DIMENSIONS if getattr(p, d) is not None},
        )
        for p in entry.postings
    ]
    return booking.book(
        kind=EntryKind.REVERSAL,
        on=on,
        memo=memos.REVERSAL.write(seq=entry.seq, memo=reason),
        lines=lines,
        reverses=entry,
    )
