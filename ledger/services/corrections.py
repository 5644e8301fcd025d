"""Corrections: a mistake is never edited away but reversed by the mirror image of its entry."""

from __future__ import annotations

from datetime import date

from flask import current_app
from flask_babel import lazy_gettext as _l

from ledger import engine
from ledger.engine import EntryKind
from ledger.models import (
    Entry,
    Pledge,
    Project,
    ProjectStatus,
    Receipt,
    Tranche,
    Withholding,
    WithholdingTransfer,
)
from ledger.services.booking import booked_by, standing_count
from ledger.services.grants import pending_total, project_payments_reversed
from ledger.services.victim_support import direct_support_reversed
from vat.auth.actor import Actor
from vat.db import db
from vat.errors import DomainError


def reverse_entry(*, actor: Actor, key: str, entry: Entry, on: date, reason: str) -> Entry:
    """Correct a mistake: book the mirror image of an entry (and of its programme support cost
    when it is a disbursement). Sub-ledger rows whose entry is reversed no longer count."""
    reason = (reason or "").strip()
    payload = {"event": "reversal", "entry": entry.id, "on": on, "reason": reason}
    if done := engine.begin(key, payload):
        return done
    if not reason:
        raise DomainError(_l("Say why the entry is reversed."))
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
    project = None
    if entry.kind == EntryKind.GRANT_APPROVAL:
        project = booked_by(Project, entry)
        if standing_count(Tranche, project_id=project.id) or pending_total(project):
            raise DomainError(_l("Disbursements stand against this project: reverse or decide them first."))
    tranche = None
    if entry.kind == EntryKind.DISBURSEMENT:
        tranche = booked_by(Tranche, entry)
    reversal = engine.reverse(actor=actor, key=key, payload=payload, entry=entry, on=on, memo=reason)
    if tranche is not None:
        tranche.status = "reversed"
        if tranche.psc_entry_id:
            psc = db.session.get_one(Entry, tranche.psc_entry_id)
            engine.reverse(actor=actor, key=key + ":psc", payload=payload, entry=psc, on=on, memo=reason)
    if project is not None:
        project.status = ProjectStatus.CANCELLED.value
    db.session.flush()
    if tranche is not None:  # what it paid victims no longer reached them
        project_payments_reversed.send(
            current_app._get_current_object(),  # type: ignore[attr-defined]
            actor=actor,
            ledger_entry_id=entry.id,
        )
    if entry.kind == EntryKind.VICTIM_SUPPORT:
        direct_support_reversed.send(
            current_app._get_current_object(),  # type: ignore[attr-defined]
            actor=actor,
            ledger_entry_id=entry.id,
        )
    return reversal
