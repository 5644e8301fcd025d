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


def write_transactions(app: Flask, client: Any, url: str) -> list[list[str]]:
    """The statements of each IMMEDIATE transaction a GET of `url` ran (on SQLite, those that held
    the one write lock, which every other writer waits for); asserts it answered 200."""
    with counting(app) as sent:
        assert client.get(url).status_code == 200
    runs: list[list[str]] = []
    current: list[str] | None = None
    for sql in sent:
        if sql.startswith("BEGIN"):  # a commit is not a statement: each runs till the next BEGIN
            current = [] if sql == "BEGIN IMMEDIATE" else None
            if current is not None:
                runs.append(current)
        elif current is not None:
            current.append(sql)
    return runs


def locked_for_its_audit_row(app: Flask, client: Any, url: str, *, reading: str | None = None) -> None:
    """A GET of `url` answers 200, having held SQLite's write lock for its audit row alone (and
    the identity it shows, read from the table `reading` with it), not for the page."""
    (audited,) = write_transactions(app, client, url)
    touched = ("audit_",) if reading is None else ("audit_", reading)
    assert any(sql.startswith("INSERT INTO audit_event") for sql in audited), audited
    assert all(any(name in sql for name in touched) for sql in audited), audited
