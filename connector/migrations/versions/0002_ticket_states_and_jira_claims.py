"""ticket states and jira claims

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ticket_states",
        sa.Column("ticket_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("signals", sa.JSON(), nullable=True),
        sa.Column("rule_opt_out", sa.Boolean(), nullable=False),
        sa.Column("noted_unknown_key", sa.String(length=64), nullable=True),
        sa.Column("pending_unlink_key", sa.String(length=64), nullable=True),
        sa.Column("zendesk_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("ticket_id"),
    )
    with op.batch_alter_table("inbound_events", schema=None) as batch_op:
        batch_op.alter_column("content_hash", existing_type=sa.String(length=64), nullable=True)
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("problems", schema=None) as batch_op:
        batch_op.add_column(sa.Column("impact_written", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("impact_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column(
                "remote_link_written", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.add_column(sa.Column("jira_claim", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("jira_claimed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("problems", schema=None) as batch_op:
        batch_op.drop_column("jira_claimed_at")
        batch_op.drop_column("jira_claim")
        batch_op.drop_column("remote_link_written")
        batch_op.drop_column("impact_due_at")
        batch_op.drop_column("impact_written")

    op.drop_table("ticket_states")
    with op.batch_alter_table("inbound_events", schema=None) as batch_op:
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("claimed_by")
        batch_op.alter_column("content_hash", existing_type=sa.String(length=64), nullable=False)
