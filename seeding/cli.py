"""The seeding commands, added to the app's CLI by wsgi.py (the app itself never imports them)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from seeding.scale import seed_scale
from vat.db import db


def register(app: Flask) -> None:
    for command in (seed_demo, seed_scale, demo_users):
        app.cli.add_command(command)


def _passwords_file() -> Path:
    configured = current_app.config.get("VAT_DEMO_PASSWORDS_FILE")
    return Path(configured) if configured else Path(current_app.instance_path) / "demo-passwords.txt"


def _keep(created: list[tuple[str, str, str]]) -> None:
    """Development only: the demo passwords in the instance folder (mode 0600), for
    `flask demo-users` to show again."""
    path = _passwords_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.write_text(
        "".join(f"{username:<16} {role:<16} {password}\n" for username, role, password in created)
    )


def _refuse_in_production() -> None:
    if current_app.config["VAT_ENV"] == "production":
        raise click.ClickException("demo users are for development: not in production")


@click.command("demo-users")
@click.option("--reset", is_flag=True, help="Give every demo user a new password and show it.")
@with_appcontext
def demo_users(reset: bool) -> None:
    """Development: show the demo users' passwords again, or reset them."""
    from seeding.demo import reset_demo_passwords

    _refuse_in_production()
    if reset:
        _keep(reset_demo_passwords())
        db.session.commit()
    path = _passwords_file()
    if not path.exists():
        raise click.ClickException("no demo passwords kept here: run `flask demo-users --reset`")
    click.echo(f"Demo users (from {path}):")
    click.echo(path.read_text().rstrip())


@click.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """Load demo users and data once; prints the demo passwords on first run only."""
    from seeding.demo import seed_demo as run

    created = run()
    if created is None:
        click.echo("demo data already loaded")
        return
    db.session.commit()
    click.echo("Demo users (roles that see identities enrol a second factor at first sign-in):")
    for username, role, password in created:
        click.echo(f"  {username:<16} {role:<16} {password}")
    if current_app.config["VAT_ENV"] != "production":
        _keep(created)
        click.echo(f"Kept in {_passwords_file()}: `flask demo-users` shows them again, --reset renews them.")
