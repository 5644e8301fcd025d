"""Authentication and user administration. No request, no session: callers pass what they know."""

from __future__ import annotations

import enum
import functools
import hashlib
import secrets
from datetime import timedelta
from typing import Any

import pyotp
from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload
from zxcvbn import zxcvbn

from vat import audit, i18n
from vat.auth.actor import Actor
from vat.auth.models import BreakGlass, LoginThrottle, Role, User, UserScope, UserSession
from vat.db import db, utcnow
from vat.errors import DomainError
from vat.inputs import InvalidField

_HASHER = PasswordHasher()  # argon2id, argon2-cffi's defaults (t=3, 64 MiB, p=4)
# Tests may use argon2's cheapest profile (still argon2id) so that hundreds of users hash quickly.
_TEST_HASHER = PasswordHasher.from_parameters(profiles.CHEAPEST)


def _hasher() -> PasswordHasher:
    return _TEST_HASHER if current_app.config.get("VAT_FAST_PASSWORD_HASHING") else _HASHER


MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
MIN_ZXCVBN_SCORE = 3  # of 0-4: "safely unguessable" against online and throttled attacks
GENERIC_LOGIN_ERROR = _l("Invalid username or password.")
LOCKED_ERROR = _l("Too many failed attempts. Try again later.")


class LoginRefused(DomainError):
    pass


class LoginThrottled(LoginRefused):
    pass


class WeakPassword(DomainError):
    pass


# --- passwords -------------------------------------------------------------------------------


