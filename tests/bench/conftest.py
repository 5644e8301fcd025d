"""Benchmarks at scale (issue 7). They run with `make bench` (VAT_BENCH=1) against databases seeded
by `flask seed-scale`, kept between runs under instance/bench/ (SQLite) or as `vat_bench_<N>`
(PostgreSQL, when VAT_TEST_POSTGRES_URL is set). Each benchmark records rows of one table — the
app's figure, the reference figure measured in the same run, their ratio — printed at the end.

The query-count tests (test_query_counts.py) are deterministic and run in the normal suite."""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import make_url

from seeding.scale import seed_scale
from seeding.scale_plan import COUNTRIES
from tests.conftest import TEST_SETTINGS, _admin_connection, _postgres_url, make_app
from vat.auth import services as auth
from vat.auth.models import Role, User
from vat.db import db
from vat.warm_start import settle

ROOT = Path(__file__).resolve().parents[2]
BENCH = os.environ.get("VAT_BENCH") == "1"
VICTIMS = int(os.environ.get("VAT_BENCH_VICTIMS", "100000"))
RESULTS = Path(os.environ.get("VAT_BENCH_RESULTS", ROOT / "instance" / "bench" / "results.jsonl"))
ALL_COUNTRIES = ", ".join(f"{c}/{m}" if m else c for c, m in COUNTRIES)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if BENCH:
        return
    skip = pytest.mark.skip(reason="benchmark: run with `make bench`")
    for item in items:
        path = str(item.fspath)
        if "tests/bench/" in path and not path.endswith("test_query_counts.py"):
            item.add_marker(skip)


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB: Linux's VmHWM, which starts afresh at exec.
    Not ru_maxrss, which keeps the peak of the process it was forked from: a script started by
    the pytest process that had just seeded 100,000 victims read 1,105 MB before its first page."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # elsewhere than Linux


# VAT_BENCH_WARM_START=1: the scripts start the app as a gunicorn worker does (gunicorn.conf.py).
WARM_START = os.environ.get("VAT_BENCH_WARM_START") == "1"


def started_app(url: str) -> Flask:
    """The app on `url`, started as a gunicorn worker starts it when VAT_BENCH_WARM_START=1
    (templates compiled, languages loaded, then `settle`d, as post_worker_init does), else bare."""
    app = make_app(url, VAT_WARM_START=WARM_START)
    if WARM_START:
        settle()
    return app


# --- seeded databases ------------------------------------------------------------------------


def backends() -> list[str]:
    return ["sqlite", "postgres"] if os.environ.get("VAT_TEST_POSTGRES_URL") else ["sqlite"]


def seeded_url(backend: str, victims: int) -> str:
    """A migrated database seeded with `victims`, made once and kept (seeding takes minutes)."""
    if backend == "sqlite":
        path = ROOT / "instance" / "bench" / f"scale-{victims}.db"
        url = f"sqlite:///{path}"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            _seed(url + ".tmp", victims)
            for suffix in ("", "-wal", "-shm"):
                partial = Path(f"{path}.tmp{suffix}")
                if partial.exists():
                    partial.rename(f"{path}{suffix}")
        return url
    name = f"vat_bench_{victims}"
    with _admin_connection() as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}_tmp"')
            conn.execute(f'CREATE DATABASE "{name}_tmp"')
    if not exists:
        _seed(_postgres_url(f"{name}_tmp"), victims)
        with _admin_connection() as conn:
            conn.execute(f'ALTER DATABASE "{name}_tmp" RENAME TO "{name}"')
    return _postgres_url(name)


def _seed(url: str, victims: int) -> None:
    from flask_migrate import upgrade

    app = make_app(url)
    with app.app_context():
        upgrade(revision="heads")
    started = time.perf_counter()
    result = app.test_cli_runner().invoke(seed_scale, args=["--victims", str(victims)])
    assert result.exit_code == 0, result.output
    record("seed", "seed-scale (s)", make_url(url).get_backend_name(), time.perf_counter() - started, None)
    with app.app_context():
        db.engine.dispose()


