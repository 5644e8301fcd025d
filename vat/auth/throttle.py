"""Login attempts counted per address and per account (or known device), atomically, before any
password or code is checked. See docs/security.md, "Login limits".

Every attempt is counted first, in one statement (INSERT .. ON CONFLICT DO UPDATE .. WHERE the key
may try now); a success then takes its count back. A concurrent attempt on the same key waits for
the row (PostgreSQL) or the write lock (SQLite) and then sees the count and the wait: no more
attempts are checked than the limits allow, and there is no race on the first failure's insert.

The same counter limits a signed-in user's requests of one kind (`count_request`: money requests
to the ledger, ASVS 2.4.2), in the same table so that every worker and server shares it."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import case, literal, or_, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from vat.auth.models import LoginThrottle, User
from vat.db import UTCDateTime, db, utcnow
from vat.errors import DomainError

LOCKED_ERROR = _l("Too many failed attempts. Try again later.")


class LoginRefused(DomainError):
    pass


class LoginThrottled(LoginRefused):
    pass


def address_key(address: str | None) -> str:
    return f"addr:{address}"


def _insert() -> Any:
    """INSERT with ON CONFLICT, in the dialect of the database in use."""
    if db.session.get_bind().dialect.name == "postgresql":
        return postgresql_insert
    return sqlite_insert


def _count(key: str, *, memory: timedelta, now: datetime, may_try: Any = None) -> Any:
    """Count one attempt for `key` in one statement and return its row's (count, window start), or
    None when `may_try` (a condition on the row) refuses it, counting nothing. Attempts older
    than `memory` are forgotten: the count starts again at 1."""
    table = LoginThrottle.__table__
    at_now = literal(now, UTCDateTime())
    forgotten = table.c.window_started_at < literal(now - memory, UTCDateTime())
    statement = (
        _insert()(table)
        .values(key=key, failures=1, window_started_at=now, locked_until=None)
        .on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "failures": case((forgotten, 1), else_=table.c.failures + 1),
                "window_started_at": case((forgotten, at_now), else_=table.c.window_started_at),
            },
            where=may_try,
        )
        .returning(table.c.failures, table.c.window_started_at)
    )
    return db.session.execute(statement).one_or_none()


def claim_attempt(key: str) -> int:
    """Count one attempt for `key` and return the attempts counted (this one included); raise
    LoginThrottled, counting nothing, while the key must wait."""
    cfg = current_app.config
    now = utcnow()
    table = LoginThrottle.__table__
    is_address = key.startswith("addr:")
    memory = (
        timedelta(minutes=cfg["VAT_LOGIN_LOCK_MINUTES"])
        if is_address
        else timedelta(hours=cfg["VAT_LOGIN_MEMORY_HOURS"])
    )
    may_try = or_(table.c.locked_until.is_(None), table.c.locked_until <= literal(now, UTCDateTime()))
    counted = _count(key, memory=memory, now=now, may_try=may_try)
    if counted is None:
        raise LoginThrottled(str(LOCKED_ERROR))
    failures = int(counted.failures)
    wait = _wait_after(failures, is_address=is_address)
    if wait is not None:
        db.session.execute(
            update(LoginThrottle).where(LoginThrottle.key == key).values(locked_until=now + wait)
        )
    return failures


def count_request(key: str, *, limit: int, window: timedelta) -> datetime | None:
    """Count one request for `key` (a user's requests of one kind) in a window that opens with the
    first request after the last window closed; None while at most `limit` were counted in it, else
    when the window closes (the next request is counted again from then)."""
    counted = _count(key, memory=window, now=utcnow())
    if counted.failures <= limit:
        return None
    started: datetime = counted.window_started_at
    return started + window


def _wait_after(failures: int, *, is_address: bool) -> timedelta | None:
    """How long a key waits after this many attempts: an address stops at its hard limit for the
    whole window; an account (or device) waits a time that doubles with each failure, capped."""
    cfg = current_app.config
    cap = timedelta(minutes=cfg["VAT_LOGIN_LOCK_MINUTES"])
    if is_address:
        return cap if failures >= cfg["VAT_LOGIN_MAX_FAILURES_PER_ADDRESS"] else None
    beyond = failures - cfg["VAT_LOGIN_MAX_FAILURES"]
    if beyond < 0:
        return None
    return min(timedelta(seconds=cfg["VAT_LOGIN_DELAY_SECONDS"]) * 2 ** min(beyond, 20), cap)


def clear_attempts(key: str) -> None:
    db.session.execute(
        update(LoginThrottle).where(LoginThrottle.key == key).values(failures=0, locked_until=None)
    )


def give_back_attempt(key: str) -> None:
    """The attempt succeeded: it no longer counts against the address (which stays limited if the
    other attempts reach the limit on their own)."""
    below_limit = LoginThrottle.failures - 1 < current_app.config["VAT_LOGIN_MAX_FAILURES_PER_ADDRESS"]
    db.session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.key == key, LoginThrottle.failures > 0)
        .values(
            failures=LoginThrottle.failures - 1,
            locked_until=case((below_limit, None), else_=LoginThrottle.locked_until),
        )
    )


def _device_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt="vat.auth.device")


def device_cookie(*, user: User, current: str | None) -> str:
    """The device cookie to leave after `user` signed in: the one they brought if it is theirs,
    else a new one naming a new random device."""
    if current and device_of(current, user):
        return current
    return _device_serializer().dumps({"user": user.id, "device": secrets.token_urlsafe(16)})


def device_of(token: str | None, user: User | None) -> str | None:
    """The device a valid cookie of `user` names, or None."""
    if not token or user is None:
        return None
    max_age = int(timedelta(days=current_app.config["VAT_DEVICE_COOKIE_DAYS"]).total_seconds())
    try:
        payload = _device_serializer().loads(token, max_age=max_age)
    except BadData:
        return None
    if not isinstance(payload, dict) or payload.get("user") != user.id:
        return None
    device = payload.get("device")
    return device if isinstance(device, str) else None
