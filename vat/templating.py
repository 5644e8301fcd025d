"""What every template may use: the navigation for the user's role, a permission test, and
numbers, amounts and dates formatted for the reader's language."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from babel import Locale
from babel.dates import format_skeleton
from babel.numbers import parse_pattern
from flask import Flask, current_app, g
from flask_babel import format_date, format_datetime, format_decimal, get_locale, get_timezone
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from vat import work_queues
from vat.auth import services as auth_services
from vat.auth.models import (
    IDENTITY_CHECK_LABELS,
    REQUEST_KIND_LABELS,
    REQUEST_STATUS_LABELS,
    ROLE_LABELS,
    AdminRequestKind,
    AdminRequestStatus,
    IdentityCheck,
    Role,
)
from vat.auth.policy import Permission, can
from vat.money import exponent, shown

# (endpoint, label, permission) in display order; a link shows only to those who may follow it.
NAVIGATION: list[tuple[str, Any, Permission]] = [
    ("main.dashboard", _l("Dashboard"), Permission.SIGNED_IN),
    ("victims.attention", _l("Needs attention"), Permission.VIEW_IDENTITY),
    ("victims.index", _l("Victims"), Permission.VIEW_IDENTITY),
    ("allegations.index", _l("Allegations"), Permission.VIEW_IDENTITY),
    ("claims.index", _l("Claims"), Permission.VIEW_CASES),
    ("providers.directory", _l("Providers"), Permission.SIGNED_IN),
    ("ledger.index", _l("Trust fund"), Permission.READ_LEDGER),
    ("reports.index", _l("Reports"), Permission.VIEW_CASES),
    ("admin.users", _l("Users"), Permission.MANAGE_USERS),
    ("admin.audit_log", _l("Audit log"), Permission.READ_AUDIT),
]


def number(value: int | Decimal | None) -> str:
    return "—" if value is None else format_decimal(value)


def amount(value: Decimal | None) -> str:
    """An amount with two decimals, grouped the reader's way (1,234.50 / 1 234,50 / 1,234.50)."""
    return "—" if value is None else format_decimal(value, format="#,##0.00")


def money(value: Decimal | str | None) -> str:
    """An amount in its own currency's precision (USD 1,234.50; JPY 1,234), or an exchange rate with
    all its decimals, grouped the reader's way (`vat.money.shown`)."""
    return "—" if value is None else shown(value)


def in_currency(value: Decimal | None, currency_code: str) -> str:
    """An amount with its currency the reader's way, in the currency's ISO 4217 decimals
    (FCFA325,000 / 325 000 FCFA; $1,234.50 / 1 234,50 $US), never rounded to Babel's own digits."""
    if value is None:
        return "—"
    locale = get_locale() or Locale.parse("en")
    pattern = copy.copy(parse_pattern(locale.currency_formats["standard"]))
    places = exponent(currency_code)
    pattern.frac_prec = (places, places)
    return pattern.apply(value, locale, currency=currency_code, currency_digits=False)


def cents(minor_units: int | None) -> str:
    """US dollars held as integer cents, shown without ever becoming a float."""
    return "—" if minor_units is None else amount(Decimal(minor_units).scaleb(-2))


def day(value: date | datetime | None) -> str:
    """A date (Mar 1, 2026 / 1 mars 2026 / 2026年3月1日) the reader's way; a moment as `when`.

    Pages only: form inputs and exports keep ISO 8601."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return when(value)
    return format_date(value, "medium")


def when(value: datetime | None) -> str:
    """A moment in the reader's time zone, the reader's way, with the zone's label
    (Dec 5, 2026, 3:04:05 PM CET / 5 déc. 2026, 15:04:05 CET). Stored times are UTC."""
    if value is None:
        return "—"
    local = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(get_timezone())
    return f"{format_datetime(local, 'medium')} {local.tzname()}"


def month(value: date | None) -> str:
    """A month of a year (Mar 2026 / mars 2026 / 2026年3月)."""
    return "—" if value is None else format_skeleton("yMMM", value, locale=get_locale())


def idle_warning() -> dict[str, int] | None:
    """What the warning before the idle sign-out (static/idle-warning.js) needs on a signed-in
    page: the seconds the session has left and how long before its end to warn; else None."""
    row = g.get("user_session")
    if row is None:
        return None
    return {
        "seconds_left": auth_services.seconds_left(row),
        "warning": int(current_app.config["VAT_SESSION_WARNING_SECONDS"]),
    }


def _work_waiting() -> list[Any]:
    """The queues waiting for the signed-in user, counted once per request (the navigation and
    the dashboard both show them)."""
    if "work_waiting" not in g:
        g.work_waiting = work_queues.waiting(current_user)
    return list(g.work_waiting)


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters.update(
        number=number, amount=amount, money=money, cents=cents, day=day, when=when, month=month
    )
    app.jinja_env.filters["in_currency"] = in_currency

    @app.context_processor
    def inject() -> dict[str, Any]:
        links = [(e, label) for e, label, p in NAVIGATION if can(current_user, p)]
        return {
            "navigation": links,
            "can": lambda name: can(current_user, Permission(name)),
            "role_label": lambda role: ROLE_LABELS[Role(role)],
            "request_kind_label": lambda kind: REQUEST_KIND_LABELS[AdminRequestKind(kind)],
            "identity_check_label": lambda how: IDENTITY_CHECK_LABELS[IdentityCheck(how)],
            "identity_checks": list(IDENTITY_CHECK_LABELS.items()),
            "request_status_label": lambda status: REQUEST_STATUS_LABELS[AdminRequestStatus(status)],
            "current_locale": lambda: str(get_locale()),
            "idle_warning": idle_warning,
            "work_waiting": _work_waiting,
        }
