"""issue 14: the per-victim report's page and the needs table read from indexes

A senior advocate's /reports/victims chooses its page of victims in country and case-code order
over every victim in their scope; SQLite walked the victims by country and sorted the case codes of
each country it reached, a sort that grew with the page number. An index on (country, case code,
mission) holds the order and every column the scope's conditions read, so the page is found in
the index alone. (An index on (country, case code) without the mission left the scope's missions
to the rows: SQLite then chose a multi-index OR and sorted every victim in reach; not kept.)

The needs table (the dashboard, the per-victim report) sums the need counts by type and status;
an index in that order holding every column lets it add them up without sorting them.

On SQLite, a database whose planner has statistics (`ANALYZE`, as `make bench` runs it) gets them
for the two tables again: with statistics for the other indexes and none for these, SQLite chose
the new victims' index for the scope's claims and the report's filtered pages and read them slower
than before. One without statistics is left without (its plans use these indexes well).
"""

import sqlalchemy as sa
from alembic import op

from migrations import schema

revision = "1148"
down_revision = "1145"

INDEXES = {
    "ix_vat_victim_country_code_case_code": ("vat_victim", ["country_code", "case_code", "mission"]),
    "ix_vat_need_count_need_type_status": (
        "vat_need_count",
        ["need_type", "status", "country_code", "mission", "year", "sex", "age_group", "victims"],
    ),
}


def upgrade():
    schema.create_named_indexes(INDEXES)
    bind = op.get_bind()
    if bind.dialect.name == "sqlite" and bind.scalar(
        sa.text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
    ):
        for table in sorted({table for table, _columns in INDEXES.values()}):
            bind.execute(sa.text(f"ANALYZE {table}"))


def downgrade():
    schema.drop_named_indexes(INDEXES)
