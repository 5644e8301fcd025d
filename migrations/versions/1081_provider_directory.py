"""victims: the service-provider directory and referrals that choose from it (issue 18, item 2)

vat_provider: who offers services where (country, location), with the organisation's contact,
languages and availability as of a date; vat_provider_service: the types of service each offers.
vat_assistance.provider_id: the directory's provider a referral chose (NULL for the rows already
there and for providers typed as free text, which are linked when the provider joins the directory).
"""

import sqlalchemy as sa
from alembic import op

from migrations.schema import add_reference, create_indexes, drop_reference, foreign_key

revision = "1081"
down_revision = "1082"  # assigned "1073"; chained after main's head (1084, 1080, then 1082)

SERVICE_TYPES = (
    "'medical', 'psychosocial', 'legal', 'material', 'shelter', 'education', 'livelihood', 'protection', 'other'"
)


def upgrade():
    op.create_table(
        "vat_provider",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("country_code", sa.String(length=3), nullable=False),
        sa.Column("location", sa.String(length=120), nullable=True),
        sa.Column("contact", sa.String(length=500), nullable=True),
        sa.Column("languages", sa.String(length=200), nullable=True),
        sa.Column("availability", sa.String(length=20), nullable=False),
        sa.Column("availability_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "availability IN ('available', 'limited', 'not_available')",
            name=op.f("ck_vat_provider_availability"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vat_provider")),
        sa.UniqueConstraint("country_code", "name", name=op.f("uq_vat_provider_country_code")),
    )
    create_indexes("vat_provider", "country_code")
    op.create_table(
        "vat_provider_service",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("service_type", sa.String(length=20), nullable=False),
        sa.CheckConstraint(
            f"service_type IN ({SERVICE_TYPES})", name=op.f("ck_vat_provider_service_service_type")
        ),
        foreign_key("vat_provider_service", "provider_id", "vat_provider.id", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vat_provider_service")),
        sa.UniqueConstraint("provider_id", "service_type", name=op.f("uq_vat_provider_service_provider_id")),
    )
    create_indexes("vat_provider_service", "provider_id")
    add_reference("vat_assistance", "provider_id", "vat_provider.id")


def downgrade():
    drop_reference("vat_assistance", "provider_id", "vat_provider.id")
    op.drop_table("vat_provider_service")
    op.drop_table("vat_provider")
