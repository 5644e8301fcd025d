"""What the tests of the counts kept by cell of the support counts (vat/victims/need_counts.py,
feedback_counts.py) share: the victims written and the filters read, the check that every viewer
reads what was computed before the counts were kept, and the checks each kind passes in the same
way (tests/vat/test_need_counts.py, test_feedback_counts.py; a senior advocate breaking the glass,
verify and rebuild: test_cell_counts.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from types import ModuleType
from typing import Any

from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from tests.vat.conftest import VIEWERS, change_at_once, kept_rows, register
from vat import figures
from vat.auth.models import Role, User
from vat.db import db
from vat.reports.scope import VictimFilters
from vat.victims import identity
from vat.victims.models import Victim

# The victims the tests register, in turn (country, mission, sex, age group), and the filters the
# figures are read with, for every viewer.
CELL_PEOPLE = [
    ("CAF", "MINUSCA", "female", "adult"),
    ("CAF", None, "male", "minor"),
    ("COD", "MONUSCO", "female", "minor"),
    ("CAF", "MINUSCA", "unknown", "unknown"),
]
CELL_FILTERS = [
    VictimFilters(),
    VictimFilters(country_code="CAF"),
    VictimFilters(mission="MINUSCA"),
    VictimFilters(sex="female"),
    VictimFilters(minor=True),
    VictimFilters(year=2025),
]


def register_people(actor: User, label: str, count: int = 12) -> Iterator[Victim]:
    """`count` victims, each the next of CELL_PEOPLE, registered in 2024 or 2025."""
    for n in range(count):
        country, mission, sex, age = CELL_PEOPLE[n % len(CELL_PEOPLE)]
        yield register(
            actor,
            name=f"{label} {n}",
            country_code=country,
            mission=mission,
            sex=sex,
            age_group=age,
            registered_on=date(2024 + n % 2, 3, 1 + n),
        )


def of_one_cell(actor: User, n: int) -> Victim:
    """The `n`th victim of one cell (a CAF, MINUSCA adult woman registered on 1 January 2025), as
    change_at_once makes them."""
    return register(actor, name=f"Race {n}", sex="female", age_group="adult", registered_on=date(2025, 1, 1))


@dataclass(frozen=True)
class CellFigure:
    """One kind of count kept by cell and the figure a viewer reads from it."""

    label: str  # the victims' names: "<label> 0", "<label> 1"…
    counts: ModuleType  # need_counts or feedback_counts: its NAME, its `differences()`
    shown: Callable[[User, VictimFilters], Any]  # the figure a viewer reads, with filters
    before: Callable[[User, VictimFilters], Any]  # the same, as computed before the counts were kept
    total: Callable[[Any], int | None]  # a figure's grand total (None when hidden)
    record: Callable[[User, Victim, int], object]  # what the test writes for the nth victim
    rows_of: Callable[[Victim], int]  # how many of a victim's records the figure counts

    def written(self, app: Flask, make_user: Callable[..., Any]) -> tuple[User, list[User]]:
        """A senior advocate for CAF and COD who records and the VIEWERS, loaded in this context;
        twelve victims of register_people, each given what `record` writes, committed. Small
        cells are hidden below 5."""
        app.config["VAT_SUPPRESSION_THRESHOLD"] = 5
        writer = make_user(Role.SENIOR_ADVOCATE, "CAF, COD").id
        viewer_ids = [make_user(role, scope).id for role, scope in VIEWERS]
        actor, viewers = db.session.get_one(User, writer), [db.session.get_one(User, i) for i in viewer_ids]
        for n, victim in enumerate(register_people(actor, self.label)):
            self.record(actor, victim, n)
        db.session.commit()
        return actor, viewers

    def agree(self, viewers: list[User]) -> int:
        """The counts agree with their records, and each viewer, with each of CELL_FILTERS, is
        shown what was computed before; the grand totals shown, added up."""
        assert self.counts.differences() == []
        seen = 0
        for user in viewers:
            for filters in CELL_FILTERS:
                figure = self.shown(user, filters)
                assert figure == self.before(user, filters), (user.role, user.scope_label, filters)
                seen += self.total(figure) or 0
        return seen

    def glass_broken(self, make_user: Callable[..., Any]) -> None:
        """A senior advocate of CAF/MINUSCA breaks the glass on the first CAF victim without a
        mission, outside their scope: the figure they are shown grows by that victim's records,
        as computed before."""
        senior = db.session.get_one(User, make_user(Role.SENIOR_ADVOCATE, "CAF/MINUSCA").id)
        outside = db.session.scalars(
            select(Victim).where(Victim.country_code == "CAF", Victim.mission.is_(None)).order_by(Victim.id)
        ).first()
        assert outside is not None and self.rows_of(outside)
        before = self.total(self.shown(senior, VictimFilters())) or 0
        identity.break_glass_victim(actor=senior, case_code=outside.case_code, reason="urgent medical care")
        db.session.commit()
        assert self.total(self.shown(senior, VictimFilters())) == before + self.rows_of(outside)
        self.agree([senior])

    def verified_and_rebuilt(self, alteration: str, word: str) -> None:
        """`alteration` (SQL) changes the kept counts behind the app: `figures verify` names each
        changed row (by `word`, a value of its key), and `rebuild` mends them."""
        db.session.execute(text(alteration))
        name = self.counts.NAME
        found = [line for line in figures.differences() if line.startswith(f"{name}: ")]
        assert found and all(f" {word} " in line for line in found)
        assert figures.summaries()[name].rebuild() > 0
        assert figures.differences() == []

    def changed_at_once(
        self, app: Flask, make_user: Callable[..., Any], *steps: Callable[[User, Victim], object], read: str
    ) -> list[Any]:
        """Eight victims of one cell (`of_one_cell`), each changed by `steps` in a thread of its own,
        all at once (`change_at_once`), by a CAF advocate: the rows `read` (SQL) finds in the kept
        counts, once every count agrees with its records."""
        change_at_once(app, make_user(Role.ADVOCATE, "CAF").id, of_one_cell, *steps)
        return kept_rows(app, self.counts.differences, read)

    def refilled(self, viewers: list[User], revision: str) -> None:
        """Down to `revision` (before the counts' migration) and up again: the counts it fills
        agree with their records, and each viewer is shown, unfiltered, what they were before."""
        seen = [self.shown(user, VictimFilters()) for user in viewers]
        db.session.remove()
        downgrade(revision=revision)
        upgrade(revision="heads")
        assert self.counts.differences() == []
        assert [self.shown(user, VictimFilters()) for user in viewers] == seen
