"""One unit of work per request: the begin mode follows the HTTP method, a GET that writes says so,
and a write that was saved is never answered 503."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from flask import Blueprint, Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select

from tests import conftest
from tests.conftest import BACKEND, make_app, sign_in
from tests.statements import statements_sent
from vat import audit
from vat.auth.models import LoginThrottle, Role, User, UserSession
from vat.auth.policy import public
from vat.db import db, utcnow
from vat.submission import writes

pytestmark = pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's begin modes and locks")

reading = threading.Event()
other_writer_started = threading.Event()


def _add_test_routes(application: Flask) -> None:
    bp = Blueprint("uow_test", __name__, url_prefix="/uow-test")

    @bp.route("/read", methods=["GET", "HEAD", "OPTIONS", "POST"])
    @public
    def read() -> str:
        return str(db.session.scalar(select(func.count(User.id))))

    @bp.get("/write-undeclared")
    @public
    def write_undeclared() -> str:
        audit.record("test.write", actor=None)
        db.session.commit()
        return "written"

    @bp.get("/read-then-write")
    @public
    @writes
    def read_then_write() -> str:
        db.session.scalar(select(func.count(audit.AuditEvent.id)))
        reading.set()
        other_writer_started.wait(5)
        audit.record("test.read_then_write", actor=None)
        db.session.commit()
        return "written"

    application.register_blueprint(bp)


@pytest.fixture
def test_app(database_url: str) -> Flask:
    application = make_app(database_url)
    _add_test_routes(application)
    return application


@pytest.fixture
def begins(test_app: Flask) -> Iterator[list[str]]:
    """Every BEGIN the app's connections issue, in order."""
    with test_app.app_context():
        engine = db.engine
    with statements_sent(engine, lambda sql: sql.startswith("BEGIN")) as statements:
        yield statements


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("GET", "BEGIN"),
        ("HEAD", "BEGIN"),
        ("OPTIONS", "BEGIN"),
        ("POST", "BEGIN IMMEDIATE"),
    ],
)
def test_begin_mode_follows_the_method(
    test_app: Flask, begins: list[str], method: str, expected: str
) -> None:
    client = test_app.test_client()
    response = client.open("/uow-test/read", method=method)
    assert response.status_code == 200
    if method == "OPTIONS":  # Flask answers OPTIONS itself, without the view: no transaction
        assert begins in ([], [expected])
    else:
        assert begins == [expected]


def test_a_get_declared_as_writing_begins_immediate(test_app: Flask, begins: list[str]) -> None:
    reading.clear()
    other_writer_started.set()
    assert test_app.test_client().get("/uow-test/read-then-write").status_code == 200
    assert begins == ["BEGIN IMMEDIATE"]


def test_a_get_that_writes_undeclared_fails_every_time(test_app: Flask) -> None:
    """A deferred transaction is query-only: the race it would lose now and then under load is
    lost every time, so a test finds the missing `@writes`."""
    assert test_app.test_client().get("/uow-test/write-undeclared").status_code == 500
    with test_app.app_context():
        assert db.session.scalar(select(func.count(audit.AuditEvent.id))) == 0


def test_a_get_that_writes_waits_its_turn_beside_another_writer(test_app: Flask) -> None:
    """Two threads: the page reads, another writer commits meanwhile, the page writes. Deferred,
    the page's write would fail at once with SQLITE_BUSY_SNAPSHOT; declared as writing, it holds
    the lock from its first read and the other writer waits for it."""
    reading.clear()
    other_writer_started.clear()
    path = test_app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    answers: list[int] = []

    def page() -> None:
        answers.append(test_app.test_client().get("/uow-test/read-then-write").status_code)

    def other_writer() -> None:
        reading.wait(5)
        other = sqlite3.connect(path, timeout=10, isolation_level=None)
        other_writer_started.set()
        other.execute(
            "INSERT INTO auth_login_throttle (key, failures, window_started_at) VALUES (?, 1, ?)",
            ("addr:other", utcnow().isoformat(sep=" ")),
        )
        other.close()

    threads = [threading.Thread(target=page), threading.Thread(target=other_writer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert answers == [200]
    with test_app.app_context():
        assert db.session.scalar(select(func.count(audit.AuditEvent.id))) == 1
        assert db.session.get(LoginThrottle, "addr:other") is not None


@contextmanager
def write_lock_taken_after_commit(app: Flask) -> Iterator[None]:
    """Right after the request's commit, another connection takes SQLite's write lock and keeps
    it; our busy timeout is short, so any later IMMEDIATE transaction would be answered 503."""
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    blocker = sqlite3.connect(path, timeout=1, isolation_level=None)
    with app.app_context():
        db.engine.dispose()
        engine = db.engine

    def short_timeout(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout = 200")

    def take_the_lock(session: Any) -> None:
        if not blocker.in_transaction:
            blocker.execute("BEGIN IMMEDIATE")

    event.listen(engine, "connect", short_timeout)
    event.listen(db.session, "after_commit", take_the_lock)
    try:
        yield
    finally:
        event.remove(db.session, "after_commit", take_the_lock)
        event.remove(engine, "connect", short_timeout)
        if blocker.in_transaction:
            blocker.execute("ROLLBACK")
        blocker.close()


SAVED_WRITES: list[tuple[Role, str, dict[str, str], Callable[[User], bool]]] = [
    (Role.ADVOCATE, "/language", {"language": "fr"}, lambda user: user.language == "fr"),
]


@pytest.mark.parametrize(("role", "url", "form", "saved"), SAVED_WRITES)
def test_a_saved_write_is_never_answered_busy(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., conftest.TestUser],
    role: Role,
    url: str,
    form: dict[str, str],
    saved: Callable[[User], bool],
) -> None:
    user = make_user(role, "CAF")
    sign_in(app, client, user)
    with write_lock_taken_after_commit(app):
        response = client.post(url, data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    with app.app_context():
        assert saved(db.session.get(User, user.id))


def test_a_reading_page_leaves_the_sessions_touch_to_later_while_another_writer_holds_the_lock(
    app: Flask, client: FlaskClient, login: Callable[..., Any]
) -> None:
    """The 30-second note that a session was seen is not worth a wait: while another writer holds
    SQLite's write lock a page that reads answers at once and leaves it to a later request."""
    login(Role.ADVOCATE, "CAF")

    def seen_ago() -> timedelta:
        with app.app_context():
            return utcnow() - db.session.scalars(select(UserSession)).one().last_seen_at

    with app.app_context():
        db.session.scalars(select(UserSession)).one().last_seen_at = utcnow() - timedelta(minutes=1)
        db.session.commit()  # a touch is due
    blocker = sqlite3.connect(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    blocker.isolation_level = None
    blocker.execute("BEGIN IMMEDIATE")
    try:
        began = time.monotonic()
        assert client.get("/vat/victims").status_code == 200
        assert time.monotonic() - began < 2  # not the 5 s any writer waits
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert seen_ago() > timedelta(seconds=50)  # left for later
    assert client.get("/vat/victims").status_code == 200
    assert seen_ago() < timedelta(seconds=5)
