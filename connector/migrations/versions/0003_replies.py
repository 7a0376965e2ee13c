"""reply runs and reply indexes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reply_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("problem_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=64), nullable=False),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("approved_by", sa.String(length=128), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("held_reason", sa.Text(), nullable=True),
        sa.Column("summary_claim", sa.String(length=64), nullable=True),
        sa.Column("summary_claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summary_posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["problem_id"], ["problems.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("problem_id", "outcome", name="uq_reply_run"),
    )
    op.create_index("ix_reply_runs_problem_id", "reply_runs", ["problem_id"])
    op.create_index("ix_replies_run", "replies", ["problem_id", "outcome", "state", "ticket_id"])
    op.create_index("ix_replies_job", "replies", ["job_id"])


def downgrade() -> None:
    op.drop_index("ix_replies_job", table_name="replies")
    op.drop_index("ix_replies_run", table_name="replies")
    op.drop_index("ix_reply_runs_problem_id", table_name="reply_runs")
    op.drop_table("reply_runs")
