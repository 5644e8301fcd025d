"""Tests read the day from the `clock` fixture when they run, never at import: a run that crosses
midnight UTC (as one in CI did) cannot fail on the date. Here the fixtures are made a second
before midnight and the assertions run a second after it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient

from vat.auth.models import Role
from vat.db import db
from vat.victims.models import Victim

NEW_YEAR = datetime(2027, 1, 1, tzinfo=UTC)


def register(client: FlaskClient, advocate_id: int) -> int:
    response = client.post(
        "/vat/victims/new",
        data={"country_code": "CAF", "mission": "minusca", "sex": "female", "age_group": "adult"}
        | {"advocate_id": str(advocate_id)},
    )
    assert response.status_code == 302
    return int(response.headers["Location"].rsplit("/", 1)[1])


def case_code(app: Flask, victim_id: int) -> str:
    with app.app_context():
        victim = db.session.get(Victim, victim_id)
        assert victim is not None
        return victim.case_code


@pytest.fixture
def registered(client: FlaskClient, login: Callable[..., Any], today: date) -> tuple[int, int]:
    """An advocate signed in and a victim they registered, with consent to services given today."""
    advocate = login(Role.ADVOCATE, "CAF")
    victim_id = register(client, advocate.id)
    response = client.post(
        f"/vat/victims/{victim_id}/consents/new",
        data={"purpose": "services", "given_on": today.isoformat(), "method": "written", "version": "1"},
    )
    assert response.status_code == 302
    return advocate.id, victim_id


def test_the_clock_stands_still_unless_the_test_moves_it(
    clock: time_machine.Coordinates, today: date
) -> None:
    instant = datetime.now(UTC)
    assert datetime.now(UTC) == instant and date.today() == today
    clock.shift(timedelta(days=1))
    assert date.today() == today + timedelta(days=1)


@pytest.mark.clock("2026-12-31T23:59:59+00:00")
def test_fixtures_made_before_midnight_hold_after_it(
    app: Flask,
    client: FlaskClient,
    clock: time_machine.Coordinates,
    today: date,
    registered: tuple[int, int],
) -> None:
    advocate_id, victim_id = registered
    clock.move_to(NEW_YEAR + timedelta(seconds=1))
    assert today == date(2026, 12, 31) and date.today() == date(2027, 1, 1)

    assert case_code(app, victim_id) == "CAR-2026-0001"  # numbered on the day it was registered
    page = client.get(f"/vat/victims/{victim_id}").get_data(as_text=True)
    assert f'<time datetime="{today.isoformat()}">' in page and "registered Dec 31, 2026" in page
    later = register(client, advocate_id)  # the session made last year still holds
    assert case_code(app, later) == "CAR-2027-0001"  # numbering starts again with the year
    response = client.post(
        f"/vat/victims/{later}/consents/new",
        data={"purpose": "services", "given_on": today.isoformat(), "method": "written", "version": "1"},
    )
    assert response.status_code == 302  # yesterday's date is not refused as in the future


# The calls that read the day or the time; at import they freeze it for the whole run.
CLOCK_READS = {"today", "now", "utcnow", "time"}


def _read_at_import(tree: Any) -> list[int]:
    """Lines of `tree` (a module) that read the clock when the module is imported: anywhere but
    inside a function's or a lambda's body (decorators and default values run at import)."""
    import ast

    found: list[int] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for part in [*node.decorator_list, *node.args.defaults, *node.args.kw_defaults]:
                if part is not None:
                    visit(part)
            return
        if isinstance(node, ast.Lambda):
            return
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
            if name in CLOCK_READS:
                found.append(node.lineno)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def test_no_test_module_reads_the_day_at_import() -> None:
    import ast
    from pathlib import Path

    frozen = [
        f"{path.relative_to(Path(__file__).parent)}:{line}"
        for path in sorted(Path(__file__).parent.rglob("*.py"))
        for line in _read_at_import(ast.parse(path.read_text(), str(path)))
    ]
    assert frozen == [], "read the day in the test (the `today` or `clock` fixture), not at import"


def test_the_check_finds_a_day_read_at_import() -> None:
    import ast

    source = (
        "TODAY = date.today()\n"
        "@pytest.mark.parametrize('on', [datetime.now(UTC)])\n"
        "def test_it(on=time.time()):\n"
        "    return date.today()\n"
        "later = lambda: date.today()\n"
    )
    assert _read_at_import(ast.parse(source)) == [1, 2, 3]
