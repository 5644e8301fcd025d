"""One place that decides who may do what. Deny by default: an endpoint that declares no
permission is refused, and a test walks the URL map to keep every endpoint declared."""

from __future__ import annotations

import enum
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort, current_app, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import ColumnElement, Select, and_, false, or_, select, true

from vat.auth.actor import Actor
from vat.auth.models import BreakGlass, Role
from vat.auth.services import is_fresh
from vat.db import utcnow

F = TypeVar("F", bound=Callable[..., Any])


class Permission(enum.StrEnum):
    PUBLIC = "public"  # anyone, signed in or not (login page, static files, health)
    SIGNED_IN = "signed_in"  # any signed-in user (dashboard, own password, own second factor)
    VIEW_IDENTITY = "view_identity"
    EDIT_CASES = "edit_cases"
    VIEW_CASES = "view_cases"  # case codes and aggregates
    RECORD_LEDGER = "record_ledger"
    APPROVE_DISBURSEMENT = "approve_disbursement"
    READ_LEDGER = "read_ledger"
    READ_AUDIT = "read_audit"
    MANAGE_USERS = "manage_users"
    BREAK_GLASS = "break_glass"
    REVIEW_BREAK_GLASS = "review_break_glass"  # read each use's reason, acknowledge it
    EDIT_POLICY = "edit_policy"  # allegation clock rules and similar reference data
    REVIEW_ADMIN_ACTS = "review_admin_acts"  # read and acknowledge what one administrator did alone
    EDIT_FRAMEWORKS = "edit_frameworks"  # member states' paternity frameworks (no victim data)
    MANAGE_PROVIDERS = "manage_providers"  # the service-provider directory
    ERASE_IDENTITIES = "erase_identities"  # closed cases past retention: ask, or erase another's ask


_A, _S, _F, _U, _M = (
    Role.ADVOCATE,
    Role.SENIOR_ADVOCATE,
    Role.FUND_MANAGER,
    Role.AUDITOR,
    Role.ADMIN,
)

GRANTS: dict[Permission, frozenset[Role]] = {
    Permission.VIEW_IDENTITY: frozenset({_A, _S}),
    Permission.EDIT_CASES: frozenset({_A, _S}),
    Permission.VIEW_CASES: frozenset({_A, _S, _F, _U}),
    Permission.RECORD_LEDGER: frozenset({_F}),
    Permission.APPROVE_DISBURSEMENT: frozenset({_F}),
    Permission.READ_LEDGER: frozenset({_S, _F, _U}),
    Permission.READ_AUDIT: frozenset({_S, _F, _U, _M}),
    Permission.MANAGE_USERS: frozenset({_M}),
    Permission.BREAK_GLASS: frozenset({_S}),
    Permission.REVIEW_BREAK_GLASS: frozenset({_S, _U}),
    Permission.EDIT_POLICY: frozenset({_S}),
    Permission.REVIEW_ADMIN_ACTS: frozenset({_U, _M}),
    Permission.EDIT_FRAMEWORKS: frozenset({_S, _M}),
    Permission.MANAGE_PROVIDERS: frozenset({_S, _M}),
    Permission.ERASE_IDENTITIES: frozenset({_S}),
}

# What makes an account privileged: it sees identities, moves money or administers accounts.
# Creating or elevating such an account, widening its scope, and resetting its password or second
# factor take two administrators (vat.auth.admin_requests). Today every role but the auditor's.
PRIVILEGED_PERMISSIONS = (
    Permission.VIEW_IDENTITY,
    Permission.EDIT_CASES,
    Permission.BREAK_GLASS,
    Permission.RECORD_LEDGER,
    Permission.APPROVE_DISBURSEMENT,
    Permission.MANAGE_USERS,
)
PRIVILEGED_ROLES: frozenset[Role] = frozenset().union(*(GRANTS[p] for p in PRIVILEGED_PERMISSIONS))


def permissions_of(role: Role) -> frozenset[Permission]:
    return frozenset(permission for permission, roles in GRANTS.items() if Role(role) in roles)


# Roles whose view of victim data is limited to their scope (everyone else sees all or nothing).
SCOPED_ROLES = frozenset({_A, _S})


def can(user: Any, permission: Permission) -> bool:
    if permission is Permission.PUBLIC:
        return True
    if not getattr(user, "is_authenticated", False):
        return False
    if permission is Permission.SIGNED_IN:
        return True
    return Role(user.role) in GRANTS[permission]


