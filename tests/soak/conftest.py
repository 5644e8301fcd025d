"""Soak tests: real gunicorn servers on loopback. They run with `make soak` (VAT_SOAK=1), not in
the quick suite; each is bounded in time and requests."""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TEST_SETTINGS, anchor_file

ROOT = Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("VAT_SOAK") == "1":
        return
    skip = pytest.mark.skip(reason="soak test: run with `make soak`")
    for item in items:
        if "tests/soak/" in str(item.fspath):
            item.add_marker(skip)


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_environment(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VAT_TEST")}
    env.update(
        VAT_ENV="development",
        DATABASE_URL=database_url,
        SECRET_KEY=TEST_SETTINGS["SECRET_KEY"],
        VAT_DATA_KEY=TEST_SETTINGS["VAT_DATA_KEY"],
        VAT_MAC_KEY=TEST_SETTINGS["VAT_MAC_KEY"],
        VAT_ANCHOR_FILE=anchor_file(database_url),  # never the instance folder's own
        # The soak's clients book thousands of receipts each: it measures durability, not the
        # money requests' limit (tests/ledger/test_money_rate_limit.py does).
        VAT_MONEY_REQUESTS_PER_WINDOW="1000000",
        VAT_MONEY_FORM_MIN_SECONDS="0",  # nor the money forms' minimum time (tests/ledger/test_human_time.py)
    )
    return env


class Server:
    """gunicorn serving wsgi:app on a loopback port; `kill()` is SIGKILL, `start()` restarts."""

    def __init__(self, database_url: str, workers: int = 2, preload: bool = True) -> None:
        self.database_url = database_url
        self.workers = workers
        self.preload = preload  # import the app once, in the master, instead of once per worker
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--log-level",
            "warning",
            *(["--preload"] if self.preload else []),
            "wsgi:app",
        ]
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            command, cwd=ROOT, env=server_environment(self.database_url), start_new_session=True
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("gunicorn did not start")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, 9)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            self.process.wait(timeout=10)


@pytest.fixture
def start_server(database_url: str) -> Iterator[Callable[..., Server]]:
    servers: list[Server] = []

    def start(**kwargs: Any) -> Server:
        server = Server(database_url, **kwargs)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


class Client:
    """A minimal browser over urllib: keeps cookies, reads CSRF tokens, never follows redirects."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect()
        )
        self.location: str | None = None  # where the last redirect pointed

    def request(self, path: str, data: dict[str, str] | None = None) -> tuple[int, str]:
        body = None if data is None else urllib.parse.urlencode(data).encode()
        request = urllib.request.Request(self.base_url + path, data=body)  # noqa: S310 - loopback only
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            self.location = error.headers.get("Location")
            return error.code, error.read().decode()

    def post_file(self, path: str, fields: dict[str, str], name: str, filename: str, content: bytes) -> int:
        """A multipart/form-data POST of `fields` and one file (an upload form)."""
        boundary = uuid.uuid4().hex
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
            for key, value in fields.items()
        ]
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n".encode()
            + content
            + f"\r\n--{boundary}--\r\n".encode()
        )
        request = urllib.request.Request(  # noqa: S310 - loopback only
            self.base_url + path,
            data=b"".join(parts),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as error:
            self.location = error.headers.get("Location")
            return error.code

    def csrf_token(self, path: str) -> str:
        status, page = self.request(path)
        match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
            r'name="csrf_token" value="([^"]+)"', page
        )
        if not match:
            raise AssertionError(f"no CSRF token on {path} ({status})")
        return match.group(1)

    def post_form(self, path: str, fields: dict[str, str], token_from: str | None = None) -> tuple[int, str]:
        token = self.csrf_token(token_from or path)
        return self.request(path, {**fields, "csrf_token": token})

    def session_cookie(self) -> str:
        return next(c.value for c in self.cookies if c.name == "vat_session")

    def use_session_cookie(self, value: str) -> None:
        for cookie in list(self.cookies):
            self.cookies.clear(cookie.domain, cookie.path, cookie.name)
        self.cookies.set_cookie(
            http.cookiejar.Cookie(
                0,
                "vat_session",
                value,
                None,
                False,
                "127.0.0.1",
                False,
                False,
                "/",
                True,
                False,
                None,
                False,
                None,
                None,
                {},
            )
        )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None
