"""allegations: whom each step of the accountability cycle concerns (issue 17, sanctions per person)

The UN counts sanctions per person (SG §66: administrative action against 25 military and 2
police personnel; OIOS §90: 25 of 84 perpetrators imprisoned), and one allegation's alleged
perpetrators can meet different fates. vat_accountability_step_person names, by number within
the allegation, the alleged perpetrators a step concerns.

Existing steps were recorded for the allegation as a whole: each is taken to concern every
alleged perpetrator recorded on its allegation (1 to its number; person 1 when the number is
not recorded), which is what counting them per allegation assumed.
"""

import sqlalchemy as sa
from alembic import op

from migrations.schema import check, foreign_key, integer, key

revision = "1099"
down_revision = "1092"

TABLE = "vat_accountability_step_person"


def upgrade():
    persons = op.create_table(
        TABLE,
        integer("step_id"),
        integer("person"),
        check(TABLE, "person", "person >= 1"),
        foreign_key(TABLE, "step_id", "vat_accountability_step.id", ondelete="CASCADE"),
        key(TABLE, "step_id", "person"),
    )
    recorded = op.get_bind().execute(
        sa.text(
            "SELECT s.id, COALESCE(a.perpetrators, 1) FROM vat_accountability_step s "
            "JOIN vat_allegation a ON a.id = s.allegation_id"
        )
    )
    rows = [{"step_id": step, "person": n} for step, count in recorded for n in range(1, count + 1)]
    if rows:
        op.bulk_insert(persons, rows)


def downgrade():
    op.drop_table(TABLE)
