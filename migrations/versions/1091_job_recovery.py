"""jobs: runs begun of each job, and the workers' heartbeats (issue 16)

job.attempts counts the runs a job began: a recoverable job (an import) whose worker died is
queued again up to three runs. job_worker holds one row per running `flask jobs worker`, beaten
every few seconds: a job page says when no worker runs.
"""

import sqlalchemy as sa
from alembic import op

revision = "1091"
down_revision = "1089"


def upgrade():
    with op.batch_alter_table("job") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "job_worker",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_worker")),
    )


def downgrade():
    op.drop_table("job_worker")
    with op.batch_alter_table("job") as batch:
        batch.drop_column("attempts")
