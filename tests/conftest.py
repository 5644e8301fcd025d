"""Fixtures: a freshly migrated database per test (SQLite file, or a PostgreSQL database cloned
from a migrated template when VAT_TEST_BACKEND=postgres), the app, clients and users."""

from __future__ import annotations

import hashlib
import os
import queue
import re
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg
import pyotp
import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale, gettext
from flask_migrate import upgrade
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

from vat import create_app
from vat.auth import services as auth
from vat.auth.models import Role, User
from vat.db import db

BACKEND = os.environ.get("VAT_TEST_BACKEND", "sqlite")
POSTGRES_URL = os.environ.get("VAT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

TEST_KEY = "test1:" + "A" * 43 + "="  # 32 bytes, base64
TEST_SETTINGS: dict[str, Any] = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
    "VAT_DATA_KEY": TEST_KEY,
    "VAT_MAC_KEY": "test-mac-key-that-is-long-enough-0123456789",
    "WTF_CSRF_ENABLED": False,
    "VAT_FAST_PASSWORD_HASHING": True,
    "VAT_JOBS_IMMEDIATE": True,  # a job runs at once, inside the request or command that starts it
    "VAT_MONEY_FORM_MIN_SECONDS": 0,  # tests post at once; tests/ledger/test_human_time.py sets it
}
PASSWORD = "correct horse battery staple"


_apps_to_close: list[Flask] = []


ANCHORS = Path(tempfile.mkdtemp(prefix="vat-anchors-"))


def anchor_file(database_url: str) -> str:
    """The anchor file of the database at `database_url`, for this test run."""
    return str(ANCHORS / f"{hashlib.sha256(database_url.encode()).hexdigest()[:16]}.jsonl")


def make_app(database_url: str, **overrides: Any) -> Flask:
    """An app on `database_url`; its connections are closed when the test ends. Each database
    has its own anchor file and demo passwords file (tests share the instance folder)."""
    settings = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "VAT_ANCHOR_FILE": anchor_file(database_url),
        "VAT_DEMO_PASSWORDS_FILE": anchor_file(database_url).removesuffix(".jsonl") + "-demo-passwords.txt",
    }
    application = create_app({**TEST_SETTINGS, **settings, **overrides})
    _apps_to_close.append(application)
    return application


def _dispose_apps() -> None:
    while _apps_to_close:
        with _apps_to_close.pop().app_context():
            db.engine.dispose()


@pytest.fixture(autouse=True)
def _close_apps() -> Iterator[None]:
    yield
    _dispose_apps()


def _admin_connection() -> psycopg.Connection[Any]:
    url = make_url(POSTGRES_URL).set(drivername="postgresql")
    return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)


def _postgres_url(name: str) -> str:
    return (
        make_url(POSTGRES_URL)
        .set(drivername="postgresql+psycopg", database=name)
        .render_as_string(hide_password=False)
    )


@pytest.fixture
def clock(request: pytest.FixtureRequest) -> Iterator[time_machine.Coordinates]:
    """The test's clock, stopped at the instant the test starts (or at the instant a
    `@pytest.mark.clock("2026-12-31T23:59:59Z")` names), so that no test sees the day change under
    it unless it moves the clock itself (`clock.move_to`, `clock.shift`)."""
    marker = request.node.get_closest_marker("clock")
    start = datetime.fromisoformat(marker.args[0]) if marker else datetime.now(UTC)
    with time_machine.travel(start, tick=False) as traveller:
        yield traveller


@pytest.fixture
def today(clock: time_machine.Coordinates) -> date:
    """The day the test runs on, read from its clock when it starts, never at import."""
    return date.today()


