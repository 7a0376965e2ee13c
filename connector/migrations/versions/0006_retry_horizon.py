"""retry horizon: events and replies wait out an outage instead of failing; fan-out heartbeat

`next_attempt_at`: a failed event or reply is not tried again before this time (backoff, or the
server's Retry-After). `first_failed_at`: when its current run of failures began; it is parked
as failed only once that is older than CONNECTOR_RETRY_HORIZON_SECONDS.
`reply_runs.fanout_seen_at`: the heartbeat of the fan-out working on a run, so a run whose
worker died is resumed within a minute.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("inbound_events", "replies")
COLUMNS = ("next_attempt_at", "first_failed_at")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in COLUMNS:
                batch_op.add_column(sa.Column(name, sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("reply_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fanout_seen_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reply_runs", schema=None) as batch_op:
        batch_op.drop_column("fanout_seen_at")
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in COLUMNS:
                batch_op.drop_column(name)
