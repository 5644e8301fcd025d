"""Authentication and user administration. No request, no session: callers pass what they know."""

from __future__ import annotations

import enum
import functools
import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any, cast

import pyotp
from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from vat import audit, i18n
from vat.auth import notices, throttle
from vat.auth.models import NoticeKind, Role, TotpEnrolment, User, UserScope, UserSession
from vat.auth.passwords import check_password_strength
from vat.auth.scopes import Scope, parse_scope
from vat.auth.throttle import LoginRefused
from vat.db import db, utcnow
from vat.errors import DomainError, NotAllowed
from vat.inputs import InvalidField

_HASHER = PasswordHasher()  # argon2id, argon2-cffi's defaults (t=3, 64 MiB, p=4)
# Tests may use argon2's cheapest profile (still argon2id) so that hundreds of users hash quickly.
_TEST_HASHER = PasswordHasher.from_parameters(profiles.CHEAPEST)


def _hasher() -> PasswordHasher:
    return _TEST_HASHER if current_app.config.get("VAT_FAST_PASSWORD_HASHING") else _HASHER


GENERIC_LOGIN_ERROR = _l("Invalid username or password.")
ACCOUNT_LOCKED_ERROR = _l("This account is locked after too many wrong codes: ask an administrator.")
CODE_REFUSED_ERROR = _l("That code is not valid (or was already used).")
# The right code a second time (just after enrolling, or signing in twice within its half-minute).
CODE_USED_ERROR = _l("That code was already used: wait for your authenticator to show the next one.")


class AccountLocked(LoginRefused):
    pass


class CodeRefused(LoginRefused):
    pass


class MalformedCode(CodeRefused):
    pass


# --- passwords (their strength: vat.auth.passwords) ------------------------------------------


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


def scope_text(scopes: list[Scope]) -> str:
    """[('CAF', None), ('COD', 'MONUSCO')] → 'CAF, COD/MONUSCO' (as a form shows it)."""
    return ", ".join(f"{country}/{mission}" if mission else country for country, mission in scopes)


def check_new_user(*, username: str, password: str, scope: str) -> tuple[str, list[Scope]]:
    """The username as it will be stored and the scope's entries, or a refusal naming its field."""
    username = username.strip().lower()
    if (
        not username
        or len(username) > 64
        or not username.replace(".", "").replace("-", "").replace("_", "").isalnum()
    ):
        raise InvalidField("username", _("Usernames use letters, digits, dots, dashes and underscores."))
    if db.session.scalar(select(User.id).where(User.username == username)):
        raise InvalidField("username", _("That username is taken."))
    entries = parse_scope(scope)
    try:
        check_password_strength(password, username=username)
    except DomainError as weak:
        raise InvalidField("password", str(weak)) from weak
    return username, entries


def create_user(*, actor: Any, username: str, password: str, role: Role, scope: str = "") -> User:
    username, entries = check_new_user(username=username, password=password, scope=scope)
    return add_user(
        actor=actor, username=username, password_hash=hash_password(password), role=role, scopes=entries
    )


def add_user(
    *,
    actor: Any,
    username: str,
    password_hash: str,
    role: Role,
    scopes: list[Scope],
    detail: dict[str, Any] | None = None,
) -> User:
    """Add an account whose username and scope are checked (`check_new_user`) and whose password
    is already hashed; `detail` adds to the audit row (the request that asked for it)."""
    if db.session.scalar(select(User.id).where(User.username == username)):
        raise InvalidField("username", _("That username is taken."))
    user = User(username=username, password_hash=password_hash, role=Role(role), active=True)
    user.scopes = [UserScope(country_code=c, mission=m) for c, m in scopes]
    db.session.add(user)
    db.session.flush()
    audit_user(
        "user.create",
        actor=actor,
        user=user,
        detail={"role": str(role), "scope": user.scope_label, **(detail or {})},
    )
    return user


def scopes_of(user: User) -> list[Scope]:
    return [(s.country_code, s.mission) for s in user.scopes]


def parse_scope_for(user: User, scope: str) -> list[Scope]:
    """`scope` for this account: missions it already has stay accepted."""
    return parse_scope(scope, also_known=[m for _c, m in scopes_of(user) if m])


