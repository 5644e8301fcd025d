"""schema: long work as jobs, and how far each has got (issue 16, item 2)

job: one row per job (an export, a summary rebuild) run by the Huey worker: its kind, owner
(NULL when started from the command line), state, rows done of the total, the worker's heartbeat,
and the name of the file it made or a message safe to show. A "running" job whose heartbeat is
older than VAT_JOBS_STALE_SECONDS reads as failed (interrupted). No parameters, no identity.
"""

import sqlalchemy as sa
from alembic import op


revision = "1060"
down_revision = "1071"


def upgrade():
    op.create_table(
        "job",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result_path", sa.String(length=64), nullable=True),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "state IN ('queued', 'running', 'finished', 'failed')", name=op.f("ck_job_state")
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["auth_user.id"], name=op.f("fk_job_owner_id_auth_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job")),
    )
    op.create_index(op.f("ix_job_owner_id"), "job", ["owner_id"])


def downgrade():
    op.drop_index(op.f("ix_job_owner_id"), table_name="job")
    op.drop_table("job")
