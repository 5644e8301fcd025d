"""`flask seed-scale`: synthetic, deterministic data at a hundred times today's volume, for the
benchmarks (issue 7). Victim-assistance rows go in through SQLAlchemy Core `insert()` executemany
in batches, with the models' own column types, so encrypted columns hold real ciphertext
(`seeding.scale_victims`). The ledger's entries are booked by the posting engine in batches
(`seeding.scale_ledger`): every invariant that `flask ledger verify` checks holds afterwards.

Everything is USD (no exchange differences to reconcile) and dated between 2019 and October 2026.
It refuses to run on a database that already holds victims or ledger entries.
"""

from __future__ import annotations

import random
import secrets

import click
from flask.cli import with_appcontext
from sqlalchemy import Connection, func, select, text

from ledger.models import Entry, Posting
from seeding.scale_ledger import ledger_size, seed_ledger
from seeding.scale_plan import COUNTRIES, SEED, Loader, Plan
from seeding.scale_victims import seed_victims
from vat import audit, figures
from vat.auth import services as auth
from vat.auth.models import Role
from vat.db import db
from vat.victims.models import Victim


@click.command("seed-scale")
@with_appcontext
@click.option("--victims", "victim_count", default=100_000, show_default=True, type=click.IntRange(100))
@click.option("--seed", default=SEED, show_default=True, help="seed of the random generator")
def seed_scale(victim_count: int, seed: int) -> None:
    """Load synthetic data at scale (benchmarks): victims, services, allegations, claims, projects
    and about ten ledger postings per victim. Needs a freshly migrated database."""
    if db.session.scalar(select(func.count(Victim.id))) or db.session.scalar(select(func.count(Entry.id))):
        raise click.ClickException("seed-scale needs a freshly migrated database (victims or entries exist)")
    plan = Plan.of(victim_count)
    advocates = _advocates()
    db.session.commit()
    rng = random.Random(seed)  # noqa: S311 - synthetic data, reproducible on purpose
    length = plan.victims + ledger_size(plan)
    with click.progressbar(length=length, label=f"seeding {plan.victims:,} victims", width=30) as bar:
        loader = Loader(bar)
        people = seed_victims(loader, plan, rng, advocates)
        seed_ledger(loader, plan, rng, people)
    for model in (Entry, Posting):  # written by the posting engine, not the loader
        loader.counts[model.__tablename__] = db.session.scalar(select(func.count(model.id))) or 0
    for name, summary in figures.summaries().items():  # the loader wrote around the services
        loader.counts[name] = summary.rebuild()
    db.session.commit()
    with db.engine.connect() as connection:
        _finish(connection)
    audit.record(
        "seed.scale", actor=None, object_type="database", detail={"victims": plan.victims, "seed": seed}
    )
    db.session.commit()
    for table, count in sorted(loader.counts.items()):
        click.echo(f"  {table:<28} {count:>10,}")


def _advocates() -> dict[str, int]:
    """One senior advocate per country (their password is never shown: reset it to use one)."""
    ids = {}
    for country, mission in COUNTRIES:
        user = auth.create_user(
            actor=None,
            username=f"scale-{country.lower()}",
            password=secrets.token_urlsafe(24),
            role=Role.SENIOR_ADVOCATE,
            scope=f"{country}/{mission}" if mission else country,
        )
        ids[country] = user.id
    return ids


def _finish(connection: Connection) -> None:
    """PostgreSQL: move each id sequence past the ids given explicitly. Both: refresh statistics."""
    if connection.dialect.name == "postgresql":
        for table in db.metadata.sorted_tables:
            if "id" in table.c and table.c.id.primary_key and table.c.id.autoincrement is not False:
                following = (connection.scalar(select(func.max(table.c.id))) or 0) + 1
                connection.execute(
                    text("SELECT setval(pg_get_serial_sequence(:table, 'id'), :following, false)"),
                    {"table": table.name, "following": following},
                )
        connection.commit()
        # VACUUM sets the visibility map too (index-only scans); it cannot run in a transaction.
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    else:
        connection.execute(text("ANALYZE"))
    connection.commit()
