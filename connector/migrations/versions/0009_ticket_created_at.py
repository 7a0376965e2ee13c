"""ticket created at: when each linked ticket was created in Zendesk

The impact's trend (tickets per day over the last 14 days, and the rate priority rules read) and
*Last customer report* count by the tickets' creation time, not by when they were linked, so
linking old tickets in bulk is not a spike. Null on links made before this revision until the
worker reads the ticket again (their link time stands in).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("links") as batch:
        batch.add_column(sa.Column("ticket_created_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("links") as batch:
        batch.drop_column("ticket_created_at")
