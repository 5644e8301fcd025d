"""The application log as JSON lines on stdout and to syslog (ASVS 16.4.3), with nothing in it
that names a victim or carries a query string."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator

import pytest

from tests.conftest import make_app, signed_in_client
from vat.auth.models import Role
from vat.config import ConfigurationError
from vat.logs import APP_LOGGERS


@pytest.fixture
def restored_loggers() -> Iterator[None]:
    """The app's loggers as they were: JSON handlers must not leak into other tests."""
    saved = {
        name: (
            list(logging.getLogger(name).handlers),
            logging.getLogger(name).propagate,
            logging.getLogger(name).level,
        )
        for name in APP_LOGGERS
    }
    yield
    for name, (handlers, propagate, level) in saved.items():
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
            if handler not in handlers:
                handler.close()
        for handler in handlers:
            logger.addHandler(handler)
        logger.propagate, logger.level = propagate, level


def test_a_refusal_is_one_json_line_on_stdout_and_a_datagram_to_syslog(
    database_url, tmp_path, make_user, capsys, restored_loggers
):
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(5)
    port = receiver.getsockname()[1]
    app = make_app(
        database_url, VAT_LOG_FORMAT="json", VAT_LOG_SYSLOG=f"127.0.0.1:{port}", VAT_JOBS_FOLDER=str(tmp_path)
    )
    client = signed_in_client(app, make_user(Role.FUND_MANAGER, ""))
    capsys.readouterr()
    assert client.get("/admin/users?q=Canary-Secret").status_code == 403

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    refused = [line for line in lines if "access refused" in line["message"]]
    assert len(refused) == 1, lines
    assert refused[0]["level"] == "WARNING" and refused[0]["logger"] == "vat"
    assert refused[0]["time"].endswith("+00:00")
    assert "Canary-Secret" not in json.dumps(lines)

    datagram = receiver.recv(65536).decode()
    receiver.close()
    assert datagram.startswith("<12>"), "syslog priority: user facility, warning"
    assert json.loads(datagram[4:].rstrip("\x00"))["message"] == refused[0]["message"]


def test_an_unknown_log_format_or_syslog_address_refuses_to_start(database_url, restored_loggers):
    with pytest.raises(ConfigurationError):
        make_app(database_url, VAT_LOG_FORMAT="xml")
    with pytest.raises(ValueError):
        make_app(database_url, VAT_LOG_SYSLOG="nowhere")


def _serve_and_read_logs(database_url: str, *arguments: str, **environment: str) -> tuple[str, str]:
    """gunicorn started as the README says (gunicorn.conf.py, from the repository), one worker on
    loopback: three requests, one with a name in its query string; then its stdout and stderr."""
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request
    from pathlib import Path

    from tests.soak.conftest import free_port, server_environment

    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}"]
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [*command, "--workers", "1", *arguments, "wsgi:app"],
        cwd=Path(__file__).resolve().parent.parent,
        env={**server_environment(database_url), **environment},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)  # noqa: S310 - loopback
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        for path in ("/health", "/vat/victims?q=Canary-Secret+Name", "/nowhere"):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10)  # noqa: S310 - loopback
            except urllib.error.HTTPError:
                pass
    finally:
        server.terminate()
        out, err = server.communicate(timeout=30)
    return out, err


def test_gunicorns_access_log_and_own_lines_are_json_without_query_strings(database_url):
    out, err = _serve_and_read_logs(database_url, VAT_LOG_FORMAT="json")
    assert "Canary-Secret" not in out + err
    lines = [json.loads(line) for line in (out + err).splitlines() if line.strip()]  # every line is JSON
    access = [line for line in lines if line["logger"] == "gunicorn.access"]
    assert [(a["method"], a["path"], a["status"]) for a in access][-4:] == [
        ("GET", "/health", 200),
        ("GET", "/vat/victims", 302),  # its query string is not logged,
        ("GET", "/auth/login", 200),  # nor the login page's `next`, which repeats it
        ("GET", "/nowhere", 404),
    ]
    assert all(
        a["time"].endswith("+00:00") and a["duration_ms"] >= 0 and a["app"] == "vat-ledger" for a in access
    )
    assert any(line["logger"] == "gunicorn.error" and "Booting worker" in line["message"] for line in lines)


def test_a_text_access_log_asked_for_carries_no_query_string(database_url):
    out, err = _serve_and_read_logs(database_url, "--access-logfile", "-")
    assert '"GET /vat/victims HTTP/1.1" 302' in out
    assert "Canary-Secret" not in out + err
