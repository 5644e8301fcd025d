"""The factory, configuration guards, headers, CSRF and error pages."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TEST_SETTINGS, csrf_token_in, make_app
from vat import create_app
from vat.auth.models import Role
from vat.auth.policy import public
from vat.config import ConfigurationError

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_SECRETS = {  # as `secrets.token_urlsafe(48)` makes them
    "SECRET_KEY": "q3Xv9LmT0aZ-rW7kHc2NfYs8Ue1JdPb4GoVi6ExRl5MhKtAn_QzCwByDgSu3Fj0Op",
    "VAT_DATA_KEY": "prod1:4IBs-hu2MWSY2LkTCGCRth2CuBcOpqUzLn_8rbSOfn0=",  # random bytes
    "VAT_MAC_KEY": "Lk8-Zp2QwN5vR0tYc7HxJ3mA9sE_bU6gFd1WoKi4CnTeVrMy-SlGh0XaPq7Bj2Du",
    "TRUSTED_HOSTS": ["vat.example.org"],
}


def production_environment(monkeypatch, tmp_path, **changes: str) -> None:
    """The environment of a production start, with `changes` over the real secrets."""
    monkeypatch.setenv("VAT_ENV", "production")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/p.db")
    for key, value in PRODUCTION_SECRETS.items():
        monkeypatch.setenv(key, ",".join(value) if isinstance(value, list) else value)
    for key, value in changes.items():
        monkeypatch.setenv(key, value)


@pytest.mark.parametrize("missing", ["SECRET_KEY", "VAT_DATA_KEY", "VAT_MAC_KEY", "TRUSTED_HOSTS"])
def test_production_refuses_to_start_without_each_secret(monkeypatch, tmp_path, missing):
    for key in ("SECRET_KEY", "VAT_DATA_KEY", "VAT_MAC_KEY", "TRUSTED_HOSTS", "DATABASE_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("VAT_ENV", "production")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/p.db")
    for key, value in PRODUCTION_SECRETS.items():
        if key != missing:
            monkeypatch.setenv(key, ",".join(value) if isinstance(value, list) else value)
    with pytest.raises(ConfigurationError):
        create_app()


WEAK_SECRETS = [
    "dev",
    "a" * 32,
    "p" * 48,
    "abcd" * 8,
    "abcdefghijklmnopqrstuvwxyz012345",
    "0123456789abcdef0123456789abcdef",
    "change-me-change-me-change-me-change-me",
    "qwertyuiopasdfghjklzxcvbnm123456",
    "passwordpasswordpasswordpassword",
]


@pytest.mark.parametrize("secret", WEAK_SECRETS)
@pytest.mark.parametrize("key", ["SECRET_KEY", "VAT_MAC_KEY"])
def test_production_refuses_a_secret_with_little_entropy(monkeypatch, tmp_path, key, secret):
    production_environment(monkeypatch, tmp_path, **{key: secret})
    with pytest.raises(ConfigurationError, match=f"^{key} is too (short|easy to guess)"):
        create_app()


def test_random_secrets_of_128_bits_and_more_are_accepted():
    from vat.config import MIN_SECRET_BITS, _frequency_bits, secret_bits

    assert MIN_SECRET_BITS == 128
    for _ in range(200):
        assert secret_bits(secrets.token_urlsafe(48)) >= MIN_SECRET_BITS
        assert secret_bits(secrets.token_hex(32)) >= MIN_SECRET_BITS
        assert _frequency_bits(os.urandom(32)) >= MIN_SECRET_BITS


def test_production_refuses_128_random_bits_it_cannot_tell_from_fewer(monkeypatch, tmp_path):
    """32 hex digits estimate at 95 to 115 bits: refused, with how to make a longer one."""
    production_environment(monkeypatch, tmp_path, SECRET_KEY=secrets.token_hex(16))
    with pytest.raises(ConfigurationError, match="^SECRET_KEY is too easy to guess.*token_urlsafe"):
        create_app()


@pytest.mark.parametrize(
    "key",
    [bytes(32), b"a" * 16 + b"b" * 16, bytes(range(8)) * 4, b"not a key"],
    ids=["zeros", "ab", "ramp", "short"],
)
def test_production_refuses_a_field_encryption_key_that_is_not_random(monkeypatch, tmp_path, key):
    entry = "k9:" + base64.urlsafe_b64encode(key).decode()
    production_environment(
        monkeypatch, tmp_path, VAT_DATA_KEY=f"{entry},{PRODUCTION_SECRETS['VAT_DATA_KEY']}"
    )
    with pytest.raises(ConfigurationError, match="^VAT_DATA_KEY"):
        create_app()


def test_production_accepts_generated_field_encryption_keys(monkeypatch, tmp_path):
    from vat.crypto import generate_key_entry

    for _ in range(20):
        production_environment(monkeypatch, tmp_path, VAT_DATA_KEY=generate_key_entry())
        assert create_app().config["VAT_ENV"] == "production"


@pytest.mark.parametrize(
    "written", ["Production", "PRODUCTION", "prod", " production", "production ", "dev", "staging", "test"]
)
def test_an_unknown_environment_name_refuses_to_start(monkeypatch, tmp_path, written):
    """A mistyped VAT_ENV used to run as development: no Secure cookie, no HSTS, generated keys."""
    production_environment(monkeypatch, tmp_path, VAT_ENV=written)
    with pytest.raises(
        ConfigurationError, match=r"^VAT_ENV is .*: write exactly one of development, production"
    ):
        create_app()


def test_the_cli_refuses_to_start_with_an_unknown_environment(tmp_path):
    """The message a person starting the server sees, and a failing exit status."""
    environment = {**os.environ, "VAT_ENV": "Production", "DATABASE_URL": f"sqlite:///{tmp_path}/p.db"}
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "routes"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "VAT_ENV is 'Production': write exactly one of development, production" in done.stderr


def test_production_starts_with_real_secrets_and_hardens_cookies(monkeypatch, tmp_path):
    production_environment(monkeypatch, tmp_path)
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_NAME"].startswith("__Host-")
    assert app.config["TRUSTED_HOSTS"] == ["vat.example.org"]
    response = app.test_client().get("/health", headers={"Host": "evil.example"})
    assert response.status_code == 400


def test_production_sends_hsts_runs_without_debug_and_refuses_trace(monkeypatch, tmp_path):
    production_environment(monkeypatch, tmp_path)
    app = create_app()
    assert app.debug is False and app.config["PROPAGATE_EXCEPTIONS"] is not True
    client = app.test_client()
    page = client.get("/auth/login", headers={"Host": "vat.example.org"})
    assert page.status_code == 200
    assert page.headers["Strict-Transport-Security"] == "max-age=63072000; includeSubDomains"
    traced = client.open("/auth/login", method="TRACE", headers={"Host": "vat.example.org"})
    assert traced.status_code == 405 and b"TRACE" not in traced.data


def test_development_generates_and_keeps_its_secrets(monkeypatch, tmp_path):
    from vat import config

    for key in ("SECRET_KEY", "VAT_DATA_KEY", "VAT_MAC_KEY", "VAT_ENV"):
        monkeypatch.delenv(key, raising=False)
    first = config.load(tmp_path, {})
    second = config.load(tmp_path, {})
    assert first["SECRET_KEY"] == second["SECRET_KEY"] and len(first["SECRET_KEY"]) >= 32
    assert first["VAT_DATA_KEY"] == second["VAT_DATA_KEY"]
    assert (tmp_path / "secrets.json").stat().st_mode & 0o077 == 0


def test_postgres_urls_use_psycopg_3(tmp_path):
    from vat import config

    loaded = config.load(tmp_path, {**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": "postgresql://u@h/d"})
    assert loaded["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/d"


def test_security_headers_on_every_page(client, login):
    login(Role.ADMIN, "")
    for path in ("/", "/admin/users", "/auth/login", "/no-such-page"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["Cache-Control"] == "no-store"


def test_static_files_are_served_locally_and_cacheable(client):
    with client.get("/static/app.css") as response:
        assert response.status_code == 200
        assert "no-store" not in response.headers.get("Cache-Control", "")


def test_session_cookie_is_httponly_and_samesite(client, make_user):
    user = make_user(Role.ADMIN, "")
    response = client.post("/auth/login", data={"username": user.username, "password": user.password})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_post_without_csrf_token_is_refused(database_url, make_user):
    app = make_app(database_url, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    user = make_user(Role.ADMIN, "")
    response = client.post("/auth/login", data={"username": user.username, "password": user.password})
    assert response.status_code == 400
    assert "csrf" not in response.get_data(as_text=True).lower() or "Bad request" in response.get_data(
        as_text=True
    )


def test_refused_access_and_refused_csrf_tokens_are_logged_without_the_address(
    database_url, make_user, caplog
):
    app = make_app(database_url, WTF_CSRF_ENABLED=True)
    auditor = make_user(Role.AUDITOR, "")
    client = app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    login = {"username": auditor.username, "password": auditor.password, "csrf_token": csrf_token_in(page)}
    assert client.post("/auth/login", data=login).status_code == 302
    with caplog.at_level("WARNING", logger=app.logger.name):
        assert client.get("/admin/users?q=secret-canary").status_code == 403
        assert client.post("/auth/logout").status_code == 400
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert refusals == [
        f"access refused: GET admin.users by account {auditor.id}",
        "CSRF token refused: POST auth.logout by account not yet read",
    ]
    assert "secret-canary" not in caplog.text


def test_oversized_request_is_refused(client):
    response = client.post("/auth/login", data={"username": "x" * (3 * 1024 * 1024)})
    assert response.status_code == 413


def test_server_error_page_leaks_nothing(database_url, caplog):
    app = make_app(database_url)

    @app.get("/boom")
    @public
    def boom():
        raise RuntimeError("secret-canary-value")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "secret-canary-value" not in body and "Traceback" not in body


def test_health_is_public(client):
    assert client.get("/health").json == {"status": "ok"}


def test_client_address_comes_from_the_trusted_proxy_only(database_url, make_user):
    user = make_user(Role.FUND_MANAGER, "")
    direct = make_app(database_url)
    proxied = make_app(database_url, VAT_PROXY_HOPS=1)
    forwarded = {"X-Forwarded-For": "203.0.113.7"}
    for application in (direct, proxied):
        application.test_client().post(
            "/auth/login", data={"username": user.username, "password": "wrong password!!"}, headers=forwarded
        )
    with direct.app_context():
        from sqlalchemy import select

        from vat.auth.models import LoginThrottle
        from vat.db import db

        keys = set(db.session.scalars(select(LoginThrottle.key)))
    assert "addr:203.0.113.7" in keys  # the proxied app believed its proxy
    assert "addr:127.0.0.1" in keys  # the direct app ignored the forged header
