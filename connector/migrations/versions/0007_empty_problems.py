"""empty problems: when a problem lost its last ticket, and when it left the open lists

`emptied_at`: when its last linked ticket left (cleared when a ticket links again).
`dormant_at`: when, empty for `empty_problem_grace_hours`, it left the Known problem dropdown
and the dashboard's open list (cleared when a ticket links to it again). Jira is not touched.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("emptied_at", "dormant_at")


def upgrade() -> None:
    with op.batch_alter_table("problems", schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("problems", schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.drop_column(name)
