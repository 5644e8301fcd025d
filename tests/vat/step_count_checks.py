"""What the tests of the allegation step counts (vat/allegations/step_counts.py: the clock's and the
accountability cycle's) share: the day and places the allegations are written in, the viewers who
read the dashboard, an allegation changed or imported through the services, and the checks each
kind of kept count passes in the same way (tests/vat/test_clock_counts.py, test_cycle_counts.py;
the month counts reuse the clock's allegations)."""

from __future__ import annotations

import io
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from types import ModuleType
from typing import Any

import time_machine
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from tests.vat.conftest import VIEWERS, change_at_once, kept_rows
from vat import figures
from vat.allegations import services as allegations
from vat.allegations.models import Allegation, Step
from vat.auth.break_glass import break_glass
from vat.auth.models import Role, User
from vat.auth.policy import in_scope
from vat.db import db
from vat.reports.scope import sees_rows
from vat.reports.summary import summary
from vat.victims import importer

ON = date(2026, 6, 30)
PLACES = [("CAF", "MINUSCA"), ("CAF", None), ("COD", "MONUSCO")]
FIELDS = (
    "country_code mission entity_category personnel_category perpetrator_country perpetrators type"
    " sub_type urgency investigating_entity investigation_status outcome"
).split()


def update(actor: User, allegation: Allegation, **changes: Any) -> None:
    """The allegation saved through the service with `changes`, every other field as it was."""
    current = {name: getattr(allegation, name) for name in FIELDS}
    current |= {f"{step.value}_on": allegation.step_date(step) for step in Step}
    allegations.update_allegation(actor=actor, allegation=allegation, **(current | changes))


def moved(actor: User, three: Sequence[Allegation]) -> None:
    """Three allegations moved, committed: to another country, out of a mission, into one."""
    update(actor, three[0], country_code="COD", mission="MONUSCO")
    update(actor, three[1], mission=None)
    update(actor, three[2], mission="MINUSCA")
    db.session.commit()


def import_allegations(actor: User, csv: bytes) -> None:
    """The allegations of `csv` imported through the importer, and committed."""
    report = importer.import_file(actor=actor, filename="a.csv", stream=io.BytesIO(csv), kind="allegations")
    assert report.ok, report.errors
    db.session.commit()