def requires(permission: Permission) -> Callable[[F], F]:
    """Declare the permission an endpoint needs; the check itself runs in `enforce`."""

    def mark(view: F) -> F:
        view.vat_permission = permission  # type: ignore[attr-defined]
        return view

    return mark


public = requires(Permission.PUBLIC)
signed_in = requires(Permission.SIGNED_IN)


def declared_permission(app: Flask, endpoint: str | None) -> Permission | None:
    if endpoint is None:
        return None
    if endpoint == "static" or endpoint.endswith(".static"):
        return Permission.PUBLIC
    view = app.view_functions.get(endpoint)
    return getattr(view, "vat_permission", None)


def enforce() -> Any:
    """before_request: refuse undeclared endpoints, send strangers to login, check the role."""
    if request.endpoint is None:
        return None  # 404/405 answered by the router
    permission = declared_permission(current_app, request.endpoint)
    if permission is None:
        current_app.logger.error("endpoint %s declares no permission", request.endpoint)
        abort(403)
    if permission is Permission.PUBLIC:
        return None
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if not can(current_user, permission):
        abort(403)
    if current_user.needs_totp and not current_user.totp_secret:
        if request.endpoint not in ENROLMENT_ENDPOINTS:
            return redirect(url_for("auth.enrol_totp"))
    return None


# Where a user who must enrol a second factor may go before enrolling.
ENROLMENT_ENDPOINTS = frozenset({"auth.enrol_totp", "auth.confirm_totp", "auth.logout"})


def fresh_required(view: F) -> F:
    """Sensitive actions need a password (and code) entered within VAT_FRESH_MINUTES."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        row = g.get("user_session")
        if row is None or not is_fresh(row):
            flash(_("Confirm it is you to continue."), "info")
            return redirect(url_for("auth.reauthenticate", next=_after_confirming()))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _after_confirming() -> str | None:
    """Where to go once the sign-in is confirmed: back to this page, or, for a form sent with POST
    (a redirect cannot send it again), to the page the form names in its `back` field."""
    if request.method == "GET":
        return request.full_path.rstrip("?")
    return request.form.get("back")


def glass_granted(user: Actor, record_type: str) -> Select[Any]:
    """The ids of the records of `record_type` this user opened by breaking the glass, unexpired.

    A Core select, not an ORM one, so that one condition may serve several statements: compiling
    an ORM statement set the ORM's compile options on an ORM subquery inside it, which changed the
    cache key of the next statement sharing it, and that one was compiled again on every view."""
    grants = BreakGlass.__table__.c
    return select(grants.record_id).where(
        grants.user_id == user.id,
        grants.record_type == record_type,
        grants.expires_at > utcnow(),
    )


def reaches_everywhere(user: Actor) -> bool:
    """Whether the user's reach is every victim of every country (fund managers and auditors)."""
    return Role(user.role) in (Role.FUND_MANAGER, Role.AUDITOR)


def scope_filter(
    user: Actor,
    country_column: Any,
    mission_column: Any,
    *,
    record_type: str | None = None,
    id_column: Any = None,
) -> ColumnElement[bool]:
    """The SQL condition that keeps a query on victim data inside the user's scope.

    With `record_type` and `id_column`, records a senior advocate opened by breaking the glass
    (and whose grant has not expired) are inside too.
    """
    role = Role(user.role)
    if role not in SCOPED_ROLES:
        return true() if reaches_everywhere(user) else false()
    clauses: list[ColumnElement[bool]] = []
    if record_type is not None and id_column is not None and role is Role.SENIOR_ADVOCATE:
        clauses.append(id_column.in_(glass_granted(user, record_type)))
    for scope in user.scopes:
        if scope.mission:
            clauses.append(and_(country_column == scope.country_code, mission_column == scope.mission))
        else:
            clauses.append(country_column == scope.country_code)
    return or_(*clauses) if clauses else false()


def in_scope(user: Actor, country_code: str, mission: str | None) -> bool:
    """The same rule as `scope_filter`, for one record already loaded."""
    role = Role(user.role)
    if role not in SCOPED_ROLES:
        return reaches_everywhere(user)
    return any(
        s.country_code == country_code and (s.mission is None or s.mission == mission) for s in user.scopes
    )
