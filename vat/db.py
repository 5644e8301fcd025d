"""The database layer: declarative base, session, column types and SQLite durability settings."""

from __future__ import annotations

import contextlib
import contextvars
import copy
import enum
import functools
import logging
import select
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

from flask import current_app, has_request_context
from flask_sqlalchemy import SQLAlchemy
from psycopg import RawCursor
from psycopg.rows import namedtuple_row
from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, MetaData, Table, event, insert, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Relationship, Session, mapped_column, relationship
from sqlalchemy.pool import Pool
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Objects stay loaded after a commit: a request commits once, then flashes and redirects using
# what it holds, without a new transaction that could wait for the write lock.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})


class _StatementsOnly(logging.Filter):
    """SQL logging at DEBUG also prints every result row, decrypted: identities would reach the
    logs. Statements (INFO, with parameters hidden by `hide_parameters`) pass; rows do not."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


logging.getLogger("sqlalchemy.engine.Engine").addFilter(_StatementsOnly())


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: store UTC-aware timestamps")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Recorded:
    """The columns of a record kept as it was entered: who recorded it (None once that user is
    gone, or for a job's rows) and when."""

    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Timestamped:
    """When a record was created and last changed."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Money(TypeDecorator[Decimal]):
    """A Decimal stored as an integer count of minor units (SQLite keeps NUMERIC as a float).

    For a fixed number of places (exchange rates: `Money(8)`). An amount in a currency is stored
    in that currency's minor units instead (`vat.money.InCurrency`). A value with more decimal
    places than the exponent allows is refused, not rounded: rounding is a business rule.
    """

    impl = BigInteger
    cache_ok = True

    def __init__(self, exponent: int = 2) -> None:
        super().__init__()
        self.exponent = exponent

    def process_bind_param(self, value: Decimal | None, dialect: Any) -> int | None:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"Money needs a Decimal, got {type(value).__name__}")
        minor = value.scaleb(self.exponent)
        if minor != minor.to_integral_value():
            raise ValueError(f"{value} has more than {self.exponent} decimal places")
        return int(minor)

    def process_result_value(self, value: int | None, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        return Decimal(value).scaleb(-self.exponent)


def one_of(column: str, values: Iterable[str]) -> CheckConstraint:
    """The CHECK that keeps an enumerated column to its enum's values, named ck_<table>_<column>.
    NULL passes, as in any CHECK: nullability is the column's own rule."""
    listed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({listed})", name=column)


# SQLite: a write transaction must start with BEGIN IMMEDIATE, or a deferred transaction that
# reads then writes fails at once with SQLITE_BUSY_SNAPSHOT under WAL instead of waiting its turn.
# Transactions begin IMMEDIATE unless the caller chose DEFERRED (a request that only reads: see
# vat.submission); a deferred transaction is also query-only, so a read-only request that tries to
# write fails every time, in tests, rather than now and then under load.


def owned(parent: str, order_by: Any = None) -> Relationship[Any]:
    """The parent's list of rows that live and die with it: deleted with the parent, or when
    taken out of the list. `parent` names the back reference on the child."""
    return relationship(back_populates=parent, cascade="all, delete-orphan", order_by=order_by)


def assign(row: Any, values: dict[str, Any]) -> list[str]:
    """Set `values` on `row`; the names of those that changed, sorted, for the audit row."""
    changed = sorted(k for k, v in values.items() if getattr(row, k) != v)
    for key, value in values.items():
        setattr(row, key, value)
    return changed


class BeginMode(enum.Enum):
    DEFERRED = "BEGIN"
    IMMEDIATE = "BEGIN IMMEDIATE"


_begin_mode: contextvars.ContextVar[BeginMode] = contextvars.ContextVar(
    "sqlite_begin_mode", default=BeginMode.IMMEDIATE
)

SQLITE_BUSY_TIMEOUT_MS = 5000
_waits_its_turn: contextvars.ContextVar[bool] = contextvars.ContextVar("sqlite_waits_its_turn", default=True)
# How long SQLite's WAL may grow before a web server's commit copies it into the database file
# itself (`leave_checkpoints_to_the_worker`): ~80 MB of 4 KB pages, above a 10,000-row import's.
SERVER_CHECKPOINT_PAGES = 20_000
_checkpoint_pages: int | None = None  # SQLite's own (1,000 pages) unless a server set it


def leave_checkpoints_to_the_worker() -> None:
    """In a web server (gunicorn's `on_starting`, before the app or a connection is made): its
    commits leave SQLite's WAL to the jobs worker's checkpoints (`checkpoint_wal`, every minute),
    unless it grows past SERVER_CHECKPOINT_PAGES. By default the first commit past 1,000 pages
    copies all of it: after an import's 60 MB, a booking or a victim's page paid 0.5-2 s for it."""
    global _checkpoint_pages
    _checkpoint_pages = SERVER_CHECKPOINT_PAGES


def checkpoint_wal() -> tuple[int, int] | None:
    """Copy what SQLite's WAL holds into the database file, as far as no reader still needs it
    (PASSIVE: waits for no one); the WAL's frames and those copied. None on PostgreSQL."""
    if db.engine.dialect.name != "sqlite":
        return None
    connection = db.engine.raw_connection()  # outside a transaction, where a checkpoint runs
    try:
        _busy, frames, copied = connection.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    finally:
        connection.close()
    return int(frames), int(copied)


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection: Any, connection_record: Any) -> None:
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    if _checkpoint_pages is not None:
        cursor.execute(f"PRAGMA wal_autocheckpoint={_checkpoint_pages}")
    cursor.close()