def update_user(
    *,
    actor: Any,
    user: User,
    role: Role,
    scope: str,
    active: bool,
    detail: dict[str, Any] | None = None,
) -> User:
    if user.id == getattr(actor, "id", None) and (not active or Role(role) is not Role.ADMIN):
        raise DomainError(_("You cannot demote or deactivate yourself."))
    entries = parse_scope_for(user, scope)
    user.role = Role(role)
    user.scopes = [UserScope(country_code=c, mission=m) for c, m in entries]
    was_active, user.active = user.active, active
    if was_active and not active:
        end_all_sessions(user)
    db.session.flush()
    audit_user(
        "user.update",
        actor=actor,
        user=user,
        detail={"role": str(role), "scope": user.scope_label, "active": active, **(detail or {})},
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
    audit_user("user.password_change", actor=user, user=user)
    notices.notify(user=user, kind=NoticeKind.PASSWORD_CHANGED)


def audit_user(
    action: str,
    *,
    actor: Any,
    user: User,
    address: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """An audit row about one account."""
    audit.record(action, actor=actor, object_type="user", object_id=user.id, address=address, detail=detail)


# --- login (attempts are counted in vat.auth.throttle) ---------------------------------------


def authenticate(*, username: str, password: str, address: str | None, device: str | None = None) -> User:
    """Return the user for these credentials, or raise with the same message whatever went wrong.

    `device` is the device cookie a previous sign-in left: a device that signed in to this account
    before is throttled on its own count, so that guesses from elsewhere cannot lock its owner out."""
    username = username.strip().lower()[:64]
    user = db.session.scalar(select(User).where(User.username == username))
    known_device = throttle.device_of(device, user)
    account_key = f"device:{known_device}" if known_device else f"user:{username}"
    throttle.claim_attempt(throttle.address_key(address))
    failures = throttle.claim_attempt(account_key)
    if not _password_matches(user, password) or user is None or not user.active:
        audit.record(
            "auth.login_failed",
            actor=None,
            address=address,
            detail={"username_known": user is not None, "failures": failures},
        )
        if user is not None and user.active:
            notices.notify(user=user, kind=NoticeKind.FAILED_PASSWORD, address=address)
        raise LoginRefused(str(GENERIC_LOGIN_ERROR))
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    throttle.clear_attempts(account_key)
    throttle.give_back_attempt(throttle.address_key(address))
    if _locked_at(user) is not None:
        audit_user("auth.login_locked", actor=user, user=user, address=address)
        raise AccountLocked(str(ACCOUNT_LOCKED_ERROR))
    return user


def _rows_changed(statement: Any) -> int:
    """Run an UPDATE and return how many rows it changed."""
    result = cast(CursorResult[Any], db.session.execute(statement))
    return int(result.rowcount)


def _locked_at(user: User) -> datetime | None:
    """Read from the database, not from the (possibly older) loaded object."""
    return db.session.scalar(select(User.locked_at).where(User.id == user.id))


# --- second factor ---------------------------------------------------------------------------
#
# A wrong code counts against the account (auth_user.totp_failures) and only a right code resets
# it; VAT_TOTP_MAX_FAILURES lock the account. Like passwords, the attempt is counted first, in one
# UPDATE that refuses a locked account, so parallel guesses cannot pass the limit. A right code is
# consumed by a conditional UPDATE (.. WHERE totp_last_timecode < step): of any number of parallel
# requests with one code, exactly one changes the row and opens a session.

ENROLMENT_MINUTES = 10
CODE_DIGITS = frozenset("0123456789")


def new_totp_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name="VAT Ledger")


def _well_formed(code: str) -> str | None:
    """Six ASCII digits (spaces allowed between), or None: `isdigit` also accepts '١٢٣٤٥٦'."""
    code = code.strip().replace(" ", "")
    return code if len(code) == 6 and set(code) <= CODE_DIGITS else None


def _matching_step(secret: str, code: str) -> int | None:
    """The 30 s step (this one, or one either side) whose code this is, or None."""
    totp = pyotp.TOTP(secret)
    now = utcnow().timestamp()
    for drift in (0, -1, 1):
        at = now + drift * totp.interval
        if secrets.compare_digest(totp.at(at), code):
            return int(at) // totp.interval
    return None


def verify_totp(*, user: User, code: str, address: str | None) -> None:
    """Accept `code` once (it is consumed), or raise; every refusal is counted and audited."""
    throttle.claim_attempt(throttle.address_key(address))
    failures = _claim_code_attempt(user)
    if failures is None:
        audit_user("auth.totp_locked", actor=user, user=user, address=address)
        raise AccountLocked(str(ACCOUNT_LOCKED_ERROR))
    well_formed = _well_formed(code)
    step = _matching_step(user.totp_secret, well_formed) if well_formed and user.totp_secret else None
    if step is not None and _consume_step(user, step):
        throttle.give_back_attempt(throttle.address_key(address))
        return
    if step is not None:  # the right code, already used: a replay, not a guess
        _give_back_code_attempt(user)
        audit_user("auth.totp_replayed", actor=user, user=user, address=address)
        raise CodeRefused(str(CODE_USED_ERROR))
    audit_user(
        "auth.totp_failed",
        actor=user,
        user=user,
        address=address,
        detail={"malformed": well_formed is None, "failures": failures},
    )
    notices.notify(user=user, kind=NoticeKind.FAILED_CODE, address=address)
    if failures >= current_app.config["VAT_TOTP_MAX_FAILURES"]:
        _lock(user, address=address)
    if well_formed is None:
        raise MalformedCode(_("A code is six digits (0 to 9)."))
    raise CodeRefused(str(CODE_REFUSED_ERROR))


def _claim_code_attempt(user: User) -> int | None:
    """Count one code attempt for `user`; None (nothing counted) if the account is locked."""
    failures = db.session.execute(
        update(User)
        .where(User.id == user.id, User.locked_at.is_(None))
        .values(totp_failures=User.totp_failures + 1)
        .returning(User.totp_failures)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    return None if failures is None else int(failures)


def _give_back_code_attempt(user: User) -> None:
    db.session.execute(
        update(User)
        .where(User.id == user.id, User.totp_failures > 0)
        .values(totp_failures=User.totp_failures - 1)
        .execution_options(synchronize_session=False)
    )


def _consume_step(user: User, step: int) -> bool:
    """Mark `step` used if no later or equal step was; True if this call did."""
    consumed = _rows_changed(
        update(User)
        .where(User.id == user.id, User.totp_last_timecode < step, User.locked_at.is_(None))
        .values(totp_last_timecode=step, totp_failures=0)
        .execution_options(synchronize_session=False)
    )
    if consumed == 1:
        set_committed_value(user, "totp_last_timecode", step)
        set_committed_value(user, "totp_failures", 0)
    return consumed == 1


def _lock(user: User, *, address: str | None) -> None:
    now = utcnow()
    locked = _rows_changed(
        update(User)
        .where(User.id == user.id, User.locked_at.is_(None))
        .values(locked_at=now)
        .execution_options(synchronize_session=False)
    )
    if locked:
        set_committed_value(user, "locked_at", now)
        end_all_sessions(user)
        audit_user("auth.account_locked", actor=user, user=user, address=address)


def unlock_account(*, actor: Any, user: User) -> None:
    """An administrator helps a locked-out user: the lock after wrong codes is lifted, the count of
    wrong codes and the account's count of failed sign-ins (and its wait) start again."""
    was_locked = user.locked_at is not None
    user.locked_at = None
    user.totp_failures = 0
    throttle.clear_attempts(f"user:{user.username}")
    unlocked = {"was_locked": was_locked}
    audit_user("auth.account_unlocked", actor=actor, user=user, detail=unlocked)
    notices.notify(user=user, kind=NoticeKind.ACCOUNT_UNLOCKED)


def start_totp_enrolment(*, user: User) -> str:
    """The secret of the authenticator `user` is setting up: the pending one if recent, else new.
    Kept encrypted in the database until confirmed; never sent anywhere but this user's page."""
    pending = db.session.get(TotpEnrolment, user.id)
    if pending is not None and utcnow() - pending.created_at <= timedelta(minutes=ENROLMENT_MINUTES):
        return pending.secret
    if pending is not None:
        db.session.delete(pending)
        db.session.flush()
    pending = TotpEnrolment(user_id=user.id, secret=new_totp_secret(), created_at=utcnow())
    db.session.add(pending)
    db.session.flush()
    return pending.secret


def pending_totp_secret(*, user: User) -> str | None:
    pending = db.session.get(TotpEnrolment, user.id)
    if pending is None or utcnow() - pending.created_at > timedelta(minutes=ENROLMENT_MINUTES):
        return None
    return pending.secret


def confirm_totp_enrolment(
    *, user: User, password: str, current_code: str, code: str, address: str | None, device: str | None
) -> None:
    """Make the pending authenticator the user's: the password, a code from the authenticator
    being replaced (if any), and a first code from the new one."""
    authenticate(username=user.username, password=password, address=address, device=device)
    if user.totp_secret is not None:
        verify_totp(user=user, code=current_code, address=address)
    secret = pending_totp_secret(user=user)
    if secret is None:
        raise DomainError(_("This set-up has expired: open the page again for a new key."))
    new_code = _well_formed(code)
    step = _matching_step(secret, new_code) if new_code else None
    if step is None:
        raise DomainError(_("That code does not match. Check the time on your phone and try again."))
    user.totp_secret = secret
    user.totp_last_timecode = max(user.totp_last_timecode, step)  # the confirming code opens nothing
    user.totp_failures = 0
    user.must_enrol_totp = False
    db.session.execute(delete(TotpEnrolment).where(TotpEnrolment.user_id == user.id))
    end_all_sessions(user)
    audit_user("auth.totp_enrolled", actor=user, user=user, address=address)
    notices.notify(user=user, kind=NoticeKind.SECOND_FACTOR_SET, address=address)


# --- server-side sessions --------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


USER_AGENT_LENGTH = 200


def start_session(
    *, user: User, address: str | None, user_agent: str | None = None, new_device: bool = False
) -> str:
    """Open a session and return its token (to put in the signed cookie; only its hash is kept).
    A device the account never signed in from (no device cookie of it) is a notice to the user."""
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
            user_agent=(user_agent or "")[:USER_AGENT_LENGTH] or None,
        )
    )
    audit_user("auth.login", actor=user, user=user, address=address)
    if new_device:
        notices.notify(user=user, kind=NoticeKind.NEW_DEVICE, address=address, user_agent=user_agent)
    return token


