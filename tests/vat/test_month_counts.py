"""Allegations counted by place and month received (vat/allegations/month_counts.py), read by the
query-set-size control of the statistics page and the UN report: after each kind of change — a new
allegation, one received on another day, one moved, an import — they equal a recount of every
allegation, and a fund manager's and an auditor's cube equals one counted from the rows;
`figures verify` names a changed row and `rebuild` mends it."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select, text

from tests.vat.step_count_checks import import_allegations, update
from tests.vat.test_clock_counts import OVERDUE, _create  # noqa: F401 (OVERDUE: what `built` writes)
from vat import figures
from vat.allegations import month_counts
from vat.allegations.models import Allegation
from vat.auth.models import Role, User
from vat.db import db
from vat.reports.statistics import period_cube

pytestmark = pytest.mark.clock("2026-06-30T12:00:00Z")


def recounted() -> dict[Any, int]:
    """The cube as the allegations' rows give it, counted here in Python."""
    found: Counter[Any] = Counter()
    for allegation in db.session.scalars(select(Allegation)):
        day = allegation.received_on
        found[
            (
                allegation.country_code,
                allegation.mission,
                day.year if day else None,
                (day.month + 2) // 3 if day else None,
            )
        ] += 1
    return dict(found)


def agree(users: list[User]) -> None:
    assert month_counts.differences() == []
    for user in users:
        if Role(user.role) in (Role.FUND_MANAGER, Role.AUDITOR):
            assert period_cube(user, "allegations") == recounted(), user.role


def test_each_kind_of_change_keeps_the_counts_exact(built: tuple[User, list[User]]) -> None:
    actor, users = built
    agree(users)
    found = list(db.session.scalars(select(Allegation).order_by(Allegation.id)))
    update(actor, found[0], received_on=date(2025, 1, 15))  # earlier: another month, year and quarter
    update(actor, found[1], country_code="COD", mission="MONUSCO")
    update(actor, found[2], mission=None)
    db.session.commit()
    agree(users)
    _create(actor, 50, random.Random(5), received_on=date(2026, 4, 1))
    import_allegations(
        actor,
        b"reference,country_code,mission,received_on,historical\n"
        b"0200/15,COD,MONUSCO,2015-03-02,oui\n"
        b"0201/26,CAF,,2026-06-25,\n",
    )
    agree(users)


def test_verify_names_a_changed_row_and_rebuild_mends_it(built: tuple[User, list[User]]) -> None:
    _actor, users = built
    db.session.rollback()  # the altering happens behind the app, on a connection of its own
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE vat_allegation_month_count SET allegations = allegations + 2"))
    named = month_counts.differences()
    assert named and all(line.startswith("allegation month counts: ") for line in named)
    assert any("should be" in line for line in figures.differences())
    assert month_counts.rebuild() > 0
    db.session.commit()
    agree(users)
