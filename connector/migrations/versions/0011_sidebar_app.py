"""sidebar app: its installation, sessions, agents' ticket access and queued actions

The Zendesk sidebar app verifies Zendesk's signed JWT with the public key `install` stores,
opens a short-lived bearer session (only the token's hash is kept), reads whether an agent may
see a ticket from what the worker last checked with Zendesk, and keeps each agent action until
the worker applied it (the action travels as an inbound event of source `app`).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "app_installs",
        sa.Column("zendesk_url", sa.String(255), primary_key=True),
        sa.Column("app_id", sa.BigInteger, nullable=False),
        sa.Column("installation_id", sa.BigInteger, nullable=True),
        sa.Column("package_digest", sa.String(64), nullable=False),
        sa.Column("public_key", sa.Text, nullable=True),
        sa.Column("updated_at", _WHEN, nullable=False),
    )
    op.create_table(
        "app_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("expires_at", _WHEN, nullable=False),
    )
    op.create_index("ix_app_sessions_expires_at", "app_sessions", ["expires_at"])
    op.create_table(
        "app_ticket_access",
        sa.Column("user_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("ticket_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("allowed", sa.Boolean, nullable=True),
        sa.Column("reason", sa.String(255), nullable=True),
        sa.Column("checked_at", _WHEN, nullable=True),
        sa.Column("requested_at", _WHEN, nullable=False),
    )
    op.create_table(
        "app_actions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ticket_id", sa.BigInteger, nullable=False),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("problem_id", sa.Integer, nullable=True),
        sa.Column("team", sa.String(64), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "queued",
                "done",
                "refused",
                "failed",
                name="app_action_state",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("message", sa.String(500), nullable=True),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("finished_at", _WHEN, nullable=True),
    )
    op.create_index("ix_app_actions_ticket_id", "app_actions", ["ticket_id"])


def downgrade() -> None:
    op.drop_index("ix_app_actions_ticket_id", "app_actions")
    op.drop_table("app_actions")
    op.drop_table("app_ticket_access")
    op.drop_index("ix_app_sessions_expires_at", "app_sessions")
    op.drop_table("app_sessions")
    op.drop_table("app_installs")
