"""victims: needs counted per place, category, type and status, kept in each change's transaction
(issue 14)

The dashboard and the per-victim report counted every need in reach on each view (~140–190 ms of
CPU at 100,000 victims). They now read `vat_need_count` (vat.victims.need_counts): needs per
country, mission, year of registration, sex, age group, need type and status. Filled here from the
needs, as `flask figures rebuild` would, so that an upgraded database is right at once.
"""

from alembic import op

from migrations import schema as t

revision = "1111"
down_revision = "1110"

TABLE = "vat_need_count"
KEY = (*t.VICTIM_CELL, "need_type", "status")


def upgrade():
    op.create_table(
        TABLE,
        *t.victim_cell_columns(),
        t.string("need_type", 20),
        t.string("status", 20),
        t.integer("victims"),
        t.key(TABLE, *KEY),
    )
    keys = f"{t.victim_cell('v')}, n.need_type, n.status"
    op.execute(
        f"INSERT INTO {TABLE} ({', '.join(KEY)}, victims)"  # noqa: S608
        f" SELECT {keys}, COUNT(*) FROM vat_need n JOIN vat_victim v ON v.id = n.victim_id GROUP BY {keys}"
    )


def downgrade():
    t.drop_tables(TABLE)
