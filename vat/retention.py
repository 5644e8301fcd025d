"""Retention of closed cases' identities (issue 15, ASVS 14.2.7).

A victim's identity is kept while the case is open and for VAT_IDENTITY_RETENTION_DAYS after it
was closed (and after every claim of hers was closed). Then it is *due*: a senior advocate whose
scope holds the case asks to erase it, and another senior advocate erases it — never the one who
asked (four eyes on identity, as on privilege). Erasing sets to NULL every encrypted field that
names or can name the victim, her children or the alleged father, and deletes the blind indexes
of her names. What the figures count stays: the case code, country, mission, sex, age group,
dates, statuses, services, payments and the ledger; so every report's numbers are the same
before and after. The audit row names the case code and which fields went, never a value.

Backups taken before an erasure still hold the encrypted identity until they age out (README,
*Operations*). The module lives outside `vat.victims` because it reads claims, which depend on
victims.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, cast

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, delete, exists, or_, select, update
from sqlalchemy.engine import CursorResult

from vat.auth.actor import Actor
from vat.auth.models import Role, User
from vat.claims.models import Claim, ClaimStep, Letter, Payment
from vat.db import db, utcnow
from vat.errors import Conflict, DomainError, NotAllowed
from vat.inputs import today
from vat.victims.history import audit_victim
from vat.victims.identity import IDENTITY_FIELDS, in_scope_condition
from vat.victims.models import (
    Assistance,
    Child,
    Communication,
    Disclosure,
    Feedback,
    Need,
    Victim,
    VictimNameKey,
    VictimStatus,
)

# The encrypted fields of the victim's file erased with her identity, beyond IDENTITY_FIELDS:
# (model, the column that names the owner, the fields). Disclosures' recipient and purpose are
# required, so they become empty text rather than NULL.
ERASED_RECORDS: tuple[tuple[Any, str, tuple[str, ...]], ...] = (
    (Assistance, "victim_id", ("notes",)),
    (Child, "victim_id", ("birth_date", "notes")),
    (Communication, "victim_id", ("summary",)),
    (Need, "victim_id", ("note",)),
    (Feedback, "victim_id", ("complaint_text",)),
    (
        Claim,
        "victim_id",
        ("father_name", "father_service_number", "father_unit", "expected_birth_on", "represented_by"),
    ),
    (Letter, "claim_id", ("summary",)),
    (Payment, "claim_id", ("reason",)),
)
EMPTIED_RECORDS: tuple[tuple[Any, str, tuple[str, ...]], ...] = (
    (Disclosure, "victim_id", ("recipient", "purpose")),
)


def retention_days() -> int:
    return int(current_app.config["VAT_IDENTITY_RETENTION_DAYS"])


def cutoff(on: date | None = None) -> date:
    """Cases closed on or before this day are past the retention period."""
    return (on or today()) - timedelta(days=retention_days())


def _due_condition(on: date | None = None) -> ColumnElement[bool]:
    last_day = cutoff(on)
    claim_still_kept = exists().where(
        Claim.victim_id == Victim.id,
        or_(Claim.step != ClaimStep.CLOSED.value, Claim.closed_on.is_(None), Claim.closed_on > last_day),
    )
    return and_(
        Victim.status == VictimStatus.CLOSED.value,
        Victim.closed_on.is_not(None),
        Victim.closed_on <= last_day,
        Victim.identity_erased_at.is_(None),
        ~claim_still_kept,
    )


def due_query(actor: Actor | None, *, on: date | None = None) -> Select[Victim]:
    """Victims whose identity is due for erasure, in the actor's scope (every one for the
    command line, `actor` None), the longest closed first."""
    query = select(Victim).where(_due_condition(on))
    if actor is not None:
        query = query.where(in_scope_condition(actor))
    return query.order_by(Victim.closed_on, Victim.id)


def due(actor: Actor | None, *, on: date | None = None, limit: int = 500) -> list[Victim]:
    return list(db.session.scalars(due_query(actor, on=on).limit(limit)))


def _require_senior(actor: Actor) -> None:
    if Role(actor.role) is not Role.SENIOR_ADVOCATE:
        raise NotAllowed(_l("Only a senior advocate asks for or carries out the erasure of an identity."))


def _require_due(victim: Victim) -> None:
    if victim.identity_erased_at is not None:
        raise Conflict(_l("This identity is already erased."))
    is_due = db.session.scalar(select(Victim.id).where(Victim.id == victim.id, _due_condition()))
    if is_due is None:
        raise DomainError(_l("This case is not past its retention period: its identity is kept."))


def request_erasure(*, actor: Actor, victim: Victim) -> Victim:
    """The first pair of eyes: ask for the identity of a case past its retention to be erased."""
    _require_senior(actor)
    _require_due(victim)
    asked = update(Victim).where(
        Victim.id == victim.id,
        Victim.erasure_requested_by_id.is_(None),
        Victim.identity_erased_at.is_(None),
    )
    if _changed(asked.values(erasure_requested_by_id=actor.id, erasure_requested_at=utcnow())) != 1:
        raise Conflict(_l("The erasure of this identity has already been asked for."))
    db.session.refresh(victim)
    audit_victim("victim.erasure_requested", actor=actor, victim=victim)
    return victim


def withdraw_request(*, actor: Actor, victim: Victim) -> Victim:
    """Either senior advocate withdraws a request not yet carried out: the identity stays."""
    _require_senior(actor)
    withdrawn = update(Victim).where(
        Victim.id == victim.id,
        Victim.erasure_requested_by_id.is_not(None),
        Victim.identity_erased_at.is_(None),
    )
    if _changed(withdrawn.values(erasure_requested_by_id=None, erasure_requested_at=None)) != 1:
        raise Conflict(_l("No erasure of this identity is waiting."))
    db.session.refresh(victim)
    audit_victim("victim.erasure_withdrawn", actor=actor, victim=victim)
    return victim


def erase(*, actor: Actor, victim: Victim) -> Victim:
    """The second pair of eyes: erase the identity another senior advocate asked to erase. One
    conditional UPDATE claims the erasure, so two at once erase once, and never the asker's."""
    _require_senior(actor)
    if victim.erasure_requested_by_id is None:
        raise DomainError(_l("Ask for the erasure first: another senior advocate carries it out."))
    if victim.erasure_requested_by_id == actor.id:
        raise NotAllowed(_l("You asked for this erasure: another senior advocate carries it out."))
    _require_due(victim)
    requested_by = victim.erasure_requested_by_id
    claimed = update(Victim).where(
        Victim.id == victim.id,
        Victim.erasure_requested_by_id == requested_by,
        Victim.erasure_requested_by_id != actor.id,
        Victim.identity_erased_at.is_(None),
    )
    if _changed(claimed.values(identity_erased_at=utcnow())) != 1:
        raise Conflict(_l("This identity is already erased."))
    erased = _erase_fields(victim.id)
    db.session.refresh(victim)
    audit_victim(
        "victim.identity_erased",
        actor=actor,
        victim=victim,
        detail={"requested_by": requested_by, "closed_on": str(victim.closed_on), "fields": erased},
    )
    return victim