@pytest.fixture(scope="session", autouse=True)
def compiled_translations() -> None:
    """Compile the French and Chinese catalogues, as `make install` does for the server."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    translations = Path(__file__).resolve().parent.parent / "translations"
    for po_path in translations.glob("*/LC_MESSAGES/messages.po"):
        with open(po_path, "rb") as source:
            catalogue = read_po(source, locale=po_path.parts[-3])
        # Written aside, then renamed: another test process may be reading the catalogue.
        written = po_path.with_suffix(f".{os.getpid()}.mo")
        with open(written, "wb") as target:
            write_mo(target, catalogue)
        os.replace(written, po_path.with_suffix(".mo"))


@pytest.fixture(scope="session")
def template_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Run every migration once; each test then starts from a copy."""
    if BACKEND == "postgres":
        name = f"vat_template_{os.getpid()}"
        with _admin_connection() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        url = _postgres_url(name)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('template') / 'template.db'}"
    app = make_app(url)
    with app.app_context():
        upgrade(revision="heads")
        db.engine.dispose()
    if BACKEND != "postgres":
        yield url
        return
    global _copies
    _copies = _DatabasesAhead(name)
    try:
        yield url
    finally:
        _copies.close()
        _copies = None
        with _admin_connection() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class _DatabasesAhead:
    """Copies of the template made before the tests that take them, and dropped after them, by two
    threads beside the tests: a test waits for neither (the copy and the drop took ~0.3 s of each
    test on PostgreSQL)."""

    def __init__(self, template: str, ahead: int = 2) -> None:
        self.template = template
        self.ready: queue.Queue[str] = queue.Queue(maxsize=ahead)
        self.done: queue.Queue[str | None] = queue.Queue()
        self.closing = threading.Event()
        self.failure: BaseException | None = None
        self.maker = threading.Thread(target=self._make, name="databases-ahead", daemon=True)
        self.dropper = threading.Thread(target=self._drop, name="databases-dropped", daemon=True)
        self.maker.start()
        self.dropper.start()

    def take(self) -> str:
        """A fresh copy's name (waits while none is ready)."""
        while True:
            if self.failure is not None:
                raise RuntimeError("the template could not be copied") from self.failure
            try:
                return self.ready.get(timeout=0.5)
            except queue.Empty:
                continue

    def give_back(self, name: str) -> None:
        """`name` is done with: dropped in the background."""
        self.done.put(name)

    def close(self) -> None:
        self.closing.set()
        self.maker.join()
        while not self.ready.empty():
            self.done.put(self.ready.get())
        self.done.put(None)
        self.dropper.join()
        if self.failure is not None:
            raise RuntimeError("a copy of the template could not be made or dropped") from self.failure

    def _make(self) -> None:
        try:
            self._make_until_closed()
        except BaseException as failure:  # told to the test that waits for a copy
            self.failure = failure

    def _make_until_closed(self) -> None:
        with _admin_connection() as conn:
            while not self.closing.is_set():
                name = f"vat_test_{uuid.uuid4().hex[:12]}"
                conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
                while True:
                    try:
                        self.ready.put(name, timeout=0.2)
                        break
                    except queue.Full:
                        if self.closing.is_set():
                            self.done.put(name)
                            return

    def _drop(self) -> None:
        try:
            with _admin_connection() as conn:
                while (name := self.done.get()) is not None:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except BaseException as failure:  # told when the session ends
            self.failure = failure


_copies: _DatabasesAhead | None = None


@contextmanager
def database_copy(template_url: str, folder: Path, prefix: str = "vat_test") -> Iterator[str]:
    """A copy of the database at `template_url`: a PostgreSQL database made from it as a template
    (dropped on leaving), or a copy of the SQLite file in `folder`."""
    if BACKEND == "postgres":
        template = make_url(template_url).database
        ahead = _copies if prefix == "vat_test" and _copies and _copies.template == template else None
        if ahead is not None:
            name = ahead.take()
        else:
            name = f"{prefix}_{uuid.uuid4().hex[:12]}"
            with _admin_connection() as conn:
                conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        try:
            yield _postgres_url(name)
        finally:
            _dispose_apps()
            if ahead is not None:
                ahead.give_back(name)
            else:
                with _admin_connection() as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        path = folder / "test.db"
        shutil.copyfile(make_url(template_url).database, path)
        yield f"sqlite:///{path}"


@pytest.fixture
def database_url(template_database: str, tmp_path: Path) -> Iterator[str]:
    with database_copy(template_database, tmp_path) as url:
        yield url


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Flask:
    return make_app(database_url, VAT_JOBS_FOLDER=str(tmp_path / "jobs"))


@pytest.fixture
def ctx(app: Flask) -> Iterator[Flask]:
    """The app, its context pushed for a test that calls services directly; rolled back after."""
    with app.app_context():
        yield app
        db.session.rollback()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


@dataclass(frozen=True)
class TestUser:
    id: int
    username: str
    role: Role
    password: str = PASSWORD


@pytest.fixture
def make_user(app: Flask) -> Callable[..., TestUser]:
    """Create a user; roles that see identities get a second factor unless `totp=False`."""
    counter = iter(range(1, 10_000))

    def create(
        role: Role = Role.ADVOCATE,
        scope: str = "CAF",
        *,
        totp: bool | None = None,
        username: str | None = None,
    ) -> TestUser:
        name = username or f"{Role(role).value.replace('_', '')}{next(counter)}"
        with app.app_context():
            user = auth.create_user(actor=None, username=name, password=PASSWORD, role=role, scope=scope)
            if totp if totp is not None else Role(role).sees_identities:
                user.totp_secret = auth.new_totp_secret()
            db.session.commit()
            return TestUser(user.id, user.username, Role(role))

    return create