@event.listens_for(Pool, "checkout")
def _refuse_closed_by_server(dbapi_connection: Any, connection_record: Any, connection_proxy: Any) -> None:
    """A pooled connection that the server closed (restarted, backend terminated, idle timeout)
    is not handed out: the pool replaces it. The server's last message or the end of the stream
    waits on its socket, where a live idle connection has nothing to read; asking the socket
    costs no round trip, where a ping (`pool_pre_ping`) cost one per transaction. Anything else
    unread (none is expected) only makes the pool connect anew."""
    if not hasattr(dbapi_connection, "fileno"):  # SQLite: no server
        return
    if dbapi_connection.closed:
        raise DisconnectionError("the connection is closed")
    socket = select.poll()
    socket.register(dbapi_connection.fileno(), select.POLLIN)
    if socket.poll(0):
        raise DisconnectionError("the server closed the connection")


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(connection: Any) -> None:
    if connection.dialect.name != "sqlite":
        return
    mode = _begin_mode.get()
    query_only = mode is BeginMode.DEFERRED
    if connection.info.get("vat_query_only", False) != query_only:
        # on the driver's connection: a mode switch is not one of the request's statements
        connection.connection.driver_connection.execute(f"PRAGMA query_only={int(query_only)}")
        connection.info["vat_query_only"] = query_only
    if mode is BeginMode.IMMEDIATE:
        _begin_immediate(connection)
    else:
        connection.exec_driver_sql(mode.value)


def is_locked(error: OperationalError) -> bool:
    """The error of a transaction refused SQLite's write lock (another writer holds it)."""
    return "database is locked" in str(error.orig)


def _begin_immediate(connection: Any) -> None:
    """BEGIN IMMEDIATE, asked again every millisecond while another writer holds SQLite's write
    lock, until the busy timeout. SQLite's own wait sleeps longer and longer between its tries (up
    to 100 ms each), so a writer that comes straight back (a client opening victims' pages, each
    view audited) took the lock again and again first: a booking beside one waited up to 1-3 s."""
    driver = connection.connection.driver_connection
    driver.execute("PRAGMA busy_timeout=0")
    try:
        try:
            connection.exec_driver_sql(BeginMode.IMMEDIATE.value)
            return
        except OperationalError as error:
            if not is_locked(error) or not _waits_its_turn.get():
                raise
        deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
        while True:
            time.sleep(0.001)
            try:  # again on the driver's connection: a try costs microseconds, not a statement's events
                driver.execute(BeginMode.IMMEDIATE.value)
                return
            except sqlite3.OperationalError as error:
                if "database is locked" not in str(error) or time.monotonic() >= deadline:
                    raise OperationalError(BeginMode.IMMEDIATE.value, None, error) from error
    finally:
        driver.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")


@event.listens_for(Engine, "begin")
def _postgres_on_begin(connection: Any) -> None:
    """PostgreSQL: a request's transaction waits for a lock, and runs a statement, for a bounded
    time (then the request answers 503, nothing saved). Commands and jobs are not bounded here."""
    if connection.dialect.name != "postgresql" or not has_request_context():
        return
    config = current_app.config
    connection.exec_driver_sql(
        "SELECT set_config('lock_timeout', %(lock)s, true), "
        "set_config('statement_timeout', %(statement)s, true)",
        {
            "lock": str(int(config["VAT_DB_LOCK_TIMEOUT_MS"])),
            "statement": str(int(config["VAT_DB_STATEMENT_TIMEOUT_MS"])),
        },
    )


def set_begin_mode(mode: BeginMode) -> contextvars.Token[BeginMode]:
    """Transactions begun from now on (in this context) begin in `mode`; undo with the token."""
    return _begin_mode.set(mode)


def reset_begin_mode(token: contextvars.Token[BeginMode]) -> None:
    _begin_mode.reset(token)


