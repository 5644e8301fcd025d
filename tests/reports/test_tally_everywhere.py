"""The service tally's detail rows with every place added up (country EVERYWHERE) answer a fund
manager's or an auditor's filter on the year registered, sex or minor exactly as the per-place
rows do, and are never counted twice (issue 14)."""

from __future__ import annotations

from collections import Counter
from datetime import date
from itertools import product

from sqlalchemy import select

from tests.vat.conftest import assist, consent
from vat.auth.models import Role, User
from vat.db import db
from vat.reports.scope import VictimFilters
from vat.reports.tallies import tallied
from vat.victims.models import TALLY_KEY, Victim
from vat.victims.service_tally import EVERYWHERE, counted

FILTERS = [
    VictimFilters(country_code=country, year=year, sex=sex, minor=minor)
    for country, year, sex, minor in product(("", "CAF"), (None, 2021), ("", "female"), (None, True, False))
]
READS = [
    ("type", ("value", "status", "wait", "days")),
    ("referral", ("value", "provider_id", "service_type", "days")),
    ("gap", ("country_code", "mission", "provider_id", "service_type")),
    ("year", ("country_code", "status", "wait", "days")),
]


def per_place(filters: VictimFilters, facet: str, by: tuple[str, ...]) -> Counter:
    """What the services say for a viewer who reaches every place, from the per-place rows."""
    wanted = {"facet": facet, "detail": bool(filters.year or filters.sex or filters.minor is not None)}
    if filters.country_code:
        wanted["country_code"] = filters.country_code
    if filters.year:
        wanted["registered_year"] = filters.year
    if filters.sex:
        wanted["sex"] = filters.sex
    if filters.minor is not None:
        wanted["minor"] = filters.minor
    found: Counter = Counter()
    for key, n in counted().items():
        parts = dict(zip(TALLY_KEY, key, strict=True))
        if parts["country_code"] != EVERYWHERE and all(parts[k] == v for k, v in wanted.items()):
            found[tuple(parts[name] for name in by)] += n
    return +found


def test_every_filter_reads_the_same_counts(app, make_user, world):
    viewers = [make_user(Role.FUND_MANAGER, ""), make_user(Role.AUDITOR, "")]
    advocate = make_user(Role.SENIOR_ADVOCATE, "CAF")
    with app.app_context():
        actor = db.session.get_one(User, advocate.id)
        victim = db.session.scalar(select(Victim).where(Victim.case_code == "CAR-2021-0004"))
        consent(actor, victim, "services", given_on=date(2021, 1, 10))
        assist(actor, victim, "in_progress", referral_date=date(2021, 2, 1), start_date=date(2021, 2, 4))
        db.session.commit()
        assert any(key[TALLY_KEY.index("country_code")] == EVERYWHERE for key in counted())
        for viewer in viewers:
            user = db.session.get_one(User, viewer.id)
            for filters, (facet, by) in product(FILTERS, READS):
                assert tallied(user, filters, facet, by) == per_place(filters, facet, by), (filters, facet)
