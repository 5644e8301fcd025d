"""Demo service providers: some of the providers the demo's referrals name join the directory
(their referrals are linked); the others stay typed, to be promoted from the directory page."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from vat.auth.models import Role, User
from vat.db import db
from vat.victims import providers

FIELDS = ("country_code", "name", "location", "service_types", "languages", "availability")
DEMO_PROVIDERS = [
    ("CAF", "Hôpital communautaire", "Bangui", ["medical"], "Sango, French", "available"),
    ("CAF", "Association des femmes juristes", "Bangui", ["legal"], "Sango, French", "limited"),
    (
        "CAF",
        "IRC",
        "Bambari",
        ["psychosocial", "material", "livelihood"],
        "Sango, French, English",
        "available",
    ),
    ("COD", "HEAL Africa", "Goma", ["medical", "psychosocial"], "Swahili, French", "available"),
    ("COD", "Panzi Foundation", "Bukavu", ["medical", "legal", "psychosocial"], "Swahili, French", "limited"),
    ("HTI", "GHESKIO", "Port-au-Prince", ["medical"], "Haitian Creole, French", "available"),
    (
        "SSD",
        "Nonviolent Peaceforce",
        "Juba",
        ["protection", "psychosocial"],
        "Juba Arabic, English",
        "not_available",
    ),
]


def seed(*, today: date | None = None) -> int:
    """Add the demo providers as the administrator; returns how many."""
    today = today or date.today()
    admin = select(User).where(User.role == Role.ADMIN).order_by(User.id).limit(1)
    actor = db.session.scalars(admin).one()
    for number, row in enumerate(DEMO_PROVIDERS):
        values = dict(zip(FIELDS, row, strict=True))
        contact = f"+000 {number:03d} 0000 · contact@{str(values['name']).split()[0].lower()}.example"
        availability_on = today - timedelta(days=7 * number)
        providers.create_provider(actor=actor, contact=contact, availability_on=availability_on, **values)
    return len(DEMO_PROVIDERS)
