"""Operations commands: users, demo data, backup and restore."""

from __future__ import annotations

from sqlalchemy import func, select

from seeding.cli import register as register_seeding
from vat.audit import AuditEvent
from vat.auth.models import User
from vat.db import db


def count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


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
    assert result.exit_code != 0 and count(app, User) == 0


def test_seed_demo_prints_passwords_once_and_is_idempotent(app, runner):
    register_seeding(app)  # as wsgi.py does: the app itself does not know the seeding commands
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "admin" in first.output and "demo-" in first.output
    users = count(app, User)
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0 and "already loaded" in second.output and "demo-" not in second.output
    assert count(app, User) == users


def test_backup_then_restore_gives_back_the_same_rows(app, runner, tmp_path, make_user):
    make_user()
    before = (count(app, User), count(app, AuditEvent))
    backup = tmp_path / "backup.dump"
    assert runner.invoke(args=["backup", str(backup)]).exit_code == 0
    make_user()
    make_user()
    assert count(app, User) == before[0] + 2
    assert runner.invoke(args=["restore", str(backup)]).exit_code != 0  # needs --yes
    result = runner.invoke(args=["restore", str(backup), "--yes"])
    assert result.exit_code == 0, result.output
    assert (count(app, User), count(app, AuditEvent)) == before
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
