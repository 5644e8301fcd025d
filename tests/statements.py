"""The SQL statements a test's code sends to the database, for tests that count them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from flask import Flask
from sqlalchemy import Engine, event

from vat.db import db


@contextmanager
def statements_sent(engine: Engine, keep: Callable[[str], bool] = lambda _: True) -> Iterator[list[str]]:
    """Every statement `engine` sends within the block that `keep` accepts, in order."""
    sent: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if keep(statement):
            sent.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", note)


def counting(app: Flask) -> AbstractContextManager[list[str]]:
    """Every statement the app's engine sends within the block."""
    with app.app_context():
        engine = db.engine
    return statements_sent(engine)
