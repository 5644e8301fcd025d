"""Four eyes on privilege and on identity (issue 15, item 5).

An administrator's act on a privileged account (`vat.auth.policy.PRIVILEGED_ROLES`: it sees
identities, moves money or administers) is a *request*: creating such an account, elevating an
account to such a role (or reactivating one), widening the scope of an account whose role is
scoped, resetting its password or its second factor. It takes effect when a second
administrator approves it — never the one who asked — within REQUEST_HOURS; either may refuse
it. Approval is one conditional UPDATE (.. WHERE status = 'pending' AND requested_by_id <> :me
AND expires_at > now), so of two approvals at once exactly one applies the request.

A one-admin office (VAT_SINGLE_ADMIN_OFFICE, off by default, and one active administrator) acts
alone: the act is applied at once, recorded here with status 'alone', audited with
`single_admin`, and listed for an auditor to read and acknowledge.

Acts on other accounts (the auditor's), narrowing a role or scope and deactivating apply at once,
audited as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import selectinload

from vat import audit
from vat.auth import resets, services
from vat.auth.actor import Actor
from vat.auth.models import AdminRequest, AdminRequestKind, AdminRequestStatus, IdentityCheck, Role, User
from vat.auth.policy import PRIVILEGED_ROLES, SCOPED_ROLES, permissions_of
from vat.auth.scopes import parse_scope, widens
from vat.db import db, utcnow
from vat.errors import Conflict, DomainError, NotAllowed

REQUEST_HOURS = 72

_PENDING, _ALONE = AdminRequestStatus.PENDING.value, AdminRequestStatus.ALONE.value


@dataclass(frozen=True)
class Outcome:
    """What an administrator's act did: `request` is the pending request (nothing applied yet) or
    the record of a single-admin act; `user` the account created or changed; `reset_code` the
    one-time password-reset code, to show once and never store."""

    request: AdminRequest | None = None
    user: User | None = None
    reset_code: str | None = None

    @property
    def waiting(self) -> bool:
        return self.request is not None and self.request.status == _PENDING


def is_privileged(role: Role | str) -> bool:
    return Role(role) in PRIVILEGED_ROLES


def active_admins() -> int:
    return int(
        db.session.scalar(select(func.count(User.id)).where(User.role == Role.ADMIN.value, User.active)) or 0
    )


def single_admin_office() -> bool:
    """One administrator may act alone: the installation says it is a one-admin office, and is."""
    return bool(current_app.config.get("VAT_SINGLE_ADMIN_OFFICE")) and active_admins() <= 1


def _require_admin(actor: Actor) -> None:
    if Role(actor.role) is not Role.ADMIN:
        raise NotAllowed(_l("Only an administrator manages accounts."))


def _open(actor: Actor, kind: AdminRequestKind, user: User | None, **wanted: Any) -> AdminRequest:
    """Record the act: pending (a second administrator decides) or, in a one-admin office, done
    alone."""
    now = utcnow()
    alone = single_admin_office()
    if user is not None and not alone:
        already = db.session.scalar(
            select(AdminRequest.id).where(
                AdminRequest.user_id == user.id,
                AdminRequest.kind == kind.value,
                AdminRequest.status == _PENDING,
                AdminRequest.expires_at > now,
            )
        )
        if already is not None:
            raise Conflict(_l("The same request for this account is already waiting for approval."))
    request = AdminRequest(
        kind=kind.value,
        status=_ALONE if alone else _PENDING,
        user_id=user.id if user is not None else None,
        requested_by_id=actor.id,
        requested_at=now,
        expires_at=now + timedelta(hours=REQUEST_HOURS),
        decided_by_id=actor.id if alone else None,
        decided_at=now if alone else None,
        **wanted,
    )
    db.session.add(request)
    db.session.flush()
    if not alone:
        audit.record(
            "admin_request.open",
            actor=actor,
            object_type="user",
            object_id=user.id if user is not None else None,
            detail={"request": request.id, "kind": kind.value, "role": wanted.get("role")},
        )
    return request


def _detail(request: AdminRequest) -> dict[str, Any]:
    """What the audit row of an applied request adds: which request, who asked, and whether one
    administrator did it alone."""
    checked = {"identity_check": request.identity_check} if request.identity_check else {}
    if request.status == _ALONE:
        return {"request": request.id, "single_admin": True, **checked}
    return {"request": request.id, "requested_by": request.requested_by_id, **checked}


# --- asking ----------------------------------------------------------------------------------


def propose_new_user(*, actor: Actor, username: str, password: str, role: Role, scope: str) -> Outcome:
    """A new account: at once if its role is not privileged, else a request (the password hashed)."""
    _require_admin(actor)
    username, entries = services.check_new_user(username=username, password=password, scope=scope)
    if not is_privileged(role):
        user = services.add_user(
            actor=actor,
            username=username,
            password_hash=services.hash_password(password),
            role=role,
            scopes=entries,
        )
        return Outcome(user=user)
    request = _open(
        actor,
        AdminRequestKind.CREATE_USER,
        None,
        username=username,
        role=Role(role).value,
        scope=services.scope_text(entries),
        active=True,
        password_hash=services.hash_password(password),
    )
    return _apply_alone(actor, request)


def elevates(user: User, *, role: Role, scope: str, active: bool) -> bool:
    """True if the change gives `user` more than they have: a privileged role with a permission
    their role lacks (a senior advocate made advocate gains none), an account reactivated into a
    privileged role, or a wider scope for a scoped privileged role."""
    role = Role(role)
    if not is_privileged(role) or not active:
        return False
    if not user.active or not permissions_of(role) <= permissions_of(Role(user.role)):
        return True
    new = services.parse_scope_for(user, scope)
    return role in SCOPED_ROLES and widens(services.scopes_of(user), new)


def propose_change(*, actor: Actor, user: User, role: Role, scope: str, active: bool) -> Outcome:
    """Change an account's role, scope or status: at once unless it elevates the account."""
    _require_admin(actor)
    entries = services.parse_scope_for(user, scope)
    if not elevates(user, role=role, scope=scope, active=active):
        changed = services.update_user(actor=actor, user=user, role=role, scope=scope, active=active)
        return Outcome(user=changed)
    if user.id == actor.id:
        raise NotAllowed(_l("Another administrator changes your own account."))
    request = _open(
        actor,
        AdminRequestKind.CHANGE_USER,
        user,
        role=Role(role).value,
        scope=services.scope_text(entries),
        active=active,
    )
    return _apply_alone(actor, request)


