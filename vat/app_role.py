"""The PostgreSQL role the application runs as (issue 15, item 6): it owns nothing, so it can
neither change the schema nor disable the triggers that keep the ledger and the audit log
append-only; migrations run as the owner. `flask grant-app-role ROLE`, run as the owner after
each `flask db upgrade`, gives ROLE what the application needs and no more."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import text

from vat.db import db

APPEND_ONLY = ("audit_event", "ledger_entry", "ledger_posting", "ledger_period")


def grants(role: str) -> list[str]:
    """The statements that give `role` the application's rights: rows read and written, but
    append-only tables only read and added to, and the migrations' own table only read."""
    quoted = '"' + role.replace('"', '""') + '"'
    return [
        f"GRANT USAGE ON SCHEMA public TO {quoted}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
        f"REVOKE UPDATE, DELETE, TRUNCATE ON {', '.join(APPEND_ONLY)} FROM {quoted}",
        f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM {quoted}",
    ]


@click.command("grant-app-role")
@click.argument("role")
@with_appcontext
def grant_app_role(role: str) -> None:
    """Give ROLE (an existing PostgreSQL role that owns nothing) the application's rights."""
    if db.engine.dialect.name != "postgresql":
        raise click.ClickException("roles are a PostgreSQL matter: SQLite has none")
    with db.engine.begin() as connection:
        for statement in grants(role):
            connection.execute(text(statement))
    click.echo(f"granted the application's rights to {role}")
