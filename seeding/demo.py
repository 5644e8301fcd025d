"""Demo data for `flask seed-demo`: invented people only, written through the services."""

from __future__ import annotations

import secrets
from datetime import date, timedelta

from sqlalchemy import func, select

from seeding import demo_providers, demo_victims
from seeding.demo_claims import seed_claims
from seeding.demo_ledger import RECIPIENTS_REGISTERED_BEFORE, seed_ledger_demo, withheld_allegations
from vat.auth import services as auth
from vat.auth.models import Role, User
from vat.inputs import today as local_today
from vat.victims import identity
from vat.victims.models import Victim

DEMO_USERS = [
    ("admin", Role.ADMIN, ""),
    ("amina.advocate", Role.ADVOCATE, "CAF"),
    ("jean.advocate", Role.ADVOCATE, "COD, HTI"),
    ("grace.senior", Role.SENIOR_ADVOCATE, "CAF, COD, HTI, SSD"),
    ("omar.fund", Role.FUND_MANAGER, ""),
    ("li.fund", Role.FUND_MANAGER, ""),
    ("sofia.auditor", Role.AUDITOR, ""),
    # Liberia's senior advocate: her one victim is outside every other demo user's scope, so
    # grace.senior can try breaking the glass on it.
    ("ruth.senior", Role.SENIOR_ADVOCATE, "LBR"),
]


def seed_demo(*, today: date | None = None) -> list[tuple[str, str, str]] | None:
    """Create the demo users and data, dated up to `today` (by default the installation's); None
    if the database already has users (idempotent)."""
    if db_has_users():
        return None
    today = today or local_today()
    created = []
    for username, role, scope in DEMO_USERS:
        password = "demo-" + secrets.token_urlsafe(12)
        auth.create_user(actor=None, username=username, password=password, role=role, scope=scope)
        created.append((username, role.value, password))
    demo_victims.seed(today=today)
    seed_out_of_scope(today)
    demo_providers.seed()
    seed_claims(today)
    withheld = withheld_allegations(today)
    demo_victims.seed_withheld_allegations((ref, country, on) for ref, country, _, on, *_ in withheld)
    seed_ledger_demo(recipients=direct_support_recipients(today), today=today)
    return created


def seed_out_of_scope(today: date) -> Victim:
    """One victim in Liberia, registered by Liberia's senior advocate: outside the scope of the
    other demo users (break-glass can be tried on it)."""
    from vat.db import db

    actor = db.session.scalars(select(User).where(User.username == "ruth.senior")).one()
    return identity.register_victim(
        actor=actor,
        country_code="LBR",
        mission="UNMIL",
        registered_on=today - timedelta(days=400),
        sex="female",
        age_group="adult",
        name="Comfort Kollie",
    )


def reset_demo_passwords() -> list[tuple[str, str, str]]:
    """A new random password for each demo user there is (development's `flask demo-users
    --reset`); audited, and every session of theirs ended."""
    from vat import audit
    from vat.db import db

    renewed = []
    for username, role, _scope in DEMO_USERS:
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            continue
        password = "demo-" + secrets.token_urlsafe(12)
        user.password_hash = auth.hash_password(password)
        auth.end_all_sessions(user)
        audit.record("auth.demo_password_reset", actor=None, object_type="user", object_id=user.id)
        renewed.append((username, role.value, password))
    return renewed


def direct_support_recipients(today: date) -> list[tuple[str, str]]:
    """Demo victims the trust fund paid directly: a few in CAR and the DRC, registered before the
    first payment."""
    from vat.db import db

    rows = db.session.execute(
        select(Victim.case_code, Victim.country_code)
        .where(
            Victim.country_code.in_(["CAF", "COD"]),
            Victim.registered_on <= today - RECIPIENTS_REGISTERED_BEFORE,
        )
        .order_by(Victim.country_code, Victim.id)
    ).all()
    by_country = {country: [(r[0], r[1]) for r in rows if r[1] == country] for country in ("CAF", "COD")}
    return [*by_country["CAF"][:3], *by_country["COD"][:2]]


def db_has_users() -> bool:
    from vat.db import db

    return bool(db.session.scalar(select(func.count(User.id))))