def propose_password_reset(*, actor: Actor, user: User) -> Outcome:
    _require_admin(actor)
    if user.id == actor.id:
        raise NotAllowed(_l("Change your own password from your account page."))
    if not is_privileged(user.role):
        return Outcome(user=user, reset_code=resets.reset_password(actor=actor, user=user))
    return _apply_alone(actor, _open(actor, AdminRequestKind.RESET_PASSWORD, user))


def propose_second_factor_reset(*, actor: Actor, user: User, identity_check: str) -> Outcome:
    """Reset a lost second factor once the administrator has said how they made sure the person
    asking is the account's owner (ASVS 6.4.4); the approver sees how."""
    _require_admin(actor)
    if user.id == actor.id:
        raise NotAllowed(_l("Another administrator resets your own second factor."))
    if identity_check not in set(IdentityCheck):
        raise DomainError(
            _l("Say how you checked the person's identity before resetting their second factor.")
        )
    if not is_privileged(user.role):
        resets.reset_second_factor(actor=actor, user=user, detail={"identity_check": identity_check})
        return Outcome(user=user)
    asked = _open(actor, AdminRequestKind.RESET_SECOND_FACTOR, user, identity_check=identity_check)
    return _apply_alone(actor, asked)


def _apply_alone(actor: Actor, request: AdminRequest) -> Outcome:
    if request.status != _ALONE:
        return Outcome(request=request)
    return _apply(actor, request)


# --- deciding --------------------------------------------------------------------------------


def _decide(actor: Actor, request: AdminRequest, status: AdminRequestStatus) -> None:
    """Move a pending request to `status` in one conditional UPDATE and audit it, or say why not.
    An approval is never the requester's; a refusal may be (withdrawing it)."""
    _require_admin(actor)
    if status is AdminRequestStatus.APPROVED and request.requested_by_id == actor.id:
        raise NotAllowed(_l("You asked for this: another administrator must approve it."))
    if status is AdminRequestStatus.APPROVED and request.user_id == actor.id:
        raise NotAllowed(_l("This request is about your own account: another administrator must approve it."))
    now = utcnow()
    conditions = [
        AdminRequest.id == request.id,
        AdminRequest.status == _PENDING,
        AdminRequest.expires_at > now,
    ]
    if status is AdminRequestStatus.APPROVED:
        conditions.append(AdminRequest.requested_by_id != actor.id)
        conditions.append(or_(AdminRequest.user_id.is_(None), AdminRequest.user_id != actor.id))
    decided = (
        update(AdminRequest)
        .where(*conditions)
        .values(status=status.value, decided_by_id=actor.id, decided_at=now)
    )
    changed = cast(
        CursorResult[Any], db.session.execute(decided.execution_options(synchronize_session=False))
    )
    db.session.refresh(request)
    if changed.rowcount == 1:
        audit.record(
            f"admin_request.{'approve' if status is AdminRequestStatus.APPROVED else 'refuse'}",
            actor=actor,
            object_type="user",
            object_id=request.user_id,
            detail={"request": request.id, "kind": request.kind, "requested_by": request.requested_by_id},
        )
        return
    if request.status != _PENDING:
        raise Conflict(_l("This request is already decided."))
    raise Conflict(_l("This request has expired: ask again if it is still needed."))


