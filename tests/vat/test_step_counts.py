"""What the allegation clock's and the accountability cycle's kept counts (tests/vat/test_clock_counts.py,
test_cycle_counts.py) both do, one test a kind: the dashboard's figure follows the day with nothing
written; an allegation opened by breaking the glass is counted for that senior advocate; `figures
verify` names a changed row and `rebuild` mends it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from flask import Flask

from tests.vat.step_count_checks import OverdueFigure
from tests.vat.test_clock_counts import OVERDUE as CLOCK
from tests.vat.test_cycle_counts import OVERDUE as CYCLE
from vat.auth.models import User

pytestmark = pytest.mark.clock("2026-06-30T12:00:00Z")
KINDS = [pytest.param(CLOCK, id="clock"), pytest.param(CYCLE, id="cycle")]


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> OverdueFigure:
    figure: OverdueFigure = request.param
    return figure


@pytest.fixture
def built(
    app: Flask, make_user: Any, kind: OverdueFigure, clock: time_machine.Coordinates
) -> Iterator[tuple[User, list[User]]]:
    """The kind's allegations recorded through the service on 30 June 2026 (the test's clock)."""
    yield from kind.written(app, make_user)


@pytest.mark.parametrize(
    ("kind", "on_summary", "more_overdue_later"),
    # 400 days on, the cycle's figure has grown again; the clock's may have stopped growing.
    [
        pytest.param(CLOCK, "overdue_steps", False, id="clock"),
        pytest.param(CYCLE, "overdue_cycle_steps", True, id="cycle"),
    ],
    indirect=["kind"],
)
def test_a_step_due_today_is_overdue_tomorrow_with_nothing_written(
    built: tuple[User, list[User]],
    kind: OverdueFigure,
    clock: time_machine.Coordinates,
    on_summary: str,
    more_overdue_later: bool,
) -> None:
    """The dashboard reads "today" from the clock: the day changes, no count is written, the
    figure follows."""
    today, tomorrow, later = kind.days_pass(built[1], clock, on_summary)
    assert tomorrow is not None and today is not None and tomorrow > today
    assert later is not None and (later > tomorrow if more_overdue_later else later >= tomorrow)


def test_an_allegation_opened_by_breaking_the_glass_is_counted_for_that_senior_advocate(
    built: tuple[User, list[User]], kind: OverdueFigure
) -> None:
    kind.glass_broken(senior=built[1][1])  # CAF only


@pytest.mark.parametrize(
    ("kind", "which"),
    [pytest.param(CLOCK, "allegations > 0", id="clock"), pytest.param(CYCLE, "state = 'open'", id="cycle")],
    indirect=["kind"],
)
def test_verify_names_a_changed_row_and_rebuild_mends_it(
    built: tuple[User, list[User]], kind: OverdueFigure, which: str
) -> None:
    kind.verified_and_rebuilt(which)
