"""Issue 19, item 7: the demo demonstrates. Its data are dated relative to the day it is seeded
(here a frozen "today"): exchange rates up to that month, so a booking in a foreign currency that
day works; recent bookings; projects both on and behind schedule; direct support paid after its
recipients registered; and one victim outside every other demo user's scope, for break-glass."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from ledger.models import DirectSupport, Donor, Entry, ExchangeRate, Project
from ledger.reports.project_figures import behind_schedule
from ledger.services import contributions
from seeding.demo import seed_demo
from vat.auth.models import User
from vat.db import db
from vat.victims import identity
from vat.victims.models import Victim

TODAY = date(2026, 3, 18)


def user(name: str) -> User:
    return db.session.scalars(select(User).where(User.username == name)).one()


def test_the_demo_is_dated_relative_to_the_day_it_is_seeded(app):
    """One seeding (about 30 s) for every check."""
    with app.app_context():
        assert seed_demo(today=TODAY) is not None
        db.session.commit()
        ends_that_day()
        pays_direct_support_after_registration()
        lets_a_senior_advocate_break_the_glass()


def ends_that_day() -> None:
    assert {
        r.month for r in db.session.scalars(select(ExchangeRate).where(ExchangeRate.currency == "EUR"))
    } >= {date(2026, 3, 1)}
    germany = db.session.scalars(select(Donor).where(Donor.country_code == "DEU")).one()
    receipt = contributions.record_receipt(
        actor=user("omar.fund"),
        key="demo-today-eur",
        donor=germany,
        amount=Decimal("1000"),
        currency="EUR",
        received_on=TODAY,
        bank_reference="BNK-TODAY",
    )
    assert receipt.entry_id is not None
    latest = db.session.scalar(select(func.max(Entry.entry_date)).where(Entry.id != receipt.entry_id))
    assert TODAY - timedelta(days=31) <= latest <= TODAY
    behind = [behind_schedule(p, TODAY) for p in db.session.scalars(select(Project))]
    assert 0 < behind.count(True) < behind.count(False) + behind.count(True)
    assert behind.count(False) >= 5  # completed ones and some under way on time


def pays_direct_support_after_registration() -> None:
    paid = db.session.execute(
        select(DirectSupport.paid_on, Victim.registered_on).join(
            Victim, Victim.case_code == DirectSupport.case_code
        )
    ).all()
    assert len(paid) == 5
    assert all(registered < on <= TODAY for on, registered in paid)
    assert max(on for on, _ in paid) >= TODAY - timedelta(days=31)  # recent


def lets_a_senior_advocate_break_the_glass() -> None:
    liberian = db.session.scalars(select(Victim).where(Victim.country_code == "LBR")).one()
    opened = identity.break_glass_victim(
        actor=user("grace.senior"), case_code=liberian.case_code, reason="Demonstrating break-glass"
    )
    assert opened.id == liberian.id
