"""The audit log: append-only (database triggers refuse UPDATE and DELETE) and HMAC-chained.

Each row's hash covers its own fields and the previous row's hash, keyed with VAT_MAC_KEY (kept
outside the database), so an edited, inserted or removed row breaks the chain at that point.
Details never hold identities: name the object by its id or case code.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any, TypeVar, cast

from flask import current_app
from sqlalchemy import ForeignKey, Select, String, Table, Text, insert, select
from sqlalchemy.orm import Mapped, mapped_column

from vat import anchors
from vat.db import (
    Base,
    UTCDateTime,
    db,
    driver_rows,
    insert_driver_rows,
    lock_for_chain,
    transaction_memo,
    utcnow,
)
from vat.kept_counts import KeptCounts

GENESIS = "0" * 64


class AuditEvent(Base):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id"), index=True)
    actor_name: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(64))
    country_code: Mapped[str | None] = mapped_column(String(3), index=True)
    address: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditActor(Base):
    """The events counted by who acted, the kind of object and the country they acted on ('' for
    none): the audit log's "who" filter and its totals read these few rows, not the log, which is
    long. Each writer of events adds to them in its transaction (`vat.audit_actors` checks and
    rebuilds them)."""

    __tablename__ = "audit_actor"

    actor_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    object_type: Mapped[str] = mapped_column(String(40), primary_key=True)
    country_code: Mapped[str] = mapped_column(String(3), primary_key=True)
    events: Mapped[int]


ACTORS = KeptCounts(
    cast(Table, AuditActor.__table__), ("actor_name", "object_type", "country_code"), "events"
)


def record(
    action: str,
    *,
    actor: Any | None,
    object_type: str | None = None,
    object_id: object = None,
    country_code: str | None = None,
    address: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain (in the caller's transaction)."""
    lock_for_chain("audit_event")
    row = _row(actor, _head_hash(), action, object_type, object_id, country_code, address, detail)
    event = AuditEvent(**row)
    db.session.add(event)
    db.session.flush()
    transaction_memo()["audit_head"] = event.hash
    _add_actors([row])
    return event


Row = TypeVar("Row")


def add_audited(
    row: Row, action: str, *, actor: Any | None, detail: Callable[[Row], dict[str, Any]], **about: Any
) -> Row:
    """Add a new row and record `action` once the row is flushed, so that `detail(row)` can name
    its id; `about` names what the event is about (`record`'s object and country)."""
    db.session.add(row)
    db.session.flush()
    record(action, actor=actor, detail=detail(row), **about)
    return row


def record_many(*, actor: Any | None, events: list[dict[str, Any]]) -> None:
    """Append several events of one actor at once, each dict holding `record`'s other arguments:
    one lock, one read of the chain head, one INSERT."""
    if not events:
        return
    # The table, not the entity: the ORM's bulk insert costs more than the statement itself.
    rows = chained(actor, events)
    db.session.connection().execute(insert(cast(Table, AuditEvent.__table__)), rows)
    _add_actors(rows)


