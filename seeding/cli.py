"""The seeding commands, added to the app's CLI by wsgi.py (the app itself never imports them)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext

from seeding.scale import seed_scale
from vat.db import db


def register(app: Flask) -> None:
    for command in (seed_demo, seed_scale):
        app.cli.add_command(command)


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
    click.echo("Demo users (shown once; roles that see identities enrol a second factor at first sign-in):")
    for username, role, password in created:
        click.echo(f"  {username:<16} {role:<16} {password}")
