"""Operations commands: users, demo data, backup and restore."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from seeding.cli import register as register_seeding
from tests.conftest import row_count
from vat.audit import AuditEvent
from vat.auth.models import User
from vat.db import db


def test_create_user_command(app, runner):
    result = runner.invoke(
        args=["create-user", "first.admin", "--role", "admin"],
        input="correct horse battery staple\ncorrect horse battery staple\n",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "first.admin"))
        assert user.password_hash.startswith("$argon2id$")


def test_create_user_refuses_a_weak_password(app, runner):
    result = runner.invoke(args=["create-user", "weak", "--role", "admin"], input="password\npassword\n")
    assert result.exit_code != 0 and row_count(app, User) == 0


def test_seed_demo_prints_passwords_once_and_is_idempotent(app, runner):
    register_seeding(app)  # as wsgi.py does: the app itself does not know the seeding commands
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "admin" in first.output and "demo-" in first.output
    users = row_count(app, User)
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0 and "already loaded" in second.output and "demo-" not in second.output
    assert row_count(app, User) == users


def test_demo_users_shows_the_passwords_again_and_resets_them(app, runner):
    """Issue 19, item 7: in development the demo passwords can be seen again, or renewed."""
    from vat.auth import services as auth

    register_seeding(app)
    first = runner.invoke(args=["seed-demo"]).output
    shown = runner.invoke(args=["demo-users"])
    assert shown.exit_code == 0
    admin_line = next(line for line in first.splitlines() if line.strip().startswith("admin "))
    assert admin_line.split()[-1] in shown.output
    reset = runner.invoke(args=["demo-users", "--reset"])
    assert reset.exit_code == 0
    new_password = next(line for line in reset.output.splitlines() if line.startswith("admin ")).split()[-1]
    assert new_password != admin_line.split()[-1]
    with app.app_context():
        assert auth.authenticate(username="admin", password=new_password, address=None).username == "admin"
        db.session.commit()
    page = app.test_client().get("/auth/login").get_data(as_text=True)
    assert 'id="demo-users-hint"' in page and "flask demo-users" in page
    app.config["VAT_ENV"] = "production"
    assert 'id="demo-users-hint"' not in app.test_client().get("/auth/login").get_data(as_text=True)
    refused = runner.invoke(args=["demo-users"])
    assert refused.exit_code != 0 and "development" in refused.output


def test_backup_then_restore_gives_back_the_same_rows(app, runner, tmp_path, make_user):
    make_user()
    before = (row_count(app, User), row_count(app, AuditEvent))
    backup = tmp_path / "backup.dump"
    assert runner.invoke(args=["backup", str(backup)]).exit_code == 0
    make_user()
    make_user()
    assert row_count(app, User) == before[0] + 2
    assert runner.invoke(args=["restore", str(backup)]).exit_code != 0  # needs --yes
    result = runner.invoke(args=["restore", str(backup), "--yes"])
    assert result.exit_code == 0, result.output
    assert (row_count(app, User), row_count(app, AuditEvent)) == before
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def _book(app, amount):
    from decimal import Decimal

    from ledger.engine import CASH, CONTRIBUTIONS, Line
    from tests.ledger.conftest import post_receipt

    with app.app_context():
        lines = [Line(CASH, "USD", Decimal(amount)), Line(CONTRIBUTIONS, "USD", -Decimal(amount))]
        post_receipt(lines)
        db.session.commit()


def test_restore_rebuilds_the_summaries_verifies_and_anchors(app, runner, tmp_path):
    """A backup taken with a ledger summary off (altered behind the app) comes back with the
    summary rebuilt from its postings; an older backup restored after an anchor is anchored anew."""
    from sqlalchemy import text

    from vat import anchors
    from vat.figures import differences

    _book(app, "100")
    with app.app_context():
        db.session.execute(text("UPDATE ledger_balance SET usd_minor = usd_minor + 1"))
        db.session.commit()
        assert differences()
    backup = tmp_path / "backup.dump"
    assert runner.invoke(args=["backup", str(backup)]).exit_code == 0
    _book(app, "200")
    assert runner.invoke(args=["anchor"]).exit_code == 0
    result = runner.invoke(args=["restore", str(backup), "--yes"])
    assert result.exit_code == 0, result.output
    assert "ledger balances: rebuilt" in result.output and "heads anchored" in result.output
    with app.app_context():
        assert differences() == []
        assert anchors.latest()[0]["reason"] == "restore from backup.dump"
    assert runner.invoke(args=["ledger", "verify"]).exit_code == 0
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def test_a_restored_database_that_does_not_verify_is_not_anchored(app, runner, tmp_path):
    from sqlalchemy import text

    from vat import anchors
    from vat.db import drop_append_only_ddl

    _book(app, "100")
    with app.app_context():
        for ddl in drop_append_only_ddl("audit_event", db.engine.dialect.name):
            db.session.execute(text(ddl))
        db.session.execute(text("UPDATE audit_event SET action = 'altered' WHERE id = 1"))
        db.session.commit()
    backup = tmp_path / "backup.dump"
    assert runner.invoke(args=["backup", str(backup)]).exit_code == 0
    result = runner.invoke(args=["restore", str(backup), "--yes"])
    assert result.exit_code == 1 and "does not verify" in result.output
    with app.app_context():
        assert anchors.latest() == (None, None)


def test_restore_is_refused_while_a_server_is_connected(app, runner, tmp_path, database_url):
    import pytest
    from sqlalchemy import create_engine

    from tests.conftest import BACKEND

    if BACKEND != "postgres":
        pytest.skip("SQLite has no list of connected clients: its backup API restores under a lock")
    backup = tmp_path / "backup.dump"
    assert runner.invoke(args=["backup", str(backup)]).exit_code == 0
    server = create_engine(database_url)
    with server.connect():
        result = runner.invoke(args=["restore", str(backup), "--yes"])
    server.dispose()
    assert result.exit_code == 1 and "1 other connections" in result.output
    assert "Nothing was restored" in result.output


def test_restore_on_sqlite_refuses_while_another_process_has_the_database_open(
    app, runner, tmp_path, make_user, database_url
):
    """Issue 16, item 6: a server or worker with the file open would answer from the history
    being replaced; restore names it and restores nothing until it has stopped."""
    import subprocess
    import sys

    from sqlalchemy.engine import make_url

    if make_url(database_url).get_backend_name() != "sqlite":
        pytest.skip("PostgreSQL counts the other connections (pg_stat_activity)")
    backup = tmp_path / "backup.dump"
    assert runner.invoke(args=["backup", str(backup)]).exit_code == 0
    make_user()
    users = row_count(app, User)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('select 1');"
         " print('open', flush=True); sys.stdin.read()", make_url(database_url).database],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        refused = runner.invoke(args=["restore", str(backup), "--yes"])
        assert refused.exit_code != 0 and f"pids {holder.pid}" in refused.output, refused.output
        assert "Nothing was restored" in refused.output and row_count(app, User) == users
    finally:
        holder.communicate("")
    result = runner.invoke(args=["restore", str(backup), "--yes"])
    assert result.exit_code == 0, result.output
    assert row_count(app, User) == users - 1