def chained(actor: Any | None, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of `events` (as for `record_many`) chained after the head, which moves on to the
    last: the caller inserts them in this transaction, in this order."""
    lock_for_chain("audit_event")
    previous = _head_hash()
    rows = []
    for fields in events:
        rows.append(_row(actor, previous, **fields))
        previous = rows[-1]["hash"]
    transaction_memo()["audit_head"] = previous
    return rows


def _row(actor: Any | None, prev_hash: str, *args: Any, **fields: Any) -> dict[str, Any]:
    """The columns of a new event (`args` and `fields`: `_columns`' own) that follows
    `prev_hash`, its hash included."""
    row = {"at": utcnow(), **_columns(actor, *args, **fields), "prev_hash": prev_hash}
    row["hash"] = _digest(SimpleNamespace(**row))
    return row


def _columns(
    actor: Any | None,
    action: str,
    object_type: str | None = None,
    object_id: object = None,
    country_code: str | None = None,
    address: str | None = None,
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A new event's columns but its time and its place in the chain."""
    return {
        "actor_id": getattr(actor, "id", None),
        "actor_name": getattr(actor, "username", None) or "system",
        "action": action,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
        "country_code": country_code,
        "address": address,
        "detail": json.dumps(detail or {}, sort_keys=True, default=str),
    }


@dataclass(frozen=True)
class Unchained:
    """An event built before the chain's lock is taken: its columns but its time and place in the
    chain, and the part of its hash's message those do not change."""

    columns: dict[str, Any]
    tail: str


def unchained(actor: Any | None, events: list[dict[str, Any]]) -> list[Unchained]:
    """The events (as for `record_many`) ready to be chained by `append`: a writer of thousands
    (the importer) builds them before it takes the chain's lock, which it then holds only to hash
    and insert them."""
    built = []
    for fields in events:
        columns = _columns(actor, **fields)
        built.append(Unchained(columns, _tail(SimpleNamespace(**columns))))
    return built


def append(events: list[Unchained]) -> None:
    """Chain `unchained` events after the head, all at one time, and insert them in the caller's
    transaction: one lock, one read of the chain head, one INSERT."""
    if not events:
        return
    lock_for_chain("audit_event")
    at = utcnow()
    stamp = _stamp(at)  # the same for every row: made once
    key = _mac_key()
    previous = _head_hash()
    rows = []
    for event in events:
        digest = hmac.new(key, _stamped_message(previous, stamp, event.tail).encode(), hashlib.sha256)
        rows.append({**event.columns, "at": at, "prev_hash": previous, "hash": digest.hexdigest()})
        previous = rows[-1]["hash"]
    transaction_memo()["audit_head"] = previous
    insert_driver_rows(driver_rows(cast(Table, AuditEvent.__table__), rows))
    _add_actors(rows)


def actor_counts(events: list[dict[str, Any]]) -> Counter[tuple[str, str, str]]:
    """`events` (their columns) counted by the key of `ACTORS`."""
    return Counter((e["actor_name"], e["object_type"] or "", e["country_code"] or "") for e in events)


def actor_rows(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The `ACTORS` rows that `events` add, in one order (as `KeptCounts.add` writes them)."""
    names = (*ACTORS.key, ACTORS.count)
    return [dict(zip(names, (*key, n), strict=True)) for key, n in sorted(actor_counts(events).items())]


def _add_actors(events: list[dict[str, Any]]) -> None:
    ACTORS.add(actor_counts(events))


def head_query() -> Select[str]:
    """The hash of the chain's last event (no row: the chain is empty)."""
    return select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)


def known_head(head: str | None) -> None:
    """`head_query`'s answer, read by a caller that holds the chain's lock: kept for the rest of
    the transaction, as every event it appends is."""
    transaction_memo()["audit_head"] = head or GENESIS


def _head_hash() -> str:
    memo = transaction_memo()
    if "audit_head" not in memo:
        memo["audit_head"] = db.session.scalar(head_query()) or GENESIS
    return cast(str, memo["audit_head"])


def _digest(event: Any) -> str:
    return _hmac(_message(event.prev_hash, event.at, _tail(event)))


def _tail(event: Any) -> str:
    """The hashed fields after the previous hash and the time, as JSON (a list)."""
    fields = [
        str(event.actor_id),
        event.actor_name,
        event.action,
        str(event.object_type),
        str(event.object_id),
        str(event.country_code),
        str(event.address),
        event.detail,
    ]
    return json.dumps(fields, ensure_ascii=False)


def _message(prev_hash: str, at: datetime, tail: str) -> str:
    """The JSON list [prev_hash, at, *tail's fields], as `json.dumps` writes it (", " between items)."""
    return _stamped_message(prev_hash, _stamp(at), tail)


def _stamp(at: datetime) -> str:
    return json.dumps(at.isoformat(), ensure_ascii=False)


def _stamped_message(prev_hash: str, stamp: str, tail: str) -> str:
    # prev_hash is hexadecimal (or GENESIS): JSON writes it as it is, between quotes.
    return f'["{prev_hash}", {stamp}, {tail[1:]}'


def _mac_key() -> bytes:
    return cast(str, current_app.config["VAT_MAC_KEY"]).encode()


def _hmac(message: str) -> str:
    return hmac.new(_mac_key(), message.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    rows: int
    head: str
    problem: str | None


def verify(*, anchored: bool = True) -> ChainReport:
    """Walk the chain from the start; report the first row that does not verify, then (unless
    `anchored` is false) check the chain against the latest anchor."""
    previous = GENESIS
    count = 0
    for event in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).yield_per(1000):
        count += 1
        if event.prev_hash != previous:
            return ChainReport(count, previous, f"row {event.id}: a row before it was removed or altered")
        if not hmac.compare_digest(event.hash, _digest(event)):
            return ChainReport(count, previous, f"row {event.id}: its content was altered")
        previous = event.hash
    return ChainReport(count, previous, anchors.check("audit", "id", _hash_of) if anchored else None)


def _hash_of(event_id: int) -> str | None:
    return db.session.scalar(select(AuditEvent.hash).where(AuditEvent.id == event_id))


def anchor_head() -> dict[str, Any]:
    """The chain's head as an anchor names it (see vat/anchors.py)."""
    newest = select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    row = db.session.execute(newest).first()
    return {"id": row[0], "hash": row[1]} if row else {"id": 0, "hash": GENESIS}
