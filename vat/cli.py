"""Operations from the command line: users, keys, audit, backup and restore (the seeding commands
are in `seeding.cli`)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import Text, select, text, type_coerce, update
from sqlalchemy.engine import URL, make_url

from vat import anchors, audit
from vat.app_role import grant_app_role
from vat.auth import services as auth
from vat.auth.models import Role
from vat.crypto import ENCRYPTED_TYPES, KeyRing, generate_key_entry, key_id_of
from vat.db import Base, db
from vat.errors import DomainError
from vat.figures import figures, summaries
from vat.request_keys import request_keys_group
from vat.retention import retention_group


def register(app: Flask) -> None:
    for command in (create_user, backup, restore, anchor, grant_app_role):
        app.cli.add_command(command)
    app.cli.add_command(keys)
    app.cli.add_command(audit_group)
    app.cli.add_command(figures)
    app.cli.add_command(request_keys_group)
    app.cli.add_command(retention_group)


@click.command("create-user")
@with_appcontext
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--scope", default="", help="e.g. 'CAF, COD/MONUSCO'")
@click.password_option()
def create_user(username: str, role: str, scope: str, password: str) -> None:
    """Create a user (the way to bootstrap the first admin in production)."""
    try:
        auth.create_user(actor=None, username=username, password=password, role=Role(role), scope=scope)
    except DomainError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"created {username} ({role})")


# --- keys ------------------------------------------------------------------------------------


@click.group("keys", cls=AppGroup)
def keys() -> None:
    """Manage the data-encryption key ring."""


@keys.command("generate")
def keys_generate() -> None:
    """Print a new key entry, to put first in VAT_DATA_KEY before `flask keys rotate`."""
    click.echo(generate_key_entry())


@keys.command("rotate")
@click.option(
    "--generate",
    "generate_new",
    is_flag=True,
    help="Development: add a new key to instance/secrets.json first.",
)
def keys_rotate(generate_new: bool) -> None:
    """Re-encrypt every encrypted value under the first key of the ring."""
    if generate_new:
        _prepend_development_key()
    changed = rotate_all()
    db.session.commit()
    click.echo(f"re-encrypted {changed} values under key {current_app.extensions['vat_keyring'].active_id}")


@keys.command("reindex-names")
def keys_reindex_names() -> None:
    """Rebuild the victims' name search indexes (after VAT_MAC_KEY or the indexing changes)."""
    from vat.victims.identity import reindex_names  # the victims' code, only when run

    indexed = reindex_names()
    audit.record("keys.reindex_names", actor=None, detail={"victims": indexed})
    db.session.commit()
    click.echo(f"indexed the names of {indexed} victims")


def _prepend_development_key() -> None:
    if current_app.config["VAT_ENV"] == "production":
        raise click.ClickException("in production, put a new key first in VAT_DATA_KEY instead")
    path = Path(current_app.instance_path) / "secrets.json"
    stored = json.loads(path.read_text())
    stored["VAT_DATA_KEY"] = f"{generate_key_entry()},{stored['VAT_DATA_KEY']}"
    path.write_text(json.dumps(stored, indent=2))
    current_app.config["VAT_DATA_KEY"] = stored["VAT_DATA_KEY"]
    current_app.extensions["vat_keyring"] = KeyRing.parse(stored["VAT_DATA_KEY"])


def _sqlite_file(url: URL) -> str:
    if not url.database:
        raise click.ClickException("DATABASE_URL names no SQLite file")
    return url.database


def rotate_all() -> int:
    """Move every encrypted column to the active key; returns how many values changed."""
    ring: KeyRing = current_app.extensions["vat_keyring"]
    changed = 0
    for table in Base.metadata.sorted_tables:
        encrypted = {c.name: c.type for c in table.columns if isinstance(c.type, ENCRYPTED_TYPES)}
        columns = [c for c in table.columns if c.name in encrypted]
        if not columns:
            continue
        (pk,) = table.primary_key.columns
        raw = [type_coerce(c, Text).label(c.name) for c in columns]
        for row in db.session.execute(select(pk, *raw)).mappings().all():
            values = {}
            for column in columns:
                stored = row[column.name]
                if stored is not None and key_id_of(stored) != ring.active_id:
                    plain = ring.decrypt(stored, encrypted[column.name].context)
                    values[column.name] = type_coerce(
                        ring.encrypt(plain, encrypted[column.name].context), Text
                    )
            if values:
                db.session.execute(update(table).where(pk == row[pk.name]).values(values))
                changed += len(values)
    audit.record("keys.rotate", actor=None, detail={"values": changed, "key": ring.active_id})
    return changed


# --- audit -----------------------------------------------------------------------------------


@click.group("audit", cls=AppGroup)
def audit_group() -> None:
    """The audit log."""


@audit_group.command("verify")
def audit_verify() -> None:
    """Recompute the audit chain; exit 1 naming the first broken row."""
    report = audit.verify()
    if report.problem:
        click.echo(f"audit log BROKEN at {report.problem}", err=True)
        raise SystemExit(1)
    click.echo(f"audit log intact: {report.rows} rows, head {report.head}")


