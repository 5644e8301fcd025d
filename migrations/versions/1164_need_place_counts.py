"""issue 14: the needs' counts added up by place alone, kept with them

The needs table of the dashboard and of the per-victim report, with no year, sex or age filter,
summed `vat_need_count`'s rows in the viewer's scope: ~17,000 at 100,000 victims, which
PostgreSQL hashed by need type and status in 5-9 ms on each view. `vat_need_place_count` keeps the
same counts by country, mission, need type and status (~350 rows), added to by every change that
adds to the finer rows (vat.victims.need_counts). Filled here from those rows, as `flask figures
rebuild` would.
"""

from alembic import op

from migrations import schema as t

revision = "1164"
down_revision = "1161"

TABLE = "vat_need_place_count"
KEY = ("country_code", "mission", "need_type", "status")


def upgrade():
    op.create_table(
        TABLE,
        t.string("country_code", 3),
        t.string("mission", 40),
        t.string("need_type", 20),
        t.string("status", 20),
        t.integer("victims"),
        t.key(TABLE, *KEY),
    )
    keys = ", ".join(KEY)
    op.execute(
        f"INSERT INTO {TABLE} ({keys}, victims)"  # noqa: S608
        f" SELECT {keys}, SUM(victims) FROM vat_need_count GROUP BY {keys}"
    )


def downgrade():
    t.drop_tables(TABLE)
