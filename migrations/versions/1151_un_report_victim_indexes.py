"""issue 14: the UN report's victims named in the period read from two indexes

The UN report counts the victims named in the period's allegations: for each of the period's
(victim, allegation) pairs it read the pair's row for its victim and then the victim's row for
sex and age group (9,572 pairs at 100,000 victims, year 2026). Both are reads of a row in a large
table, so a fresh process reads a page of it for nearly every pair. The pairs' index on the
allegation now holds the victim too and answers the first; one on the victims' (id, sex, age
group, country, mission), every column the report and the scope read, answers the second from a
few hundred pages.

An index on the allegations' received day (with the columns the report reads) was tried too, and
not kept: once `ANALYZE` had seen it, SQLite read the earlier-years tables through it, slower.

On SQLite, a database whose planner has statistics gets them for the two tables again, as in 1148.
"""

from alembic import op

from migrations import schema

revision = "1151"
down_revision = "1148"

PAIRS = "vat_victim_allegation"
PAIRS_INDEX = "ix_vat_victim_allegation_allegation_id"  # the models' name for it, with either columns
INDEXES = {
    "ix_vat_victim_id": ("vat_victim", ["id", "sex", "age_group", "country_code", "mission"]),
}


def upgrade():
    _pairs_index(["allegation_id", "victim_id"])
    schema.create_named_indexes(INDEXES)
    schema.analyze_if_planned("vat_victim", PAIRS)


def downgrade():
    schema.drop_named_indexes(INDEXES)
    _pairs_index(["allegation_id"])


def _pairs_index(columns):
    op.drop_index(PAIRS_INDEX, table_name=PAIRS)
    op.create_index(PAIRS_INDEX, PAIRS, columns)