def approve(*, actor: Actor, request: AdminRequest) -> Outcome:
    """A second administrator approves: the request is applied now, in this transaction."""
    _decide(actor, request, AdminRequestStatus.APPROVED)
    return _apply(actor, request)


def refuse(*, actor: Actor, request: AdminRequest) -> AdminRequest:
    """Another administrator refuses the request, or its requester withdraws it: nothing applies."""
    _decide(actor, request, AdminRequestStatus.REFUSED)
    request.password_hash = None  # the account will not be made: its initial password goes
    return request


def _apply(actor: Actor, request: AdminRequest) -> Outcome:
    kind = AdminRequestKind(request.kind)
    detail = _detail(request)
    if kind is AdminRequestKind.CREATE_USER:
        user = services.add_user(
            actor=actor,
            username=request.username or "",
            password_hash=request.password_hash or resets.NO_PASSWORD,
            role=Role(request.role or Role.AUDITOR),
            scopes=parse_scope(request.scope or ""),
            detail=detail,
        )
        request.user_id, request.password_hash = user.id, None  # the hash is the account's now
        db.session.flush()
        return Outcome(request=request, user=user)
    user = db.session.get_one(User, request.user_id)
    if kind is AdminRequestKind.CHANGE_USER:
        services.update_user(
            actor=actor,
            user=user,
            role=Role(request.role or user.role),
            scope=request.scope or "",
            active=bool(request.active),
            detail=detail,
        )
        return Outcome(request=request, user=user)
    if kind is AdminRequestKind.RESET_PASSWORD:
        return Outcome(
            request=request,
            user=user,
            reset_code=resets.reset_password(actor=actor, user=user, detail=detail),
        )
    resets.reset_second_factor(actor=actor, user=user, detail=detail)
    return Outcome(request=request, user=user)


# --- lists -----------------------------------------------------------------------------------


def _listing() -> Any:
    return select(AdminRequest).options(
        selectinload(AdminRequest.user),
        selectinload(AdminRequest.requested_by),
        selectinload(AdminRequest.decided_by),
        selectinload(AdminRequest.reviewed_by),
    )


def pending() -> list[AdminRequest]:
    """Requests waiting for a second administrator (not expired), the oldest first."""
    query = _listing().where(AdminRequest.status == _PENDING, AdminRequest.expires_at > utcnow())
    return list(db.session.scalars(query.order_by(AdminRequest.requested_at)))


def waiting_for(actor: Actor) -> int:
    """How many requests this administrator may decide: pending ones another administrator made."""
    return int(
        db.session.scalar(
            select(func.count(AdminRequest.id)).where(
                AdminRequest.status == _PENDING,
                AdminRequest.expires_at > utcnow(),
                AdminRequest.requested_by_id != actor.id,
            )
        )
        or 0
    )


def recent(*, limit: int = 50) -> list[AdminRequest]:
    """The latest requests whatever became of them (expired ones included), newest first."""
    query = _listing().where(AdminRequest.status != _ALONE)
    return list(db.session.scalars(query.order_by(AdminRequest.id.desc()).limit(limit)))


def acted_alone(*, unreviewed_only: bool = True) -> list[AdminRequest]:
    """Acts one administrator did alone (a one-admin office), for review, newest first."""
    query = _listing().where(AdminRequest.status == _ALONE)
    if unreviewed_only:
        query = query.where(AdminRequest.reviewed_at.is_(None))
    return list(db.session.scalars(query.order_by(AdminRequest.id.desc()).limit(500)))


def acknowledge(*, actor: Actor, request: AdminRequest) -> AdminRequest:
    """An auditor (or another administrator) has read a single-admin act: never its author. One
    conditional UPDATE, so two readers at once record one acknowledgement."""
    if Role(actor.role) not in (Role.AUDITOR, Role.ADMIN):
        raise NotAllowed(_l("Only an auditor or an administrator reviews what an administrator did alone."))
    if request.requested_by_id == actor.id:
        raise NotAllowed(_l("Someone else reviews what you did alone."))
    unread = (
        AdminRequest.id == request.id,
        AdminRequest.status == _ALONE,
        AdminRequest.reviewed_at.is_(None),
        AdminRequest.requested_by_id != actor.id,
    )
    marked = update(AdminRequest).where(*unread).values(reviewed_by_id=actor.id, reviewed_at=utcnow())
    result = cast(CursorResult[Any], db.session.execute(marked.execution_options(synchronize_session=False)))
    db.session.refresh(request)
    if result.rowcount != 1:
        raise Conflict(_l("Only an act done alone and not yet reviewed is acknowledged here."))
    audit.record("admin_request.reviewed", actor=actor, object_type="user", object_id=request.user_id)
    return request
