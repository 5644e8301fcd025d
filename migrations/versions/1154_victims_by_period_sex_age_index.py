"""issue 14: the victims registered in a period counted by sex and age group from an index

The statistics page and the UN figures pack count the victims registered in the period by sex
and age group (vat.reports.statistics._victims). SQLite read the period's victims through the
list's index (registered day, id, status, place, advocate) and then each victim's row for its sex
and age group: 12,500 rows of the 100,000 victims' wide table (encrypted identities) for 2026, a
page of it for nearly every victim on a first view. An index on (registered day, country,
mission, sex, age group) holds every column the count and the viewer's scope read, so it is read
alone. The figures are the same rows' counts.

On SQLite, a database whose planner has statistics gets them for the table again, as in 1151.
"""

from migrations import schema

revision = "1154"
down_revision = "1153"

INDEXES = {
    "ix_vat_victim_registered_on": (
        "vat_victim",
        ["registered_on", "country_code", "mission", "sex", "age_group"],
    ),
}


def upgrade():
    schema.create_named_indexes(INDEXES)
    schema.analyze_if_planned("vat_victim")


def downgrade():
    schema.drop_named_indexes(INDEXES)
