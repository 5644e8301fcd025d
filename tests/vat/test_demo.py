"""The demo data: four countries, realistic shares, and nothing that breaks the rules."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, not_, select

from seeding import demo_victims as demo
from seeding.demo import DEMO_USERS
from vat.auth import services as auth
from vat.db import db
from vat.victims import listing
from vat.victims.models import Victim


def test_demo_victims_cover_four_countries_and_a_third_get_nothing(ctx: Flask) -> None:
    for username, role, scope in DEMO_USERS:
        auth.create_user(
            actor=None, username=username, password="demo-" + "x7Qp2Lm9Zr4" * 2, role=role, scope=scope
        )
    assert demo.seed() == 40
    db.session.commit()
    countries = dict(
        db.session.execute(select(Victim.country_code, func.count()).group_by(Victim.country_code)).all()
    )
    assert set(countries) == {"CAF", "COD", "HTI", "SSD"}
    unassisted = db.session.scalar(select(func.count(Victim.id)).where(not_(listing.received_assistance())))
    assert 0.25 <= unassisted / 40 <= 0.5