def check_password_strength(password: str, *, username: str = "") -> None:
    """Length rules, then zxcvbn's offline estimate (common passwords, words, keyboard walks)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(_("Use at least %(count)d characters.", count=MIN_PASSWORD_LENGTH))
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPassword(_("Use at most %(count)d characters.", count=MAX_PASSWORD_LENGTH))
    if username and username.lower() in password.lower():
        raise WeakPassword(_("The password must not contain the username."))
    if zxcvbn(password, user_inputs=[username, "vat", "ledger"])["score"] < MIN_ZXCVBN_SCORE:
        raise WeakPassword(_("This password is too easy to guess; a few unrelated words work well."))


def hash_password(password: str) -> str:
    return _hasher().hash(password)


@functools.cache
def _dummy_hash_for(hasher: PasswordHasher) -> str:
    return hasher.hash(secrets.token_urlsafe(16))


def _dummy_hash() -> str:
    """Unknown users cost one verification too, so timing does not tell who exists."""
    return _dummy_hash_for(_hasher())


def _password_matches(user: User | None, password: str) -> bool:
    try:
        return _hasher().verify(user.password_hash if user else _dummy_hash(), password) and bool(user)
    except (VerificationError, InvalidHashError):
        return False


# --- users -----------------------------------------------------------------------------------


def parse_scope(text: str) -> list[tuple[str, str | None]]:
    """'CAF, COD/MONUSCO' → [('CAF', None), ('COD', 'MONUSCO')]."""
    entries = []
    for item in filter(None, (part.strip() for part in text.replace(";", ",").split(","))):
        country, _slash, mission = item.partition("/")
        country = country.strip().upper()
        if len(country) != 3 or not country.isalpha() or not country.isascii():
            raise DomainError(
                _("Scope entry %(entry)s: use an ISO country code like CAF or COD/MONUSCO.", entry=item)
            )
        entries.append((country, mission.strip().upper() or None))
    return entries


def create_user(*, actor: Any, username: str, password: str, role: Role, scope: str = "") -> User:
    username = username.strip().lower()
    if (
        not username
        or len(username) > 64
        or not username.replace(".", "").replace("-", "").replace("_", "").isalnum()
    ):
        raise DomainError(_("Usernames use letters, digits, dots, dashes and underscores."))
    if db.session.scalar(select(User.id).where(User.username == username)):
        raise DomainError(_("That username is taken."))
    check_password_strength(password, username=username)
    user = User(username=username, password_hash=hash_password(password), role=Role(role), active=True)
    user.scopes = [UserScope(country_code=c, mission=m) for c, m in parse_scope(scope)]
    db.session.add(user)
    db.session.flush()
    audit.record(
        "user.create",
        actor=actor,
        object_type="user",
        object_id=user.id,
        detail={"role": str(role), "scope": user.scope_label},
    )
    return user


def update_user(*, actor: Any, user: User, role: Role, scope: str, active: bool) -> User:
    if user.id == getattr(actor, "id", None) and (not active or Role(role) is not Role.ADMIN):
        raise DomainError(_("You cannot demote or deactivate yourself."))
    user.role = Role(role)
    user.scopes = [UserScope(country_code=c, mission=m) for c, m in parse_scope(scope)]
    was_active, user.active = user.active, active
    if was_active and not active:
        end_all_sessions(user)
    db.session.flush()
    audit.record(
        "user.update",
        actor=actor,
        object_type="user",
        object_id=user.id,
        detail={"role": str(role), "scope": user.scope_label, "active": active},
    )
    return user


def set_language(*, user: User, language: str | None) -> None:
    if language is not None and language not in i18n.LANGUAGES:
        raise DomainError(_("Unknown language."))
    user.language = language


def set_time_zone(*, user: User, time_zone: str | None) -> None:
    """The zone times are shown in to `user` (an IANA name; None: the deployment's)."""
    if time_zone is not None:
        try:
            i18n.zone(time_zone)
        except ValueError as error:
            raise InvalidField(
                "time_zone", _("Unknown time zone: use a name such as Europe/Paris.")
            ) from error
    user.time_zone = time_zone


def change_password(*, user: User, current: str, new: str) -> None:
    if not _password_matches(user, current):
        raise DomainError(_("The current password is wrong."))
    check_password_strength(new, username=user.username)
    user.password_hash = hash_password(new)
    user.password_changed_at = utcnow()
    end_all_sessions(user)
    audit.record("user.password_change", actor=user, object_type="user", object_id=user.id)


# --- login and throttling --------------------------------------------------------------------


def authenticate(*, username: str, password: str, address: str | None) -> User:
    """Return the user for these credentials, or raise with the same message whatever went wrong."""
    username = username.strip().lower()[:64]
    keys = [f"user:{username}", f"addr:{address}"]
    _refuse_if_throttled(keys)
    user = db.session.scalar(select(User).where(User.username == username))
    if not _password_matches(user, password) or user is None or not user.active:
        _count_failure(keys)
        audit.record(
            "auth.login_failed", actor=None, address=address, detail={"username_known": user is not None}
        )
        raise LoginRefused(str(GENERIC_LOGIN_ERROR))
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    _clear_failures(f"user:{username}")
    return user


def _limits() -> dict[str, int]:
    cfg = current_app.config
    return {
        "user": cfg["VAT_LOGIN_MAX_FAILURES"],
        "addr": cfg["VAT_LOGIN_MAX_FAILURES_PER_ADDRESS"],
    }


def _refuse_if_throttled(keys: list[str]) -> None:
    now = utcnow()
    locked = db.session.scalar(
        select(LoginThrottle.key).where(LoginThrottle.key.in_(keys), LoginThrottle.locked_until > now)
    )
    if locked:
        raise LoginThrottled(str(LOCKED_ERROR))


def _count_failure(keys: list[str]) -> None:
    now = utcnow()
    window = timedelta(minutes=current_app.config["VAT_LOGIN_LOCK_MINUTES"])
    limits = _limits()
    for key in keys:
        row = db.session.get(LoginThrottle, key, with_for_update=True)
        if row is None:
            row = LoginThrottle(key=key, failures=0, window_started_at=now)
            db.session.add(row)
        if now - row.window_started_at > window:
            row.failures, row.window_started_at = 0, now
        row.failures += 1
        if row.failures >= limits[key.split(":", 1)[0]]:
            row.locked_until = now + window
    db.session.flush()


def _clear_failures(key: str) -> None:
    db.session.execute(
        update(LoginThrottle).where(LoginThrottle.key == key).values(failures=0, locked_until=None)
    )


# --- second factor ---------------------------------------------------------------------------


def new_totp_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name="VAT Ledger")