def copy_database(url: str, suffix: str) -> str:
    """A scratch copy of a seeded database (for benchmarks that write)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        source = Path(parsed.database or "")
        target = source.with_name(f"{source.stem}-{suffix}.db")
        for extra in ("-wal", "-shm"):
            Path(f"{target}{extra}").unlink(missing_ok=True)
        shutil.copyfile(source, target)
        if Path(f"{source}-wal").exists():
            shutil.copyfile(f"{source}-wal", f"{target}-wal")
        # On the disk before anything is measured: the copy's 1.5 GB written back during a run
        # held every commit's fsync for seconds.
        os.sync()
        return f"sqlite:///{target}"
    name = f"{parsed.database}_{suffix}"
    with _admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        # A template must have no other connection: close this run's own (the session's app).
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (parsed.database,),
        )
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{parsed.database}"')
    return _postgres_url(name)


def drop_copy(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        for extra in ("", "-wal", "-shm"):
            Path(f"{parsed.database}{extra}").unlink(missing_ok=True)
        return
    with _admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')


@dataclass
class Seeded:
    backend: str
    url: str
    app: Flask


@pytest.fixture(scope="session", params=backends())
def seeded(request: pytest.FixtureRequest) -> Iterator[Seeded]:
    from flask_migrate import upgrade

    url = seeded_url(request.param, VICTIMS)
    app = make_app(url)
    with app.app_context():
        upgrade(revision="heads")  # a database seeded before the latest migration gets it now
        with db.engine.begin() as connection:
            connection.execute(text("ANALYZE"))
        db.engine.dispose()
    yield Seeded(request.param, url, app)
    with app.app_context():
        db.engine.dispose()  # no connection left for the garbage collector to close at exit


# --- users and sessions ----------------------------------------------------------------------


def session_user(app: Flask, role: Role, scope: str = ALL_COUNTRIES) -> int:
    """A user of `role` (made once per database), for signed-in requests."""
    username = f"bench-{role.value.replace('_', '-')}"
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            user = auth.create_user(
                actor=None, username=username, password="bench " + "x7Qp2Lm9Zr4" * 2, role=role, scope=scope
            )
            if role.sees_identities:
                user.totp_secret = auth.new_totp_secret()
            db.session.commit()
        return user.id


def signed_in_client(app: Flask, user_id: int) -> FlaskClient:
    client = app.test_client()
    with app.app_context():
        token = auth.start_session(user=db.session.get(User, user_id), address="127.0.0.1")
        db.session.commit()
    with client.session_transaction() as session:
        session["sid"] = token
        session["_user_id"] = str(user_id)
    return client


def cookie_of(client: FlaskClient) -> str:
    cookie = client.get_cookie(TEST_SETTINGS.get("SESSION_COOKIE_NAME", "vat_session"))
    assert cookie is not None
    return f"{cookie.key}={cookie.value}"


# --- measuring -------------------------------------------------------------------------------


class QueryLog:
    """Statements sent to the database while active (a before_cursor_execute listener)."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, Any]] = []

    def __call__(
        self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        self.statements.append((statement, parameters))


@contextmanager
def logged_queries(app: Flask) -> Iterator[QueryLog]:
    log = QueryLog()
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", log)
    try:
        yield log
    finally:
        event.remove(engine, "before_cursor_execute", log)


def run_script(script: Path, *args: str, timeout: float, **output: Any) -> subprocess.CompletedProcess[str]:
    """One of our scripts, run to its end by this interpreter from the repository's root (so that
    it imports the app), its output captured as text unless `output` sends it elsewhere."""
    return subprocess.run(  # noqa: S603 - our interpreter and script
        [sys.executable, str(script), *args],
        text=True,
        timeout=timeout,
        check=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        **(output or {"capture_output": True}),
    )


def last_json(output: str) -> Any:
    """The figures a script prints as JSON on its last line."""
    return json.loads(output.strip().splitlines()[-1])


def timed(run: Callable[[], Any], repeat: int = 1) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return times


def timed_get(client: FlaskClient, url: str) -> tuple[float, float]:
    """One view of `url` (200 expected): the process's CPU seconds and the wall clock's."""
    cpu, wall = time.process_time(), time.perf_counter()
    assert client.get(url).status_code == 200, url
    return time.process_time() - cpu, time.perf_counter() - wall


def views_after_changes(
    app: Flask,
    client: FlaskClient,
    url: str,
    first: tuple[float, float],
    change: Callable[[int], None],
    views: int,
) -> dict[str, Any]:
    """After the `first` view of `url`: `views` views each right after `change(n)` (so each is the
    first view after a change), then `views` repeats. Each view's CPU and wall seconds, rounded to
    the millisecond, as the CPU scripts print them."""
    after_change = []
    for n in range(views):
        with app.test_request_context():
            change(n)
        after_change.append(timed_get(client, url))
    repeats = [timed_get(client, url) for _ in range(views)]

    def cpu(timings: list[tuple[float, float]]) -> list[float]:
        return [round(c, 3) for c, _ in timings]

    def wall(timings: list[tuple[float, float]]) -> list[float]:
        return [round(w, 3) for _, w in timings]

    return {
        "first_cpu": cpu([first])[0],
        "first_wall": wall([first])[0],
        "after_change_cpu": cpu(after_change),
        "after_change_wall": wall(after_change),
        "repeat_cpu": cpu(repeats),
        "repeat_wall": wall(repeats),
    }


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def median(values: list[float]) -> float:
    return statistics.median(values)


def record(
    group: str, measure: str, backend: str, app_value: float, reference: float | None, **extra: Any
) -> None:
    """Append one row of the results table (read back by `python -m tests.bench.report`)."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    row = {
        "group": group,
        "measure": measure,
        "backend": backend,
        "victims": VICTIMS,
        "app": app_value,
        "reference": reference,
        "ratio": (app_value / reference) if reference else None,
        **extra,
    }
    with RESULTS.open("a") as out:
        out.write(json.dumps(row) + "\n")


def count_rows(app: Flask, model: Any) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0
