"""suggestions: ticket vectors, proposed problems, auto-link opt-out

The suggestion engine keeps one vector per ticket it has read (the subject and first comment as
numbers, never the text), with the matches it last computed; proposals are the emerging causes
shown to admins, with their tickets. An agent who undoes an auto-link opts the ticket out.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ticket_states") as batch:
        batch.add_column(
            sa.Column("suggestion_opt_out", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "ticket_vectors",
        sa.Column("ticket_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("organization_id", sa.BigInteger(), nullable=True),
        sa.Column("requester_id", sa.BigInteger(), nullable=True),
        sa.Column("ticket_status", sa.String(32), nullable=True),
        sa.Column("ticket_created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("matches", sa.JSON(), nullable=True),
        sa.Column("suggested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("suggested_problem_id", sa.Integer(), nullable=True),
        sa.Column("dismissed", sa.JSON(), nullable=True),
    )
    op.create_index("ix_ticket_vectors_seen_at", "ticket_vectors", ["seen_at"])
    op.create_table(
        "proposals",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("suggested_team", sa.String(64), nullable=True),
        sa.Column("team", sa.String(64), nullable=True),
        sa.Column("summary", sa.String(255), nullable=True),
        sa.Column("decided_by", sa.String(128), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("problem_id", sa.Integer(), sa.ForeignKey("problems.id"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_proposals_state", "proposals", ["state"])
    op.create_table(
        "proposal_tickets",
        sa.Column("proposal_id", sa.Integer(), sa.ForeignKey("proposals.id"), primary_key=True),
        sa.Column("ticket_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("organization_id", sa.BigInteger(), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_proposal_tickets_ticket_id", "proposal_tickets", ["ticket_id"])


def downgrade() -> None:
    op.drop_table("proposal_tickets")
    op.drop_table("proposals")
    op.drop_table("ticket_vectors")
    with op.batch_alter_table("ticket_states") as batch:
        batch.drop_column("suggestion_opt_out")
