"""The audit log: append-only (database triggers refuse UPDATE and DELETE) and HMAC-chained.

Each row's hash covers its own fields and the previous row's hash, keyed with VAT_MAC_KEY (kept
outside the database), so an edited, inserted or removed row breaks the chain at that point.
Details never hold identities: name the object by its id or case code.

A writer of thousands of events (the importer) writes them as a batch before it takes the chain's
lock, chained among themselves, and holds the lock for one event that names the batch's rows and
last hash (`insert_batch`, `commit_batch`): every other audited writer waits for that one row, not
for thousands. `verify` checks each batch against the event that commits it.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any, TypeVar, cast

from flask import current_app
from sqlalchemy import (
    ColumnElement,
    ForeignKey,
    Index,
    Select,
    String,
    Table,
    Text,
    func,
    insert,
    select,
    text,
)
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
BATCH = "audit.batch"


class AuditEvent(Base):
    __tablename__ = "audit_event"
    __table_args__ = (
        # The chain's head, newest first, past no batch's rows (migration 1166).
        Index(
            "ix_audit_event_chain_id",
            "id",
            sqlite_where=text("batch IS NULL"),
            postgresql_where=text("batch IS NULL"),
        ),
        # A batch's rows, its last first (`batched`; migration 1169).
        Index(
            "ix_audit_event_batch_id",
            "batch",
            "id",
            sqlite_where=text("batch IS NOT NULL"),
            postgresql_where=text("batch IS NOT NULL"),
        ),
    )

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
    # The batch it was written in (`insert_batch`); none for an event of the chain itself.
    batch: Mapped[str | None] = mapped_column(String(32))
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
    """Append one event to the chain (in the caller's transaction), or to the batch being written
    (`batched`)."""
    previous, key = _position()
    row = _row(actor, previous, action, object_type, object_id, country_code, address, detail, batch=key)
    event = AuditEvent(**row)
    db.session.add(event)
    db.session.flush()
    _moved_to(event.hash, key)
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
    """The rows of `events` (as for `record_many`) chained after the head (or the batch's last
    row, `batched`), which moves on to the last: the caller inserts them in this transaction, in
    this order."""
    previous, key = _position()
    rows = []
    for fields in events:
        rows.append(_row(actor, previous, **fields, batch=key))
        previous = rows[-1]["hash"]
    _moved_to(previous, key)
    return rows


def _row(
    actor: Any | None, prev_hash: str, *args: Any, batch: str | None = None, **fields: Any
) -> dict[str, Any]:
    """The columns of a new event (`args` and `fields`: `_columns`' own) that follows
    `prev_hash`, in `batch` if one is given, its hash included."""
    row = {"at": utcnow(), **_columns(actor, *args, **fields), "prev_hash": prev_hash}
    if batch is not None:
        row["batch"] = batch
    row["hash"] = _digest(SimpleNamespace(**row))
    return row


# --- a long writer's events as a batch ---------------------------------------------------------

BATCHING = "audit_batch"  # the session's info: the key of the batch being written


@contextlib.contextmanager
def batched(*, actor: Any | None) -> Iterator[None]:
    """Every event recorded inside goes to one batch, chained among themselves and written
    without the chain's lock, which every audited writer waits for; once the body has run, one
    event under the lock commits the batch to the chain (`commit_batch`). For a writer that holds
    its transaction open for long (the ledger's import): others' audited writes go on meanwhile.
    If the body raises, nothing is committed (the caller rolls the batch back with the rest)."""
    session = db.session()
    if BATCHING in session.info:
        raise RuntimeError("audit batches do not nest")
    key = session.info[BATCHING] = uuid.uuid4().hex
    try:
        yield
    finally:
        del session.info[BATCHING]
    last = db.session.execute(
        select(AuditEvent.hash, func.count().over())
        .where(AuditEvent.batch == key)
        .order_by(AuditEvent.id.desc())
        .limit(1)
    ).first()
    memo = transaction_memo()
    memo.pop("batch_head", None)
    actors = memo.pop("batch_actors", Counter())
    if last is not None:
        commit_batch(Batch(key, last[1], last[0], actors), actor=actor)


def chain_locks() -> tuple[str, ...]:
    """The locks a writer of events takes (`vat.db.lock_for_chain`): the chain's, but none inside
    `batched`."""
    return () if BATCHING in db.session().info else ("audit_event",)


def _position() -> tuple[str, str | None]:
    """Where the next event goes: after the chain's head (taking its lock), or inside `batched`
    after the batch's last row, read once a transaction and carried as the chain's head is."""
    key = db.session().info.get(BATCHING)
    if key is None:
        lock_for_chain("audit_event")
        return _head_hash(), None
    memo = transaction_memo()
    if "batch_head" not in memo:
        last = select(AuditEvent.hash).where(AuditEvent.batch == key).order_by(AuditEvent.id.desc()).limit(1)
        memo["batch_head"] = db.session.scalar(last) or GENESIS
    return cast(str, memo["batch_head"]), key


def _moved_to(head: str, batch: str | None) -> None:
    transaction_memo()["batch_head" if batch is not None else "audit_head"] = head


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
    """The events (as for `record_many`) ready for `insert_batch`, built by a writer of thousands
    (the importer) before its save."""
    built = []
    for fields in events:
        columns = _columns(actor, **fields)
        built.append(Unchained(columns, _tail(SimpleNamespace(**columns))))
    return built


@dataclass(frozen=True)
class Batch:
    """Events inserted by `insert_batch`, for `commit_batch`."""

    key: str
    rows: int
    last_hash: str
    actors: Counter[tuple[str, str, str]]


def insert_batch(events: list[Unchained]) -> Batch | None:
    """Insert `unchained` events in the caller's transaction without the chain's lock, as one batch:
    chained among themselves from GENESIS, each hash covering the batch's key too. The caller then
    takes the lock and calls `commit_batch`; readers see both in one commit."""
    if not events:
        return None
    key = uuid.uuid4().hex
    stamp = _stamp(at := utcnow())  # the same for every row: made once
    mac = _mac_key()
    previous = GENESIS
    rows = []
    for event in events:
        message = _stamped_message(previous, stamp, event.tail, batch=key)
        digest = hmac.new(mac, message.encode(), hashlib.sha256).hexdigest()
        rows.append({**event.columns, "at": at, "batch": key, "prev_hash": previous, "hash": digest})
        previous = digest
    insert_driver_rows(driver_rows(cast(Table, AuditEvent.__table__), rows))
    return Batch(key, len(rows), previous, actor_counts(rows))


def commit_batch(batch: Batch | None, *, actor: Any | None) -> None:
    """Append to the chain the event that names `batch`'s rows and last hash (taking the chain's
    lock), and count the batch's events by who acted."""
    if batch is None:
        return
    detail = {"rows": batch.rows, "last_hash": batch.last_hash}
    record(BATCH, actor=actor, object_type="audit_batch", object_id=batch.key, detail=detail)
    ACTORS.add(batch.actors)


def actor_counts(events: list[dict[str, Any]]) -> Counter[tuple[str, str, str]]:
    """`events` (their columns) counted by the key of `ACTORS`."""
    return Counter((e["actor_name"], e["object_type"] or "", e["country_code"] or "") for e in events)


def actor_rows(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The `ACTORS` rows that `events` add, in one order (as `KeptCounts.add` writes them)."""
    names = (*ACTORS.key, ACTORS.count)
    return [dict(zip(names, (*key, n), strict=True)) for key, n in sorted(actor_counts(events).items())]


def _add_actors(events: list[dict[str, Any]]) -> None:
    """Count `events` by who acted: at once, or inside `batched` once the batch is committed (one
    statement, not one an event)."""
    if BATCHING in db.session().info:
        transaction_memo().setdefault("batch_actors", Counter()).update(actor_counts(events))
    else:
        ACTORS.add(actor_counts(events))


def head_query() -> Select[str]:
    """The hash of the chain's last event (no row: the chain is empty)."""
    return select(AuditEvent.hash).where(_in_chain()).order_by(AuditEvent.id.desc()).limit(1)


def _in_chain() -> ColumnElement[bool]:
    """An event of the chain itself, not of a batch: the condition of the chain's index."""
    return AuditEvent.batch.is_(None)


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
    message = _stamped_message(event.prev_hash, _stamp(event.at), _tail(event), getattr(event, "batch", None))
    return _hmac(message)


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


def _stamp(at: datetime) -> str:
    return json.dumps(at.isoformat(), ensure_ascii=False)


def _stamped_message(prev_hash: str, stamp: str, tail: str, batch: str | None = None) -> str:
    """The JSON list [prev_hash, at, *tail's fields], as `json.dumps` writes it (", " between
    items), after the batch's key for an event of a batch."""
    # prev_hash and the key are hexadecimal (or GENESIS): JSON writes them as they are, quoted.
    message = f'["{prev_hash}", {stamp}, {tail[1:]}'
    return message if batch is None else f'["{batch}", {message[1:]}'


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
    `anchored` is false) check the chain against the latest anchor. A batch's rows are walked
    along their own chain and checked against the event that commits it."""
    walk = _Walk()
    count = 0
    for event in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).yield_per(1000):
        count += 1
        problem = walk.step(event)
        if problem:
            return ChainReport(count, walk.head, f"row {event.id}: {problem}")
    if walk.uncommitted:
        first = min(found.first_id for found in walk.uncommitted.values())
        return ChainReport(count, walk.head, f"row {first}: its batch was never committed")
    return ChainReport(count, walk.head, anchors.check("audit", "id", _hash_of) if anchored else None)


@dataclass
class _BatchSeen:
    first_id: int
    rows: int = 0
    last_hash: str = GENESIS


@dataclass
class _Walk:
    """`verify`'s place in the chain and in each batch it has met and not yet seen committed."""

    head: str = GENESIS
    uncommitted: dict[str, _BatchSeen] = field(default_factory=dict)
    committed: set[str] = field(default_factory=set)

    def step(self, event: AuditEvent) -> str | None:
        """What is wrong with `event`, the next row by id, if anything; then move past it."""
        if event.batch in self.committed:
            return "written to a batch after its commitment"
        seen = None if event.batch is None else self.uncommitted.setdefault(event.batch, _BatchSeen(event.id))
        if event.prev_hash != (self.head if seen is None else seen.last_hash):
            return "a row before it was removed or altered"
        if not hmac.compare_digest(event.hash, _digest(event)):
            return "its content was altered"
        if seen is not None:
            seen.rows, seen.last_hash = seen.rows + 1, event.hash
            return None
        self.head = event.hash
        return self._commit(event) if event.action == BATCH else None

    def _commit(self, event: AuditEvent) -> str | None:
        key = str(event.object_id)
        seen = self.uncommitted.pop(key, None)
        self.committed.add(key)
        named = json.loads(event.detail)
        if seen is None or (seen.rows, seen.last_hash) != (named.get("rows"), named.get("last_hash")):
            return "the batch it commits lost, gained or changed rows"
        return None


def _hash_of(event_id: int) -> str | None:
    return db.session.scalar(select(AuditEvent.hash).where(AuditEvent.id == event_id))


def anchor_head() -> dict[str, Any]:
    """The chain's head as an anchor names it (see vat/anchors.py)."""
    newest = select(AuditEvent.id, AuditEvent.hash).where(_in_chain()).order_by(AuditEvent.id.desc()).limit(1)
    row = db.session.execute(newest).first()
    return {"id": row[0], "hash": row[1]} if row else {"id": 0, "hash": GENESIS}
