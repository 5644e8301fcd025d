"""What each kept figure's test of `flask figures` does: the figures verify, a figure is altered
behind the app, verify names it, and a rebuild mends it."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskCliRunner
from sqlalchemy import text

from vat.db import db

Statement = str | tuple[str, dict[str, Any]]


def altered_behind_the_app(runner: FlaskCliRunner, *statements: Statement) -> Any:
    """`flask figures verify` passes; then `statements` run on a connection of their own, behind
    the app; verify's result after them."""
    assert runner.invoke(args=["figures", "verify"]).exit_code == 0
    db.session.rollback()
    with db.engine.begin() as connection:
        for statement in statements:
            sql, params = (statement, {}) if isinstance(statement, str) else statement
            connection.execute(text(sql), params)
    return runner.invoke(args=["figures", "verify"])


def mended_by_rebuild(runner: FlaskCliRunner) -> str:
    """`flask figures rebuild`, then verify, pass; the rebuild's output."""
    rebuilt = runner.invoke(args=["figures", "rebuild"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert runner.invoke(args=["figures", "verify"]).exit_code == 0
    return str(rebuilt.output)