@click.command("anchor")
@with_appcontext
def anchor() -> None:
    """Write both chains' heads, signed, to the append-only anchor file (daily, from cron)."""
    line = _anchor_now("flask anchor")
    click.echo(f"anchored to {anchors.path()}: {json.dumps(line['heads'], sort_keys=True)}")


def _anchor_now(reason: str) -> dict[str, object]:
    from ledger.verify import anchor_heads  # imported when run, as vat.figures does

    line = anchors.signed(anchor_heads(), reason)
    db.session.rollback()
    anchors.append(line)
    return line


# --- backup and restore ----------------------------------------------------------------------


@click.command("backup")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup(path: Path) -> None:
    """Copy the live database to PATH (SQLite online backup API, or pg_dump -Fc)."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(_sqlite_file(url))
        target = sqlite3.connect(path)
        with target:
            source.backup(target)
        source.close()
        target.close()
    else:
        _run_pg("pg_dump", url, "--format=custom", f"--file={path}")
    click.echo(f"backup written to {path}")


@click.command("restore")
@with_appcontext
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Confirm that the current database is replaced.")
def restore(path: Path, yes: bool) -> None:
    """Replace the database with the backup at PATH (refused on PostgreSQL while app servers are
    connected); then rebuild the kept summaries, verify both chains and anchor their heads."""
    if not yes:
        raise click.ClickException("restore replaces every row of the database: add --yes")
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    db.session.remove()
    db.engine.dispose()
    if url.get_backend_name() != "sqlite":
        _refuse_while_connected()
    else:
        _refuse_while_open(_sqlite_file(url))
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(path)
        target = sqlite3.connect(_sqlite_file(url))
        with target:
            source.backup(target)
        source.close()
        target.close()
    else:
        _run_pg("pg_restore", url, "--clean", "--if-exists", "--no-owner", str(path))
    click.echo(f"restored from {path}")
    _after_restore(path)


def _refuse_while_connected(grace: float = 2.0) -> None:
    """Servers connected to the database would answer from a history being replaced under them.
    Only client backends count (autovacuum visits any database), and a client that has just
    hung up (a backup's pg_dump) is given a moment to leave the list."""
    deadline = time.monotonic() + grace
    while True:
        with db.engine.connect() as connection:
            others = connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
                )
            )
        db.engine.dispose()
        if not others or time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    if others:
        raise click.ClickException(
            f"{others} other connections to this database (app servers, workers?): stop them "
            "first. Nothing was restored."
        )


def processes_using(database: str) -> list[int]:
    """Other processes that hold the SQLite file (or its WAL or shared-memory file) open, read
    from /proc (Linux; elsewhere none are found)."""
    wanted = {os.path.realpath(database + suffix) for suffix in ("", "-wal", "-shm")}
    found = []
    for process in Path("/proc").glob("[0-9]*"):
        if int(process.name) == os.getpid():
            continue
        try:
            if any(os.path.realpath(fd) in wanted for fd in (process / "fd").iterdir()):
                found.append(int(process.name))
        except OSError:  # gone, or another user's: not ours to count
            continue
    return sorted(found)


def _refuse_while_open(database: str) -> None:
    """On SQLite, servers and workers that have the file open would go on answering from the
    history being replaced under them (issue 16, item 6)."""
    others = processes_using(database)
    if others:
        raise click.ClickException(
            f"{len(others)} other processes have the database open (app servers, workers?; pids "
            f"{', '.join(map(str, others))}): stop them first. Nothing was restored."
        )


def _after_restore(path: Path) -> None:
    """The summaries from the restored rows, both chains checked, and their heads anchored: the
    restored history is the one to check from now on (its heads may be older than the anchor's)."""
    from ledger.verify import verify  # imported when run, as vat.figures does

    for name, summary in summaries().items():
        click.echo(f"{name}: rebuilt, {summary.rebuild()} rows")
    db.session.commit()
    problem = verify(anchored=False).problem or audit.verify(anchored=False).problem
    db.session.rollback()
    if problem:
        raise click.ClickException(f"the restored database does not verify ({problem}); not anchored")
    _anchor_now(f"restore from {path.name}")
    click.echo("ledger and audit log verify; heads anchored")


def _run_pg(program: str, url: URL, *args: str) -> None:
    """Run a PostgreSQL client tool on the database at `url`. Its password goes in the child's
    environment (PGPASSWORD), never on the command line, which every user of the machine can read
    in the process list and which a failure's message repeats."""
    if shutil.which(program) is None:
        raise click.ClickException(f"{program} is not installed (PostgreSQL client tools)")
    target = url.set(drivername="postgresql")
    environment = dict(os.environ)
    if target.password is not None:
        environment["PGPASSWORD"] = str(target.password)
    bare = URL.create(
        "postgresql", target.username, None, target.host, target.port, target.database, target.query
    ).render_as_string(hide_password=False)
    command = [program, f"--dbname={bare}", *args]
    if subprocess.run(command, env=environment, check=False).returncode != 0:  # noqa: S603 - our own arguments
        raise click.ClickException(f"{program} failed; nothing more was done")