@dataclass(frozen=True)
class OverdueFigure:
    """One kind of step count and the dashboard's figure of its overdue steps."""

    name: str  # in `flask figures verify`
    counts: ModuleType  # clock_counts or cycle_counts: its table `counts`, its `differences()`
    shown: Callable[..., int | None]  # the dashboard's figure: shown(user, today=on)
    before: Callable[[User, date], int | None]  # as computed before the counts were kept
    overdue: Callable[[Sequence[Allegation], date], list[int]]  # steps overdue, an allegation each
    create_all: Callable[[User, random.Random], object]  # the allegations the tests start from

    def written(self, app: Flask, make_user: Any) -> Iterator[tuple[User, list[User]]]:
        """The VIEWERS made, then the allegations of `create_all` recorded through the service by a
        senior advocate of CAF and COD (with one seeded random), committed: the writer and the
        viewers, in the test's request context."""
        viewer_ids = [make_user(role, scope).id for role, scope in VIEWERS]
        writer = make_user(Role.SENIOR_ADVOCATE, "CAF, COD").id
        with app.test_request_context():
            actor = db.session.get_one(User, writer)
            self.create_all(actor, random.Random(14))
            db.session.commit()
            yield actor, [db.session.get_one(User, i) for i in viewer_ids]

    @property
    def table(self) -> str:
        name: str = self.counts.counts.name
        return name

    def differences(self) -> list[str]:
        found: list[str] = self.counts.differences()
        return found

    def scanned(self, user: User, on: date) -> int:
        """Overdue steps counted in Python, allegation by allegation, in the viewer's scope."""
        found = [
            a for a in db.session.scalars(select(Allegation)) if in_scope(user, a.country_code, a.mission)
        ]
        return sum(self.overdue(found, on))

    def agree(self, viewers: list[User], on: date) -> list[int | None]:
        """Every kept count equals a recount, and each viewer's figure the one computed before."""
        assert self.differences() == []
        shown = []
        for user in viewers:
            figure = self.shown(user, today=on)
            assert figure == self.before(user, on), (user.role, user.scope_label)
            if sees_rows(user):
                assert figure == self.scanned(user, on), (user.role, user.scope_label)
            shown.append(figure)
        return shown

    def days_pass(
        self, viewers: list[User], clock: time_machine.Coordinates, on_summary: str
    ) -> list[int | None]:
        """The first viewer's figure today, tomorrow and 400 days later, with nothing written: each
        agrees, the dashboard's summary shows it (as its field `on_summary`), and no count row
        changes."""
        everything = f"SELECT * FROM {self.table} ORDER BY 1, 2, 3, 4, 5"
        kept = db.session.execute(text(everything)).all()
        seen = []
        for day, shift in ((ON, 0), (ON + timedelta(days=1), 1), (ON + timedelta(days=401), 400)):
            clock.shift(timedelta(days=shift))
            assert date.today() == day
            shown = self.agree(viewers, day)
            assert getattr(summary(viewers[0], reads_ledger=False), on_summary) == shown[0]
            seen.append(shown[0])
        assert db.session.execute(text(everything)).all() == kept
        return seen

    def glass_broken(self, senior: User) -> None:
        """A senior advocate of CAF breaks the glass on a COD allegation with overdue steps: the
        figure counts them too, as computed before."""
        outside = db.session.scalars(
            select(Allegation).where(Allegation.country_code == "COD").order_by(Allegation.id)
        ).all()
        overdue = [(a, n) for a, n in zip(outside, self.overdue(outside, ON), strict=True) if n]
        assert overdue
        opened, steps = overdue[0]
        before = self.shown(senior, today=ON)
        break_glass(
            actor=senior,
            record_type="allegation",
            record_id=opened.id,
            reason="The victim is in danger tonight.",
            country_code="COD",
        )
        db.session.commit()
        after = self.shown(senior, today=ON)
        assert after == self.before(senior, ON)
        assert after is not None and before is not None
        assert after == before + steps

    def verified_and_rebuilt(self, which: str) -> None:
        """A count row (the first `which` picks) changed behind the services: verify names it with
        its right value, rebuild mends it."""
        rows = f"SELECT * FROM {self.table} WHERE {which} ORDER BY 1, 2, 3, 4, 5"
        row = db.session.execute(text(rows)).first()
        assert row is not None
        db.session.execute(
            text(
                f"UPDATE {self.table} SET allegations = allegations + 2 WHERE country_code = :c"
                " AND mission = :m AND step = :s AND state = :t AND due_on = :d"
            ),
            {"c": row.country_code, "m": row.mission, "s": row.step, "t": row.state, "d": row.due_on},
        )
        place = f"{row.country_code} {row.mission}".strip()
        assert figures.differences() == [
            f"{self.name}: {place} {row.step} {row.state}"
            + (f" due {row.due_on}" if row.state == "open" else "")
            + f" is {row.allegations + 2}, should be {row.allegations}"
        ]
        assert figures.summaries()[self.name].rebuild() > 0
        assert figures.differences() == []

    def refilled(self, viewers: list[User], revision: str) -> None:
        """Down to `revision` (before the counts' table) and up again: the migration fills the counts
        from the rows, and every viewer's figure is what it was."""
        shown = self.agree(viewers, ON)
        db.session.remove()
        downgrade(revision=revision)
        upgrade(revision="heads")
        assert self.differences() == []
        assert [self.shown(user, today=ON) for user in viewers] == shown

    def changed_at_once_in_minusca(
        self,
        app: Flask,
        user_id: int,
        made: dict[str, Any],
        steps: Sequence[Callable[[User, Any], object]],
        read: tuple[str, str],
    ) -> list[Any]:
        """Eight allegations R0/26… of CAF/MINUSCA made with `made`, then changed by `steps` in
        eight threads at once (`change_at_once`): the CAF/MINUSCA rows of the steps `read` that
        count some allegations, sorted, once every count agrees with the allegations."""
        change_at_once(
            app,
            user_id,
            lambda actor, n: allegations.create_allegation(
                actor=actor, reference=f"R{n}/26", country_code="CAF", mission="MINUSCA", **made
            ),
            *steps,
        )
        sql = (
            f"SELECT step, state, allegations FROM {self.table}"
            " WHERE country_code = 'CAF' AND mission = 'MINUSCA' AND allegations <> 0"
            " AND step IN (:first, :second)"
        )
        return sorted(kept_rows(app, self.differences, sql, first=read[0], second=read[1]))
