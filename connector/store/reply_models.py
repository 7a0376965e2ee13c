"""Reply runs: one row per problem and outcome, holding what the per-ticket `Reply` rows cannot:
the approval of that outcome's reply and whether its delivery summary reached Jira.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from connector.store.models import Base, Reply, utcnow


class ReplyRun(Base):
    """The reply of one outcome of one problem (a reopen with the same outcome reuses it)."""

    __tablename__ = "reply_runs"
    __table_args__ = (UniqueConstraint("problem_id", "outcome", name="uq_reply_run"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problems.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(64))
    approved: Mapped[bool] = mapped_column(Boolean, default=False)
    approved_by: Mapped[str | None] = mapped_column(String(128))
    approved_at: Mapped[datetime | None]
    # Why nothing is sent yet (approval required, no solution text); cleared once sending.
    held_reason: Mapped[str | None] = mapped_column(Text)
    # The Jira summary comment: claimed (compare-and-set) before posting, posted after.
    summary_claim: Mapped[str | None] = mapped_column(String(64))
    summary_claimed_at: Mapped[datetime | None]
    summary_posted_at: Mapped[datetime | None]
    summary: Mapped[str | None] = mapped_column(Text)
    # The heartbeat of a fan-out working on this run (None: none is): a watchdog task resumes
    # the run when it stops beating (its worker died), instead of waiting for reconcile.
    fanout_seen_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# The fan-out claims and polls by (problem, outcome, state); the job id finds a job's rows.
Index("ix_replies_run", Reply.problem_id, Reply.outcome, Reply.state, Reply.ticket_id)
Index("ix_replies_job", Reply.job_id)