def _erase_fields(victim_id: int) -> list[str]:
    """Set every identifying field of the victim's file to NULL (or empty); the fields' names."""
    values = dict.fromkeys(IDENTITY_FIELDS)
    db.session.execute(update(Victim).where(Victim.id == victim_id).values(**values))
    db.session.execute(delete(VictimNameKey).where(VictimNameKey.victim_id == victim_id))
    claim_ids = select(Claim.id).where(Claim.victim_id == victim_id).scalar_subquery()
    erased = [f"vat_victim.{name}" for name in IDENTITY_FIELDS]
    for records, blank in ((ERASED_RECORDS, None), (EMPTIED_RECORDS, "")):
        for model, owner, fields in records:
            column = getattr(model, owner)
            where = column.in_(claim_ids) if owner == "claim_id" else column == victim_id
            db.session.execute(update(model).where(where).values(dict.fromkeys(fields, blank)))
            erased += [f"{model.__tablename__}.{name}" for name in fields]
    db.session.expire_all()  # the rows loaded before still hold the decrypted values
    return erased


def _changed(statement: Any) -> int:
    result = db.session.execute(statement.execution_options(synchronize_session=False))
    return int(cast(CursorResult[Any], result).rowcount)


# --- command line ----------------------------------------------------------------------------


@click.group("retention", cls=AppGroup)
def retention_group() -> None:
    """Identities of closed cases past VAT_IDENTITY_RETENTION_DAYS."""


@retention_group.command("due")
def due_command() -> None:
    """List the cases whose identity is due for erasure (case codes only) and who asked."""
    victims = due(None, limit=100_000)
    for victim in victims:
        asked = victim.erasure_requested_by.username if victim.erasure_requested_by else "-"
        click.echo(f"{victim.case_code}\tclosed {victim.closed_on}\terasure asked by {asked}")
    click.echo(f"{len(victims)} identities due for erasure (closed on or before {cutoff()})")


@retention_group.command("erase")
@click.option("--as", "username", required=True, help="a senior advocate other than the one who asked")
def erase_command(username: str) -> None:
    """Carry out, as the senior advocate USERNAME, every erasure in their scope that another senior
    advocate asked for (the second pair of eyes, e.g. from cron)."""
    actor = db.session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    if actor is None or Role(actor.role) is not Role.SENIOR_ADVOCATE:
        raise click.ClickException(f"{username} is not an active senior advocate")
    asked = [
        v
        for v in due(actor, limit=100_000)
        if v.erasure_requested_by_id is not None and v.erasure_requested_by_id != actor.id
    ]
    for victim in asked:
        erase(actor=actor, victim=victim)
    db.session.commit()
    click.echo(f"erased {len(asked)} identities")