@contextlib.contextmanager
def only_if_free() -> Iterator[None]:
    """SQLite: an IMMEDIATE transaction begun within asks for the write lock once and, if another
    writer holds it, fails at once ("database is locked") instead of waiting its turn."""
    token = _waits_its_turn.set(False)
    try:
        yield
    finally:
        _waits_its_turn.reset(token)


@contextlib.contextmanager
def begin_mode(mode: BeginMode) -> Iterator[None]:
    """Within this block, new SQLite transactions begin in `mode`."""
    token = set_begin_mode(mode)
    try:
        yield
    finally:
        reset_begin_mode(token)


MEMOS = "transaction_memos"  # the session's info: each open transaction's memo


def transaction_memo() -> dict[str, Any]:
    """What the current transaction (the innermost) has learnt under its locks, such as a chain's
    head; forgotten when it ends, so no other transaction sees it. A savepoint starts from a copy
    of what its transaction knew (its locks are held, nobody else wrote meanwhile): released, its
    memo is the transaction's; rolled back, its copy goes with what it wrote."""
    session = db.session()
    transaction = session.get_nested_transaction() or session.get_transaction()
    if transaction is None:
        return {}
    memos: dict[Any, dict[str, Any]] = session.info.setdefault(MEMOS, {})
    memo = memos.get(transaction)
    if memo is None:
        known = next((memos[t] for t in _enclosing(transaction) if t in memos), {})
        memo = memos[transaction] = {name: _copied(value) for name, value in known.items()}
    return memo


def _enclosing(transaction: Any) -> Iterator[Any]:
    """The transactions `transaction` is a savepoint of, the nearest first (a savepoint that never
    asked for its memo has none: what its transaction knew still holds)."""
    while transaction.nested and transaction.parent is not None:
        transaction = transaction.parent
        yield transaction


def _copied(value: Any) -> Any:
    """A memo's value as a savepoint may change it: its own copy of what changes in place."""
    return value.copy() if hasattr(value, "copy") else value


@event.listens_for(Session, "after_commit")
def _savepoint_released(session: Session) -> None:
    """A savepoint released: what it learnt is its transaction's now (after_commit runs for a
    savepoint too, while it is still the innermost)."""
    memos = session.info.get(MEMOS)
    transaction = session.get_nested_transaction()
    if memos is not None and transaction is not None and transaction in memos:
        memos[transaction.parent] = memos.pop(transaction)


@event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session: Session, transaction: Any) -> None:
    memos = session.info.get(MEMOS)
    if memos is None:
        return
    if transaction.parent is None:
        session.info.pop(MEMOS)  # the whole transaction over: every savepoint's memo with it
    else:
        memos.pop(transaction, None)  # a savepoint rolled back (a released one gave it away)


