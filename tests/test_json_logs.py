"""The application log as JSON lines on stdout and to syslog (ASVS 16.4.3), with nothing in it
that names a victim or carries a query string."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator

import pytest

from tests.conftest import make_app, sign_in
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
    client = app.test_client()
    sign_in(app, client, make_user(Role.FUND_MANAGER, ""))
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
