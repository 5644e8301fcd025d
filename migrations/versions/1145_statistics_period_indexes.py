"""issue 14: the statistics page's query-set-size control read from indexes

For a fund manager or an auditor the statistics page counts each population by country, mission
and month of its date (vat.reports.statistics.period_cube) to judge whether a quarter or a year
may be shown. Over the victims and the allegations that was a pass over the whole rows (the
victims' are wide: encrypted identities); an index on (country, mission, date) holds every column
the count reads, so the pass is over the index alone. The figures are the same rows' counts.
"""

from alembic import op

revision = "1145"
down_revision = "1111"

INDEXES = {
    "ix_vat_victim_place_registered_on": ("vat_victim", ["country_code", "mission", "registered_on"]),
    "ix_vat_allegation_place_received_on": ("vat_allegation", ["country_code", "mission", "received_on"]),
}


def upgrade():
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns)


def downgrade():
    for name, (table, _columns) in INDEXES.items():
        op.drop_index(name, table_name=table)
