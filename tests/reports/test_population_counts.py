"""The query-set-size control reads its victims' cube off the support counts (issue 14): for every
viewer and filter it refuses exactly what the former pass over every victim in reach refused,
after victims are registered, move between categories and are opened by breaking the glass."""

from __future__ import annotations

from datetime import date
from itertools import product
from typing import Any

from sqlalchemy import case, func, select

from vat.auth.models import Role, User
from vat.db import db
from vat.reports.populations import filter_setting, too_few_to_show_for, victim_cube
from vat.reports.scope import VictimFilters, sees_rows, threshold, victim_conditions
from vat.reports.sql import year_of
from vat.reports.suppression import Setting, too_few_to_show
from vat.victims import identity
from vat.victims.models import Victim

FILTERS = [
    VictimFilters(country_code=country, mission=mission, year=year, sex=sex, minor=minor)
    for country, mission, year, sex, minor in product(
        ("", "CAF", "COD"), ("", "MINUSCA"), (None, 2020, 2021), ("", "female", "male"), (None, True, False)
    )
]


def scanned_cube(user: Any) -> dict[Setting, int]:
    """The former answer, kept as the reference: every victim in reach, scanned and grouped."""
    minor = case((Victim.age_group == "minor", 1), (Victim.age_group.is_not(None), 0), else_=None)
    columns = [Victim.country_code, Victim.mission, year_of(Victim.registered_on), Victim.sex, minor]
    conditions = victim_conditions(user, VictimFilters(), consented_only=False)
    rows = db.session.execute(select(*columns, func.count()).where(*conditions).group_by(*columns))
    return {
        (country, mission, int(year), sex, None if flag is None else int(flag)): int(n)
        for country, mission, year, sex, flag, n in rows
    }


def scanned_refusal(user: Any, filters: VictimFilters) -> bool:
    setting = filter_setting(filters)
    if sees_rows(user) or all(value is None for value in setting):
        return False
    return too_few_to_show(scanned_cube(user), setting, threshold())


def _change_victims(senior_id: int, glass_opener_id: int) -> None:
    """Victims registered, moved between places and categories, and one opened by the glass."""
    senior = db.session.get_one(User, senior_id)
    registered = [
        identity.register_victim(
            actor=senior, country_code=country, mission=mission, sex=sex, age_group=age, registered_on=on
        ).case_code
        for country, mission, sex, age, on in (
            ("COD", None, "male", "minor", date(2021, 3, 1)),
            ("COD", None, "female", "adult", date(2020, 7, 1)),
            ("CAF", "MINUSCA", "female", "minor", date(2021, 4, 1)),
            ("CAF", None, "unknown", "unknown", date(2021, 5, 1)),
            ("COD", "MONUSCO", "male", "adult", date(2020, 8, 1)),
        )
    ]
    moved = db.session.scalar(select(Victim).where(Victim.case_code == "CAR-2021-0005"))
    identity.update_victim(actor=senior, victim=moved, country_code="COD", mission=None, sex="male")
    grown = db.session.scalar(select(Victim).where(Victim.case_code == "CAR-2020-0001"))
    identity.update_victim(
        actor=senior, victim=grown, country_code="CAF", mission="MINUSCA", age_group="adult"
    )
    # One outside the opener's country, one in it but in no mission (outside a mission's scope).
    for case_code in (moved.case_code, registered[3]):
        identity.break_glass_victim(
            actor=db.session.get_one(User, glass_opener_id),
            case_code=case_code,
            reason="The victim came to the office in Bangui today",
        )
    db.session.commit()


def test_the_cube_and_every_refusal_match_the_pass_over_the_victims(app, make_user, world):
    senior = make_user(Role.SENIOR_ADVOCATE, "CAF, COD")
    opener = make_user(Role.SENIOR_ADVOCATE, "CAF/MINUSCA")
    viewers = [
        make_user(Role.AUDITOR, ""),
        make_user(Role.FUND_MANAGER, ""),
        make_user(Role.ADMIN, ""),
        make_user(Role.ADVOCATE, "COD/MONUSCO"),
        opener,
    ]
    with app.app_context():
        refused = {viewer.role: [] for viewer in viewers}
        for stage in ("before", "after"):
            if stage == "after":
                _change_victims(senior.id, opener.id)
            for viewer in viewers:
                user = db.session.get_one(User, viewer.id)
                assert victim_cube(user) == scanned_cube(user), (stage, viewer.role)
                for filters in FILTERS:
                    decision = too_few_to_show_for(user, filters, "victims")
                    assert decision == scanned_refusal(user, filters), (stage, viewer.role, filters)
                    refused[viewer.role].append(decision)
        # Not vacuous: the victims' population answered both ways for those who see aggregates.
        assert set(refused[Role.AUDITOR]) == {True, False}
        total = db.session.scalar(select(func.count()).select_from(Victim))
        auditor = db.session.get_one(User, viewers[0].id)
        assert sum(victim_cube(auditor).values()) == total == 14
        opener_user = db.session.get_one(User, opener.id)
        opened = victim_cube(opener_user)  # the two opened by the glass are in the opener's reach
        assert ("COD", None, 2021, "male", 0) in opened and ("CAF", None, 2021, "unknown", 0) in opened
