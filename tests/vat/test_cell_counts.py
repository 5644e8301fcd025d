"""What the needs' and the feedback's kept counts (tests/vat/test_need_counts.py,
test_feedback_counts.py) both do, one test a kind: a victim opened by breaking the glass is counted
for that senior advocate; `figures verify` names a changed row and `rebuild` mends it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from tests.vat.cell_count_checks import CellFigure
from tests.vat.test_feedback_counts import FEEDBACK
from tests.vat.test_need_counts import NEEDS
from vat.auth.models import User


@pytest.fixture(params=[pytest.param(NEEDS, id="needs"), pytest.param(FEEDBACK, id="feedback")])
def kind(request: pytest.FixtureRequest) -> CellFigure:
    figure: CellFigure = request.param
    return figure


@pytest.fixture
def built(ctx: Flask, make_user: Callable[..., Any], kind: CellFigure) -> tuple[User, list[User]]:
    return kind.written(ctx, make_user)


def test_a_victim_opened_by_breaking_the_glass_is_counted_for_that_senior_advocate(
    built: tuple[User, list[User]], kind: CellFigure, make_user: Callable[..., Any]
) -> None:
    kind.glass_broken(make_user)


@pytest.mark.parametrize(
    ("kind", "alteration"),
    [
        pytest.param(
            NEEDS, "UPDATE vat_need_count SET victims = victims + 1 WHERE need_type = 'legal'", id="needs"
        ),
        pytest.param(
            FEEDBACK,
            "UPDATE vat_feedback_count SET feedback = feedback + 1 WHERE grouping = 'legal'",
            id="feedback",
        ),
    ],
    indirect=["kind"],
)
def test_verify_names_a_changed_row_and_rebuild_mends_it(
    built: tuple[User, list[User]], kind: CellFigure, alteration: str
) -> None:
    kind.verified_and_rebuilt(alteration, "legal")
