"""What every template may use: the navigation for the user's role and a permission test."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import get_locale
from flask_login import current_user

from vat.auth.models import ROLE_LABELS, Role
from vat.auth.policy import Permission, can

# (endpoint, label, permission) in display order; a link shows only to those who may follow it.
NAVIGATION: list[tuple[str, str, Permission]] = [
    ("main.dashboard", "Dashboard", Permission.SIGNED_IN),
    ("victims.attention", "Needs attention", Permission.VIEW_IDENTITY),
    ("victims.index", "Victims", Permission.VIEW_IDENTITY),
    ("allegations.index", "Allegations", Permission.VIEW_IDENTITY),
    ("claims.index", "Claims", Permission.VIEW_CASES),
    ("ledger.index", "Trust fund", Permission.READ_LEDGER),
    ("reports.index", "Reports", Permission.VIEW_CASES),
    ("admin.users", "Users", Permission.MANAGE_USERS),
    ("admin.audit_log", "Audit log", Permission.READ_AUDIT),
]


def register_template_helpers(app: Flask) -> None:
    @app.context_processor
    def inject() -> dict[str, Any]:
        links = [(e, label) for e, label, p in NAVIGATION if can(current_user, p)]
        return {
            "navigation": links,
            "can": lambda name: can(current_user, Permission(name)),
            "role_label": lambda role: ROLE_LABELS[Role(role)],
            "current_locale": lambda: str(get_locale()),
        }
