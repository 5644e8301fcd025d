"""Secrets from files (issue 15, ASVS 5.0 13.3.1): each secret, and each URL that may carry a
password, is read from the file <NAME>_FILE names (a Docker or Kubernetes secret, a file a secrets
manager's agent writes) instead of the environment; production refuses to start with one missing,
weak, unreadable or given twice; no message, log line or command line repeats one."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

import pytest

from tests.conftest import make_app
from tests.test_app import PRODUCTION_SECRETS
from vat import create_app
from vat.auth.policy import public
from vat.config import ConfigurationError

FILED = ("SECRET_KEY", "VAT_DATA_KEY", "VAT_MAC_KEY")


def production_from_files(monkeypatch, tmp_path: Path, **contents: str) -> dict[str, Path]:
    """A production environment whose secrets and database URL are files (as mounted secrets
    are: one value, a line end after it); `contents` replaces what a file holds."""
    monkeypatch.setenv("VAT_ENV", "production")
    monkeypatch.setenv("TRUSTED_HOSTS", "vat.example.org")
    values = {name: str(PRODUCTION_SECRETS[name]) for name in FILED}
    values["DATABASE_URL"] = f"sqlite:///{tmp_path}/p.db"
    files = {}
    for name, value in {**values, **contents}.items():
        monkeypatch.delenv(name, raising=False)
        files[name] = tmp_path / f"{name.lower()}.secret"
        files[name].write_text(value + "\n")
        files[name].chmod(0o400)
        monkeypatch.setenv(f"{name}_FILE", str(files[name]))
    return files


def test_production_starts_with_every_secret_read_from_its_file(monkeypatch, tmp_path):
    production_from_files(monkeypatch, tmp_path)
    app = create_app()
    for name in FILED:
        assert app.config[name] == PRODUCTION_SECRETS[name]
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/p.db"
    assert app.test_client().get("/health", headers={"Host": "vat.example.org"}).status_code == 200


@pytest.mark.parametrize("name", FILED)
def test_a_secret_in_the_environment_and_in_a_file_refuses_to_start(monkeypatch, tmp_path, name):
    production_from_files(monkeypatch, tmp_path)
    monkeypatch.setenv(name, str(PRODUCTION_SECRETS[name]))
    with pytest.raises(ConfigurationError, match=f"^{name} and {name}_FILE are both set"):
        create_app()


@pytest.mark.parametrize("name", [*FILED, "DATABASE_URL"])
def test_a_missing_or_empty_secret_file_refuses_to_start_naming_it(monkeypatch, tmp_path, name):
    files = production_from_files(monkeypatch, tmp_path)
    files[name].write_text("  \n")
    with pytest.raises(ConfigurationError, match=f"^{name}_FILE: .* is empty"):
        create_app()
    files[name].unlink()
    with pytest.raises(ConfigurationError, match=f"^{name}_FILE: cannot read .*FileNotFoundError"):
        create_app()


SENTINEL = "Sentinel"


@pytest.mark.parametrize(
    ("name", "content", "refusal"),
    [
        ("SECRET_KEY", SENTINEL * 2, "^SECRET_KEY is too short"),
        ("VAT_MAC_KEY", SENTINEL * 8, "^VAT_MAC_KEY is too easy to guess"),
        ("VAT_DATA_KEY", f"k1:{SENTINEL}", "^VAT_DATA_KEY: "),
    ],
)
def test_a_weak_secret_from_a_file_is_refused_without_repeating_it(
    monkeypatch, tmp_path, name, content, refusal
):
    production_from_files(monkeypatch, tmp_path, **{name: content})
    with pytest.raises(ConfigurationError, match=refusal) as refused:
        create_app()
    assert SENTINEL not in str(refused.value)


def test_the_secrets_read_from_files_reach_no_log(monkeypatch, tmp_path, caplog, capsys):
    """A start, pages, a refused form and a server error, every logger at DEBUG: no secret, and
    not the database password, in what is logged or printed."""
    url = f"sqlite:///{tmp_path}/p.db"
    production_from_files(monkeypatch, tmp_path)
    caplog.set_level(logging.DEBUG)
    app = create_app()

    @app.get("/broken")
    @public
    def broken() -> str:
        raise RuntimeError("a bug")

    client = app.test_client()
    host = {"Host": "vat.example.org"}
    for path in ("/health", "/auth/login", "/broken", "/ledger/donors"):
        client.get(path, headers=host)
    client.post("/auth/login", data={"username": "nobody", "password": "wrong"}, headers=host)
    printed = capsys.readouterr()
    seen = caplog.text + printed.out + printed.err
    assert "unhandled error" in seen  # the app's own log was caught
    for name in FILED:
        assert str(PRODUCTION_SECRETS[name]) not in seen
    assert url in app.config["SQLALCHEMY_DATABASE_URI"]


def test_the_database_password_never_goes_on_a_command_line(tmp_path, monkeypatch):
    """pg_dump and pg_restore get it in their environment: a command line is in every user's
    process list, and a failure's message repeats it."""
    from vat import cli

    app = make_app("postgresql://vat_app:Pa55-from-a-secret@127.0.0.1:5432/nowhere")
    calls: list[tuple[list[str], dict[str, str]]] = []

    def run(command: list[str], *, env: dict[str, str], check: bool) -> subprocess.CompletedProcess[bytes]:
        calls.append((command, env))
        return subprocess.CompletedProcess(command, 1)

    monkeypatch.setattr(cli.shutil, "which", lambda program: f"/usr/bin/{program}")
    monkeypatch.setattr(cli.subprocess, "run", run)
    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "b.dump")])
    assert result.exit_code == 1 and "pg_dump failed" in result.output
    (command, env) = calls[0]
    assert command[:2] == ["pg_dump", "--dbname=postgresql://vat_app@127.0.0.1:5432/nowhere"]
    assert env["PGPASSWORD"] == "Pa55-from-a-secret"
    assert "Pa55" not in " ".join(command) + result.output
