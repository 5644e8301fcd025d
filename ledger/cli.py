"""`flask ledger ...` (commands of the ledger blueprint): show the chart of accounts, verify."""

from __future__ import annotations

import click
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import func, select

from ledger.models import Account
from ledger.verify import verify
from vat.db import db


@click.command("init")
@with_appcontext
def init() -> None:
    """Check that the migration seeded the chart of accounts (run `flask db upgrade` first)."""
    count = db.session.scalar(select(func.count(Account.id)))
    if not count:
        raise click.ClickException("no chart of accounts: run `flask db upgrade heads` first")
    for account in db.session.scalars(select(Account).order_by(Account.code)):
        click.echo(f"{account.code}  {account.name:<32} {account.type}")


@click.command("verify")
@with_appcontext
def verify_command() -> None:
    """Recompute every invariant, balance and the hash chain; exit 1 naming the first problem."""
    report = verify()
    if report.problem:
        click.echo(f"ledger BROKEN: {report.problem}", err=True)
        raise SystemExit(1)
    click.echo(f"ledger intact: {report.entries} entries, {report.postings} postings, head {report.head}")


def attach(group: AppGroup) -> None:
    group.help = "The trust fund's ledger."
    group.add_command(init)
    group.add_command(verify_command)