def row_count(app: Flask, what: Any, *where: Any) -> int:
    """How many rows of `what` (a model or a table) match `where`, read in a context of `app`."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(what).where(*where)) or 0


def all_at_once(jobs: list[Callable[[], Any]]) -> list[Any]:
    """Run every job in its own thread, released together; their results in order (a job's
    exception stands as its result)."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = jobs[index]()
        except Exception as error:  # noqa: BLE001 - reported as the job's result, then asserted on
            results[index] = error

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def sign_in(app: Flask, client: FlaskClient, user: TestUser) -> None:
    """A signed-in session without going through the forms (tests of the forms do that)."""
    with app.app_context():
        token = auth.start_session(user=db.session.get(User, user.id), address="127.0.0.1")
        db.session.commit()
    with client.session_transaction() as session:
        session["sid"] = token
        session["_user_id"] = str(user.id)


def csrf_token_in(html: str) -> str:
    """The CSRF token of the (first) form of a page."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "the page carries no CSRF token"
    return match.group(1)


def minted_key(html: str) -> str:
    """The key a create form was given (`KeyedForm`), which makes sending it twice a repeat."""
    match = re.search(r'name="key" type="hidden" value="([0-9a-f]{32})"', html)
    assert match, "the form carries no key"
    return match.group(1)


def post_login(
    client: FlaskClient, username: str, password: str = PASSWORD, address: str = "127.0.0.1", **extra: Any
) -> Any:
    """The sign-in form posted from `address` (the test client's own by default)."""
    data = {"username": username, "password": password}
    return client.post("/auth/login", data=data, environ_base={"REMOTE_ADDR": address}, **extra)


def signed_in_client(app: Flask, user: TestUser) -> FlaskClient:
    """A new client of `app`, signed in as `user` (see sign_in)."""
    client = app.test_client()
    sign_in(app, client, user)
    return client


@pytest.fixture
def csrf_client(database_url: str, make_user: Callable[..., TestUser]) -> Callable[..., FlaskClient]:
    """csrf_client(role, scope) or csrf_client(user) → a new client signed in on an app that checks
    CSRF tokens (the tests' app does not). A test's clients share that app (`client.application`)."""
    guarded: list[Flask] = []

    def signed_in(who: Role | TestUser = Role.ADVOCATE, scope: str = "CAF", **kwargs: Any) -> FlaskClient:
        if not guarded:
            guarded.append(make_app(database_url, WTF_CSRF_ENABLED=True))
        user = who if isinstance(who, TestUser) else make_user(who, scope, **kwargs)
        return signed_in_client(guarded[0], user)

    return signed_in


@pytest.fixture
def login(app: Flask, client: FlaskClient, make_user: Callable[..., TestUser]) -> Callable[..., TestUser]:
    """login(role, scope) → a new user of that role, signed in on `client`."""

    def sign_in_as(role: Role = Role.ADVOCATE, scope: str = "CAF", **kwargs: Any) -> TestUser:
        user = make_user(role, scope, **kwargs)
        sign_in(app, client, user)
        return user

    return sign_in_as


# --- the browser: a live server on loopback and Debian's Chromium driven by Playwright ----------

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def live_server(app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    server.server_close()


def browser_sign_in(page: Any, live_server: str, username: str, secret: str | None = None) -> None:
    """Sign in through the forms as a person does (the six-digit code when `secret` is given),
    and wait for the dashboard."""
    page.goto(f"{live_server}/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if secret:
        page.get_by_label("Six-digit code").fill(pyotp.TOTP(secret).now())
        page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="Dashboard").wait_for()


def browser_user(
    app: Flask, page: Any, live_server: str, user: TestUser, language: str
) -> Callable[..., str]:
    """Sign `user` in through the browser with their second factor, set their interface language,
    and answer the interface's words in it (`words("Save")`)."""
    with app.app_context():
        secret = db.session.get_one(User, user.id).totp_secret
    browser_sign_in(page, live_server, user.username, secret)
    if language != "en":
        with app.app_context():
            db.session.get_one(User, user.id).language = language
            db.session.commit()
    return translator(app, language)


def translator(app: Flask, language: str) -> Callable[..., str]:
    """The interface's words in `language`: the catalogue's translation of an English message
    (`words("Save")`), with its values."""

    def words(text: str, **values: object) -> str:
        with app.test_request_context(), force_locale(language):
            return gettext(text, **values)

    return words


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--no-first-run"],
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()
