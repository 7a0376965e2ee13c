"""drop unused problem flags

`impact_dirty` and `mirror_dirty` were never read (due times decide), and `replies_approved`
duplicated the approval held per outcome in `reply_runs.approved`.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("impact_dirty", "mirror_dirty", "replies_approved")


def upgrade() -> None:
    with op.batch_alter_table("problems", schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.drop_column(name)


def downgrade() -> None:
    with op.batch_alter_table("problems", schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.add_column(
                sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.false())
            )
