"""victims: services counted per victim cell and facet, kept in each change's transaction (issue 14)

The assistance and referral reports and the ad-hoc providers read these counts instead of a pass
over every service. The table starts empty: run `flask figures rebuild` after upgrading a database
that has services (`flask figures verify` names every missing count until then).
"""

from alembic import op

from migrations import schema as t

revision = "1096"
down_revision = "1101"

TABLE = "vat_service_tally"
KEY = (
    "facet", "detail", "country_code", "mission", "registered_year", "sex", "minor",
    "value", "provider_id", "service_type", "status", "wait", "days",
)  # fmt: skip


def upgrade():
    op.create_table(
        TABLE,
        t.integer("id"),
        t.flag("detail"),
        t.string("country_code", 3),
        t.string("mission", 40),
        t.integer("registered_year"),
        t.string("sex", 10),
        t.flag("minor"),
        t.string("facet", 10),
        t.string("value", 200),
        t.integer("provider_id"),
        t.string("service_type", 20),
        t.string("status", 20),
        t.string("wait", 5),
        t.integer("days"),
        t.integer("services"),
        t.key(TABLE),
        t.unique(TABLE, *KEY),
    )


def downgrade():
    t.drop_tables(TABLE)
