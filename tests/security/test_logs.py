"""Identities and secrets never reach the logs. A live server (with its access log) serves a
session that registers a victim with canary identity values, opens, edits and searches for her,
exports, signs in wrongly and rightly; every logger is captured at DEBUG, SQL included, and
searched for the canaries, the passwords, the session cookie and the key material."""

from __future__ import annotations

import base64
import logging
import re
import threading

import pyotp
import pytest
from werkzeug.serving import make_server

from tests.conftest import PASSWORD, TEST_SETTINGS, make_app
from tests.security.forms import rendered_values
from tests.soak.conftest import Client
from vat.auth.models import Role, User
from vat.db import db

CANARIES = {
    "name": "Canarywood Zelphine",
    "aliases": "Zelphine Qanary",
    "contact": "+236 70 31 41 59 canary",
    "location": "Canary quarter, Bangui",
    "notes": "canary-notes: told us about the night at the checkpoint",
}
WRONG_PASSWORD = "canary wrong password 7731"


@pytest.fixture
def live_app(database_url):
    app = make_app(database_url, WTF_CSRF_ENABLED=True)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    server.server_close()


def submit(client: Client, path: str, overrides: dict[str, str], action: str | None = None):
    status, page = client.request(path)
    assert status == 200, (path, status)
    fields = {name: values[0] for name, values in rendered_values(page).items()}
    return client.request(action or path, {**fields, **overrides})


def secrets_of(app) -> list[str]:
    data_key = TEST_SETTINGS["VAT_DATA_KEY"].split(":", 1)[1]
    return [
        TEST_SETTINGS["SECRET_KEY"],
        TEST_SETTINGS["VAT_MAC_KEY"],
        data_key,
        base64.b64decode(data_key).hex(),
        PASSWORD,
        WRONG_PASSWORD,
    ]


def test_identities_and_secrets_never_reach_the_logs(live_app, make_user, caplog):
    app, url = live_app
    caplog.set_level(logging.DEBUG)
    for noisy in ("sqlalchemy.engine", "werkzeug", "vat", "ledger"):
        logging.getLogger(noisy).setLevel(logging.DEBUG)

    advocate = make_user(Role.ADVOCATE, "CAF")
    with app.app_context():
        totp = pyotp.TOTP(db.session.get(User, advocate.id).totp_secret)
    client = Client(url)
    wrong = {"username": advocate.username, "password": WRONG_PASSWORD}
    assert client.request("/auth/login", wrong)[0] == 400  # no CSRF token
    assert client.post_form("/auth/login", wrong)[0] == 200
    status, _ = client.post_form("/auth/login", {"username": advocate.username, "password": PASSWORD})
    assert status == 302
    assert client.post_form("/auth/login/code", {"code": totp.now()})[0] == 302
    cookie = client.session_cookie()

    status, _ = submit(client, "/vat/victims/new", {"country_code": "CAF", "sex": "female", **CANARIES})
    assert status == 302, "the victim was not registered"
    status, _ = client.post_form(
        "/vat/victims/by-name", {"name": CANARIES["name"]}, token_from="/vat/victims"
    )
    assert status == 302 and client.location, status  # to the list, the search held in the session
    status, found = client.request(client.location.replace(client.base_url, ""))
    assert status == 200
    victim = re.search(r'href="(/vat/victims/\d+)"', found).group(1)
    status, page = client.request(victim)
    assert status == 200 and CANARIES["name"] in page  # shown to her advocate, and only there
    status, _ = submit(client, f"{victim}/edit", {"notes": CANARIES["notes"] + " (edited)"})
    assert status == 302
    status, _ = client.post_form("/reports/victims/download.csv", {})  # the export, run as a job
    assert status == 303 and client.location, status
    job = client.location.replace(client.base_url, "")
    for path in (
        "/vat/victims",
        job,
        f"{job}/file",
        "/reports/victims",
        "/vat/attention",
        "/nowhere",
    ):
        assert client.request(path)[0] in (200, 302, 404)

    logged = caplog.text + "\n".join(str(r.args) for r in caplog.records)
    assert "GET /vat/victims" in logged  # the access log was captured
    assert "SELECT" in logged and "INSERT INTO vat_victim" in logged  # and the SQL log
    leaks = [value for value in (*CANARIES.values(), *secrets_of(app), cookie) if value in logged]
    where = [r.name for r in caplog.records if any(v in f"{r.getMessage()} {r.args}" for v in leaks)]
    assert not leaks, (leaks, sorted(set(where)))