def _accept_code(user: User, secret: str, code: str) -> bool:
    """A code is valid for its 30 s step (±1) and only once: later timecodes only."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return False
    totp = pyotp.TOTP(secret)
    now = utcnow().timestamp()
    for drift in (0, -1, 1):
        at = now + drift * totp.interval
        timecode = int(at) // totp.interval
        if timecode > user.totp_last_timecode and secrets.compare_digest(totp.at(at), code):
            user.totp_last_timecode = timecode
            return True
    return False


def confirm_totp_enrolment(*, user: User, secret: str, code: str) -> None:
    if not _accept_code(user, secret, code):
        raise DomainError(_("That code does not match. Check the time on your phone and try again."))
    user.totp_secret = secret
    end_all_sessions(user)
    audit.record("auth.totp_enrolled", actor=user, object_type="user", object_id=user.id)


def verify_totp(*, user: User, code: str, address: str | None) -> None:
    keys = [f"user:{user.username}", f"addr:{address}"]
    _refuse_if_throttled(keys)
    if user.totp_secret is None or not _accept_code(user, user.totp_secret, code):
        _count_failure(keys)
        audit.record("auth.totp_failed", actor=user, address=address)
        raise LoginRefused(_("That code is not valid (or was already used)."))


# --- server-side sessions --------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(*, user: User, address: str | None) -> str:
    """Open a session and return its token (to put in the signed cookie; only its hash is kept)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(
        UserSession(
            token_hash=_token_hash(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            authenticated_at=now,
            address=address,
        )
    )
    audit.record("auth.login", actor=user, object_type="user", object_id=user.id, address=address)
    return token


def find_session(token: str) -> UserSession | None:
    """The session for this token, not ended, with its user and their scopes (reads only)."""
    return db.session.scalar(
        select(UserSession)
        .where(UserSession.token_hash == _token_hash(token), UserSession.ended_at.is_(None))
        .options(joinedload(UserSession.user).selectinload(User.scopes))
    )


class Upkeep(enum.Enum):
    NONE = "none"
    TOUCH = "touch"  # seen again: record it, every 30 s rather than every request
    END = "end"  # idle too long, or too old


def upkeep_due(row: UserSession) -> Upkeep:
    now = utcnow()
    cfg = current_app.config
    idle = timedelta(minutes=cfg["VAT_SESSION_IDLE_MINUTES"])
    absolute = timedelta(hours=cfg["VAT_SESSION_ABSOLUTE_HOURS"])
    if now - row.last_seen_at > idle or now - row.created_at > absolute:
        return Upkeep.END
    if now - row.last_seen_at > timedelta(seconds=30):
        return Upkeep.TOUCH
    return Upkeep.NONE


def keep_up(row: UserSession, upkeep: Upkeep) -> None:
    """End the session or record that it was seen, as `upkeep_due` said."""
    if upkeep is Upkeep.END:
        row.ended_at = utcnow()
    elif upkeep is Upkeep.TOUCH:
        row.last_seen_at = utcnow()


def is_fresh(row: UserSession) -> bool:
    return utcnow() - row.authenticated_at <= timedelta(minutes=current_app.config["VAT_FRESH_MINUTES"])


def refresh_session(row: UserSession) -> None:
    row.authenticated_at = utcnow()
    audit.record("auth.reauthenticated", actor=row.user, object_type="user", object_id=row.user_id)


def end_session(token: str) -> None:
    db.session.execute(
        update(UserSession).where(UserSession.token_hash == _token_hash(token)).values(ended_at=utcnow())
    )


def end_all_sessions(user: User) -> None:
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )


# --- break the glass -------------------------------------------------------------------------


BREAK_GLASS_HOURS = 8


def break_glass(
    *, actor: Actor, record_type: str, record_id: int, reason: str, country_code: str | None
) -> BreakGlass:
    """Open one out-of-scope record for a few hours; the reason is audited and shown to its owner."""
    if Role(actor.role) is not Role.SENIOR_ADVOCATE:
        raise DomainError(_("Only a senior advocate may break the glass."))
    reason = reason.strip()
    if len(reason) < 15:
        raise DomainError(_("State the reason in a sentence (15 characters or more)."))
    grant = BreakGlass(
        user_id=actor.id,
        record_type=record_type,
        record_id=record_id,
        reason=reason,
        expires_at=utcnow() + timedelta(hours=BREAK_GLASS_HOURS),
    )
    db.session.add(grant)
    db.session.flush()
    audit.record(
        "auth.break_glass",
        actor=actor,
        object_type=record_type,
        object_id=record_id,
        country_code=country_code,
        detail={"grant": grant.id},
    )
    return grant
