"""victims: feedback counted per place, category, group, satisfaction and complaint, kept in each
change's transaction (issue 14)

The quality report by service type counted every feedback in reach on each view, joined to its
service or case update and to its victim: two statements that read the victims at 100,000 of them.
It now reads `vat_feedback_count` (vat.victims.feedback_counts): feedback per country, mission, year
of registration, sex, age group, group (the service's type, or case updates), satisfaction and
complaint. Filled here from the feedback, as `flask figures rebuild` would, so that an upgraded
database is right at once.
"""

from alembic import op

from migrations import schema as t

revision = "1158"
down_revision = "1154"

TABLE = "vat_feedback_count"
KEY = (*t.VICTIM_CELL, "grouping", "satisfaction", "complaint")


def upgrade():
    op.create_table(
        TABLE,
        *t.victim_cell_columns(),
        t.string("grouping", 20),
        t.string("satisfaction", 20),
        t.flag("complaint"),
        t.integer("feedback"),
        t.key(TABLE, *KEY),
    )
    keys = f"{t.victim_cell('v')}, COALESCE(a.service_type, 'case_updates'), f.satisfaction, f.complaint"
    op.execute(
        f"INSERT INTO {TABLE} ({', '.join(KEY)}, feedback)"  # noqa: S608
        f" SELECT {keys}, COUNT(*) FROM vat_feedback f JOIN vat_victim v ON v.id = f.victim_id"
        f" LEFT JOIN vat_assistance a ON a.id = f.assistance_id GROUP BY {keys}"
    )


def downgrade():
    t.drop_tables(TABLE)
