"""Helping a locked-out user: a password reset and a second-factor reset (issue 15, item 5).

A password reset gives a one-time code, shown once to the administrator who hands it over; it
expires after RESET_HOURS. The old password stops working at once and every session ends. The
code never signs anyone in: on the public reset page its owner, giving the username and the
code, chooses a new password (so the change is forced, and the administrator never knows the
password), then signs in as usual, with the second factor if enrolled. Only the code's SHA-256
is stored; the code is in no log, audit row, URL or flash message.

Whether an administrator may do this alone is decided in `vat.auth.admin_requests`."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any, cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update
from sqlalchemy.engine import CursorResult

from vat import audit
from vat.auth import notices, throttle
from vat.auth.models import NoticeKind, TotpEnrolment, User
from vat.auth.passwords import check_password_strength
from vat.auth.services import end_all_sessions, hash_password
from vat.db import db, utcnow
from vat.errors import DomainError
from vat.inputs import InvalidField

RESET_HOURS = 24
# Read aloud or typed from a message: no 0/O, 1/I/L, 5 groups of 5 (about 124 bits).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_GROUPS, GROUP_LENGTH = 5, 5
# argon2 cannot verify this: the old password no longer opens the account.
NO_PASSWORD = "!reset"  # noqa: S105  # not a password: a hash no password matches

CODE_REFUSED = _l("That reset code is not valid, was already used or has expired: ask an administrator.")


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _normalised(code: str) -> str:
    """What the user typed, without spaces or dashes, in capitals (the code is read aloud)."""
    return "".join(c for c in code.upper() if c.isascii() and c.isalnum())


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUPS * GROUP_LENGTH))
    return "-".join(raw[i : i + GROUP_LENGTH] for i in range(0, len(raw), GROUP_LENGTH))


def reset_password(*, actor: Any, user: User, detail: dict[str, Any] | None = None) -> str:
    """Replace the password by a one-time code (returned, to show once) valid RESET_HOURS; end
    every session. `detail` adds to the audit row (the request, a single-admin act)."""
    code = new_code()
    user.password_hash = NO_PASSWORD
    user.reset_code_hash = _digest(_normalised(code))
    user.reset_expires_at = utcnow() + timedelta(hours=RESET_HOURS)
    user.password_changed_at = utcnow()
    end_all_sessions(user)
    db.session.flush()
    noted = {"expires_hours": RESET_HOURS, **(detail or {})}  # never the code
    audit.record("user.password_reset", actor=actor, object_type="user", object_id=user.id, detail=noted)
    notices.notify(user=user, kind=NoticeKind.PASSWORD_RESET)
    return code


def reset_second_factor(*, actor: Any, user: User, detail: dict[str, Any] | None = None) -> None:
    """Forget the authenticator: the user enrols a new one at next sign-in (whatever the role).
    The count of wrong codes, and the lock it may have caused, go with it."""
    user.totp_secret = None
    user.totp_failures = 0
    user.locked_at = None
    user.must_enrol_totp = True
    db.session.execute(delete(TotpEnrolment).where(TotpEnrolment.user_id == user.id))
    end_all_sessions(user)
    db.session.flush()
    audit.record(
        "user.second_factor_reset", actor=actor, object_type="user", object_id=user.id, detail=detail or {}
    )
    notices.notify(user=user, kind=NoticeKind.SECOND_FACTOR_RESET)


def use_reset_code(*, username: str, code: str, new_password: str, address: str | None) -> User:
    """The user chooses a new password with the code an administrator gave them. Attempts count
    per address and per username (as sign-ins do); the code is consumed by one conditional UPDATE,
    so it works once, whatever the race, and not after it expires."""
    username = username.strip().lower()[:64]
    throttle.claim_attempt(throttle.address_key(address))
    key = f"reset:{username}"
    throttle.claim_attempt(key)
    user = db.session.scalar(select(User).where(User.username == username))
    try:
        check_password_strength(new_password, username=username)
    except DomainError as weak:
        throttle.give_back_attempt(key)
        throttle.give_back_attempt(throttle.address_key(address))
        raise InvalidField("new", str(weak)) from weak
    new_hash = hash_password(new_password)  # for an unknown username too: the time tells nothing
    if user is None or not _consume(user, code, new_hash):
        audit.record(
            "auth.password_reset_failed",
            actor=None,
            address=address,
            detail={"username_known": user is not None},
        )
        raise InvalidField("code", str(CODE_REFUSED))
    db.session.refresh(user)
    throttle.clear_attempts(key)
    throttle.give_back_attempt(throttle.address_key(address))
    end_all_sessions(user)
    audit.record(
        "user.password_reset_used", actor=user, object_type="user", object_id=user.id, address=address
    )
    return user


def _consume(user: User, code: str, new_hash: str) -> bool:
    """Set the new password if `code` is this user's and has not expired; True if this call did."""
    now = utcnow()
    consume = (
        update(User)
        .where(
            User.id == user.id,
            User.reset_code_hash == _digest(_normalised(code)),
            User.reset_expires_at > now,
        )
        .values(password_hash=new_hash, password_changed_at=now, reset_code_hash=None, reset_expires_at=None)
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], db.session.execute(consume)).rowcount == 1
