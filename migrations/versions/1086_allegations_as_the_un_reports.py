"""vat: allegations recorded as the UN reports them; historical services (issue 17, items 1 and 7)

vat_allegation gains the entity category (peacekeeping operations and special political missions;
agencies, funds and programmes; implementing partners; non-UN forces), the number of alleged
perpetrators, the investigating entity and the investigation status, each NULL when not recorded,
and a CHECK on the sub-type. Rows already there get an entity category only where their personnel
category says it (uniformed personnel serve in peacekeeping operations and special political
missions; implementing partners and non-UN forces are categories of their own), an investigation
status only where it is completed (a completion date or an outcome); the rest stays not recorded.
vat_assistance gains `historical`: a service from an old tracker, which kept no end date or consent.
"""

import sqlalchemy as sa
from alembic import op

from migrations.schema import is_one_of

revision = "1086"
down_revision = "1091"

ENTITY_CATEGORIES = ("peacekeeping", "agency", "implementing_partner", "non_un_force")
SUB_TYPES = (
    "transactional_sex",
    "exploitative_relationship",
    "rape",
    "sexual_assault",
    "sexual_activity_with_minor",
    "other",
)
INVESTIGATING_ENTITIES = (
    "national_investigation_officer",
    "oios",
    "mission",
    "agency",
    "national_authorities",
    "joint",
)
INVESTIGATION_STATUSES = ("under_review", "referred", "ongoing", "completed", "closed_without_investigation")
UNIFORMED = ("military_contingent", "military_expert", "formed_police", "individual_police")


def upgrade():
    with op.batch_alter_table("vat_allegation") as batch:
        batch.add_column(sa.Column("entity_category", sa.String(length=30), nullable=True))
        batch.add_column(sa.Column("perpetrators", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("investigating_entity", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("investigation_status", sa.String(length=40), nullable=True))
        for column, values in (
            ("entity_category", ENTITY_CATEGORIES),
            ("sub_type", SUB_TYPES),
            ("investigating_entity", INVESTIGATING_ENTITIES),
            ("investigation_status", INVESTIGATION_STATUSES),
        ):
            batch.create_check_constraint(op.f(f"ck_vat_allegation_{column}"), is_one_of(column, values))
        batch.create_check_constraint(op.f("ck_vat_allegation_perpetrators"), "perpetrators >= 1")
    op.execute(
        f"UPDATE vat_allegation SET entity_category = 'peacekeeping' WHERE {is_one_of('personnel_category', UNIFORMED)}"
    )
    op.execute(
        "UPDATE vat_allegation SET entity_category = personnel_category "
        "WHERE personnel_category IN ('implementing_partner', 'non_un_force')"
    )
    op.execute(
        "UPDATE vat_allegation SET investigation_status = 'completed' "
        "WHERE investigation_completed_on IS NOT NULL OR outcome <> 'pending'"
    )
    with op.batch_alter_table("vat_assistance") as batch:
        batch.add_column(sa.Column("historical", sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table("vat_assistance") as batch:  # the rows there are filled: the model sets it
        batch.alter_column("historical", server_default=None)


def downgrade():
    with op.batch_alter_table("vat_assistance") as batch:
        batch.drop_column("historical")
    with op.batch_alter_table("vat_allegation") as batch:
        for column in (
            "perpetrators",
            "investigation_status",
            "investigating_entity",
            "sub_type",
            "entity_category",
        ):
            batch.drop_constraint(op.f(f"ck_vat_allegation_{column}"), type_="check")
        batch.drop_column("investigation_status")
        batch.drop_column("investigating_entity")
        batch.drop_column("perpetrators")
        batch.drop_column("entity_category")