def is_current(row: UserSession, token: str | None) -> bool:
    return token is not None and secrets.compare_digest(row.token_hash, _token_hash(token))


def open_sessions(user: User) -> list[UserSession]:
    """The user's sessions not ended nor expired, the most recently seen first."""
    cfg = current_app.config
    now = utcnow()
    return list(
        db.session.scalars(
            select(UserSession)
            .where(
                UserSession.user_id == user.id,
                UserSession.ended_at.is_(None),
                UserSession.last_seen_at > now - timedelta(minutes=cfg["VAT_SESSION_IDLE_MINUTES"]),
                UserSession.created_at > now - timedelta(hours=cfg["VAT_SESSION_ABSOLUTE_HOURS"]),
            )
            .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
        )
    )


def end_own_session(*, actor: User, row: UserSession) -> UserSession:
    """End one of the actor's own sessions."""
    if row.user_id != actor.id:
        raise NotAllowed(_("That is not one of your sessions."))
    if row.ended_at is None:
        row.ended_at = utcnow()
        audit_user("auth.session_ended", actor=actor, user=actor)
    return row


def end_sessions_of(*, actor: Any, user: User) -> int:
    """An administrator ends every session of `user`; returns how many were open."""
    ended = end_all_sessions(user)
    audit_user(
        "auth.sessions_ended_by_admin",
        actor=actor,
        user=user,
        detail={"sessions": ended},
    )
    return ended