def lock_for_chain(*names: str) -> None:
    """Serialise writers of hash chains until the transaction ends: PostgreSQL advisory locks, in
    the order given, in one statement, each asked for once per transaction; SQLite already holds
    its write lock."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    wanted = [name for name in names if name not in transaction_memo().get("locks", ())]
    if not wanted:
        return
    calls = ", ".join(f"pg_advisory_xact_lock(hashtext(:n{i}))" for i in range(len(wanted)))
    db.session.connection().execute(text(f"SELECT {calls}"), {f"n{i}": name for i, name in enumerate(wanted)})
    transaction_memo().setdefault("locks", set()).update(wanted)


def locked_read(names: tuple[str, ...], statement: Any, params: dict[str, Any]) -> list[Any]:
    """`lock_for_chain(*names)`, then the rows of `statement` (a SELECT of plain columns). On
    PostgreSQL the two travel together (psycopg's pipeline, one round trip with the BEGIN if the
    transaction starts here), yet stay two statements: the read's snapshot is taken once the lock
    is held, so it sees all its previous holder committed (a statement taking the lock itself
    would read from before its wait)."""
    memo = transaction_memo()
    wanted = [name for name in names if name not in memo.get("locks", ())]
    connection = db.session.connection()
    if connection.dialect.name != "postgresql" or not wanted:
        lock_for_chain(*names)
        return list(connection.execute(statement, params).all())
    # The SQL with the parameters SQLAlchemy renders at execution (a separator, say) in it.
    expanded = _compiled(statement, connection.dialect).construct_expanded_state(params)
    sql, values = expanded.statement, expanded.parameters
    lock_sql = "SELECT " + ", ".join(
        f"pg_advisory_xact_lock(hashtext(%s)) AS l{i}" for i in range(len(wanted))
    )
    raw = cast(Any, connection.connection.dbapi_connection)  # psycopg's Connection
    cursor = raw.cursor(row_factory=namedtuple_row)
    for sent, sent_values in ((lock_sql, wanted), (sql, values)):
        for listener in connection.dispatch.before_cursor_execute:  # what counts statements sees them
            listener(connection, cursor, sent, sent_values, None, False)
    try:
        with raw.pipeline():
            cursor.execute(lock_sql, wanted)
            cursor.execute(sql, values)
        rows = cursor.fetchall()
    except connection.dialect.loaded_dbapi.Error as error:
        raise DBAPIError.instance(sql, values, error, connection.dialect.loaded_dbapi.Error) from error
    finally:
        cursor.close()
    transaction_memo().setdefault("locks", set()).update(wanted)
    return list(rows)


def execute_numbered(sql: str, values: list[Any]) -> None:
    """Run `sql`, written with PostgreSQL's own placeholders ($1, $2…, `numbered`), through
    SQLAlchemy (its events, its errors) on a psycopg `RawCursor`, which sends it as it is:
    psycopg's usual cursor parses a long statement's named placeholders anew at every execution
    (it keeps only short statements' parse)."""
    connection = db.session.connection()
    raw = cast(Any, connection.connection.dbapi_connection)  # psycopg's Connection
    usual, raw.cursor_factory = raw.cursor_factory, RawCursor
    try:
        connection.exec_driver_sql(sql, tuple(values))
    finally:
        raw.cursor_factory = usual


def numbered(statement: Any, dialect: Any) -> tuple[str, list[str]]:
    """`statement` compiled for `dialect` with PostgreSQL's placeholders, for `execute_numbered`,
    and the names of its parameters in their order."""
    dollar = copy.copy(dialect)
    dollar.paramstyle, dollar.positional = "numeric_dollar", True
    compiled = statement.compile(dialect=dollar)
    return compiled.string, list(compiled.positiontup)


@functools.lru_cache(maxsize=16)
def _compiled(statement: Any, dialect: Any) -> Any:
    return statement.compile(dialect=dialect)


@dataclass(frozen=True)
class DriverRows:
    """An INSERT of many rows with every value already as the driver takes it: built before a
    write lock is taken (`driver_rows`), it then runs (`insert_driver_rows`) at the cost of the
    database's own work, without SQLAlchemy's processing of each row under the lock."""

    sql: str
    values: list[Any]


def driver_rows(table: Table, rows: list[dict[str, Any]]) -> DriverRows | None:
    """`rows` (dicts with the same keys) as `insert(table)` would send them on the session's
    backend: each column through its type's bind processing; a column left out that has a Python
    default gets it, evaluated once for all the rows (they are written as one)."""
    if not rows:
        return None
    dialect = db.session.get_bind().dialect
    defaults: dict[str, Any] = {}
    for column in table.columns:
        if column.key in rows[0] or column.default is None:
            continue
        default: Any = column.default
        if not (default.is_scalar or default.is_callable):
            raise ValueError(f"{table.name}.{column.key}: only scalar and callable defaults")
        defaults[column.key] = default.arg(None) if default.is_callable else default.arg
    names = [c.key for c in table.columns if c.key in rows[0] or c.key in defaults]
    compiled = insert(table).compile(dialect=dialect, column_keys=names)
    order = list(compiled.positiontup or ()) if compiled.positional else names
    if sorted(order) != sorted(names):
        raise ValueError(f"{table.name}: unexpected parameters {order}")
    columns = []
    for name in order:
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if name in defaults:
            value = defaults[name] if process is None else process(defaults[name])
            columns.append([value] * len(rows))
        else:
            given = [row[name] for row in rows]
            columns.append(given if process is None else _each_processed(process, given))
    values: list[Any] = list(zip(*columns, strict=True))
    if not compiled.positional:
        values = [dict(zip(order, row, strict=True)) for row in values]
    return DriverRows(compiled.string, values)


def _each_processed(process: Callable[[Any], Any], values: list[Any]) -> list[Any]:
    """`process` applied to each value; a value repeated (one time for many rows) is processed once."""
    out, last, last_out = [], object(), None
    for value in values:
        if value is not last:
            last, last_out = value, process(value)
        out.append(last_out)
    return out


def insert_driver_rows(rows: DriverRows | None) -> None:
    """Run `driver_rows`' INSERT in the session's transaction (one executemany)."""
    if rows is not None:
        db.session.connection().exec_driver_sql(rows.sql, rows.values)


def append_only_ddl(table: str, dialect: str) -> list[str]:
    """DDL that makes `table` refuse UPDATE and DELETE, used by migrations."""
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
        ]
    return [
        "CREATE OR REPLACE FUNCTION vat_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$",
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION vat_refuse_change()",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION vat_refuse_change()",
    ]


def drop_append_only_ddl(table: str, dialect: str) -> list[str]:
    if dialect == "sqlite":
        return [f"DROP TRIGGER {table}_no_update", f"DROP TRIGGER {table}_no_delete"]
    return [
        f"DROP TRIGGER {table}_append_only ON {table}",
        f"DROP TRIGGER {table}_no_truncate ON {table}",
    ]