def find_session(token: str) -> tuple[UserSession | None, int]:
    """The session for this token, not ended, with its user and their scopes, and how many of
    the user's notices are unseen (reads only)."""
    found = db.session.execute(
        select(UserSession, notices.unseen_sql(UserSession.user_id))
        .where(UserSession.token_hash == _token_hash(token), UserSession.ended_at.is_(None))
        .options(joinedload(UserSession.user).selectinload(User.scopes))
    ).first()
    return (None, 0) if found is None else (found[0], int(found[1]))


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


def keep_alive(row: UserSession) -> None:
    """The person asked to stay signed in: seen now, whatever the 30-second touch would do."""
    row.last_seen_at = utcnow()


def seconds_left(row: UserSession) -> int:
    """How long the session lasts if nothing more is asked of the server: until it has been idle
    too long, or is too old."""
    cfg = current_app.config
    ends = min(
        row.last_seen_at + timedelta(minutes=cfg["VAT_SESSION_IDLE_MINUTES"]),
        row.created_at + timedelta(hours=cfg["VAT_SESSION_ABSOLUTE_HOURS"]),
    )
    return max(0, int((ends - utcnow()).total_seconds()))


def is_fresh(row: UserSession) -> bool:
    return utcnow() - row.authenticated_at <= timedelta(minutes=current_app.config["VAT_FRESH_MINUTES"])


def refresh_session(row: UserSession) -> None:
    row.authenticated_at = utcnow()
    audit.record("auth.reauthenticated", actor=row.user, object_type="user", object_id=row.user_id)


def end_session(token: str) -> None:
    db.session.execute(
        update(UserSession).where(UserSession.token_hash == _token_hash(token)).values(ended_at=utcnow())
    )


def end_all_sessions(user: User) -> int:
    return _rows_changed(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
