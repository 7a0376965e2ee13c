"""The source of truth: problems, links, replies, inbound events, audit timeline, watermarks."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite forgets the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use timezone-aware UTC")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
    }


class ProblemState(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    DELETED = "deleted"


class LinkVia(enum.StrEnum):
    PROBLEM_TICKET = "problem_ticket"
    INCIDENT = "incident"
    KNOWN_PROBLEM = "known_problem"
    JIRA_FIELD = "jira_field"
    RULE = "rule"
    RELINK = "relink"
    SUGGESTION = "suggestion"  # auto-linked by the suggestion engine (an agent may undo it)
    PROPOSAL = "proposal"  # linked when an admin accepted a proposed problem


class ReplyState(enum.StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"
    SENT = "sent"
    FOLLOWUP = "followup"
    SKIPPED = "skipped"
    FAILED = "failed"


class EventState(enum.StrEnum):
    PENDING = "pending"
    PROCESSED = "processed"
    IGNORED = "ignored"
    FAILED = "failed"


def _enum(kind: type[enum.Enum], name: str) -> Enum:
    return Enum(kind, name=name, native_enum=False, length=20, values_callable=_values)


def _values(kind: type[enum.Enum]) -> list[str]:
    return [member.value for member in kind]


# Row ids are SQL INTEGERs (32-bit on PostgreSQL): a larger id names no row, rather than a 500.
MAX_ROW_ID = 2**31 - 1


class Problem(Base):
    """One cause, owned by one team, tracked as one Jira issue."""

    __tablename__ = "problems"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Identity of the cause ("zendesk:123", "rule:shipping:lost parcels", "jira:10001"); unique
    # so that concurrent workers racing to create the same problem collide in the database.
    cause_key: Mapped[str] = mapped_column(String(255), unique=True)
    team: Mapped[str] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(String(255))
    state: Mapped[ProblemState] = mapped_column(
        _enum(ProblemState, "problem_state"), default=ProblemState.OPEN, index=True
    )
    zendesk_problem_ticket_id: Mapped[int | None] = mapped_column(BigInteger)
    # Jira: the id is the identity (it survives a move to another project); the key is shown.
    jira_issue_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    jira_key: Mapped[str | None] = mapped_column(String(64), index=True)
    jira_status: Mapped[str | None] = mapped_column(String(128))
    jira_status_category: Mapped[str | None] = mapped_column(String(32))
    jira_resolution: Mapped[str | None] = mapped_column(String(128))
    jira_updated_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(64))
    solution_text: Mapped[str | None] = mapped_column(Text)
    solution_kind: Mapped[str | None] = mapped_column(String(64))
    due_date: Mapped[date | None] = mapped_column(Date)
    fix_version: Mapped[str | None] = mapped_column(String(255))
    ticket_count: Mapped[int] = mapped_column(Integer, default=0)
    open_ticket_count: Mapped[int] = mapped_column(Integer, default=0)
    organization_count: Mapped[int] = mapped_column(Integer, default=0)
    customer_value: Mapped[float] = mapped_column(Float, default=0.0)
    first_linked_at: Mapped[datetime | None]
    last_linked_at: Mapped[datetime | None]
    priority_set: Mapped[str | None] = mapped_column(String(64))
    priority_human_override: Mapped[bool] = mapped_column(Boolean, default=False)
    impact_written_at: Mapped[datetime | None]
    impact_written: Mapped[dict[str, Any] | None]
    impact_due_at: Mapped[datetime | None]
    remote_link_written: Mapped[bool] = mapped_column(Boolean, default=False)
    # Who is creating the Jira issue right now (compare-and-set), so only one process does.
    jira_claim: Mapped[str | None] = mapped_column(String(64))
    jira_claimed_at: Mapped[datetime | None]
    mirrored: Mapped[dict[str, Any] | None]
    mirror_written_at: Mapped[datetime | None]
    mirror_due_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    resolved_at: Mapped[datetime | None]
    # When its last ticket left; and when, empty for `empty_problem_grace_hours`, it left the
    # Known problem dropdown and the open list (a ticket linking again clears both).
    emptied_at: Mapped[datetime | None]
    dormant_at: Mapped[datetime | None]

    links: Mapped[list[Link]] = relationship(back_populates="problem")


class Link(Base):
    """A ticket linked to a problem. The ticket id is the key: a ticket has at most one problem."""

    __tablename__ = "links"

    ticket_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problems.id"), index=True)
    via: Mapped[LinkVia] = mapped_column(_enum(LinkVia, "link_via"))
    linked_by: Mapped[str | None] = mapped_column(String(128))
    organization_id: Mapped[int | None] = mapped_column(BigInteger)
    requester_id: Mapped[int | None] = mapped_column(BigInteger)
    ticket_status: Mapped[str | None] = mapped_column(String(32))
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)
    ticket_created_at: Mapped[datetime | None]  # in Zendesk; null until the worker reads it
    confirmed: Mapped[bool] = mapped_column(Boolean, default=False)

    problem: Mapped[Problem] = relationship(back_populates="links")


class TicketState(Base):
    """What the connector last saw of a ticket's linking signals, to tell an agent's fresh
    action from a value it wrote itself, and the notes it already left."""

    __tablename__ = "ticket_states"

    ticket_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    signals: Mapped[dict[str, Any] | None]
    rule_opt_out: Mapped[bool] = mapped_column(Boolean, default=False)
    # An agent undid an auto-link (cleared Known problem): the engine never links it again.
    suggestion_opt_out: Mapped[bool] = mapped_column(Boolean, default=False)
    noted_unknown_key: Mapped[str | None] = mapped_column(String(64))
    # Set when the ticket was unlinked, cleared once the ticket shows it (field and note).
    pending_unlink_key: Mapped[str | None] = mapped_column(String(64))
    zendesk_updated_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TicketVector(Base):
    """A ticket's text as the suggestion engine sees it: the vector of its subject and first
    comment (never the text itself), what it was last suggested, and whether the engine may
    learn from it. Kept while the ticket is linked or recent (`suggestions.retention_days`)."""

    __tablename__ = "ticket_vectors"

    ticket_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    vector: Mapped[bytes] = mapped_column(LargeBinary)  # float32, unit length
    organization_id: Mapped[int | None] = mapped_column(BigInteger)
    requester_id: Mapped[int | None] = mapped_column(BigInteger)
    ticket_status: Mapped[str | None] = mapped_column(String(32))
    ticket_created_at: Mapped[datetime | None]
    seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # The top matches last computed: [{"problem_id": 3, "confidence": 0.91}, ...], best first.
    matches: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    suggested_at: Mapped[datetime | None]
    # The problem the connector last put in the Suggested problem field, and the problems an
    # agent dismissed from it (cleared or changed the field): never suggested there again.
    suggested_problem_id: Mapped[int | None] = mapped_column(Integer)
    dismissed: Mapped[list[int] | None] = mapped_column(JSON)


class ProposalState(enum.StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"  # an admin accepted it: the worker creates the problem and links
    APPLIED = "applied"  # the problem exists and its tickets are linked
    DISMISSED = "dismissed"


class Proposal(Base):
    """Recent unlinked tickets alike to each other and to no open problem: a cause nobody has
    filed yet, proposed to an admin."""

    __tablename__ = "proposals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[ProposalState] = mapped_column(
        _enum(ProposalState, "proposal_state"), default=ProposalState.OPEN, index=True
    )
    suggested_team: Mapped[str | None] = mapped_column(String(64))
    team: Mapped[str | None] = mapped_column(String(64))  # chosen on acceptance
    summary: Mapped[str | None] = mapped_column(String(255))
    decided_by: Mapped[str | None] = mapped_column(String(128))
    decided_at: Mapped[datetime | None]
    problem_id: Mapped[int | None] = mapped_column(ForeignKey("problems.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    tickets: Mapped[list[ProposalTicket]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan"
    )


class ProposalTicket(Base):
    __tablename__ = "proposal_tickets"

    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, index=True)
    organization_id: Mapped[int | None] = mapped_column(BigInteger)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    proposal: Mapped[Proposal] = relationship(back_populates="tickets")


class Reply(Base):
    """Delivery state of one resolution reply: one row per ticket, problem and outcome."""

    __tablename__ = "replies"
    __table_args__ = (
        UniqueConstraint("problem_id", "ticket_id", "outcome", name="uq_reply_once"),
        Index("ix_replies_problem_state", "problem_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problems.id"))
    ticket_id: Mapped[int] = mapped_column(BigInteger)
    outcome: Mapped[str] = mapped_column(String(64))
    state: Mapped[ReplyState] = mapped_column(
        _enum(ReplyState, "reply_state"), default=ReplyState.PENDING
    )
    batch_id: Mapped[str | None] = mapped_column(String(64), index=True)
    job_id: Mapped[str | None] = mapped_column(String(128))
    claimed_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    followup_ticket_id: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)
    # After a failure: not tried again before `next_attempt_at`; parked as failed once its run
    # of failures (since `first_failed_at`) outlasts the retry horizon.
    next_attempt_at: Mapped[datetime | None]
    first_failed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class InboundEvent(Base):
    """A webhook delivery, stored before it is acknowledged and kept until processed."""

    __tablename__ = "inbound_events"
    __table_args__ = (
        UniqueConstraint("source", "delivery_id", name="uq_event_delivery"),
        UniqueConstraint("source", "content_hash", name="uq_event_content"),
        Index("ix_events_state", "state", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    delivery_id: Mapped[str] = mapped_column(String(128))
    # Cleared once processed: identical content is a duplicate only while the first copy
    # still waits (it will read the ticket's latest state); later, it is a new change.
    content_hash: Mapped[str | None] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(128))
    subject_id: Mapped[str | None] = mapped_column(String(64), index=True)
    payload: Mapped[dict[str, Any] | None]
    state: Mapped[EventState] = mapped_column(
        _enum(EventState, "event_state"), default=EventState.PENDING
    )
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A worker claims a batch before processing it, so two workers never take the same events.
    claimed_by: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[datetime | None]
    processed_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    # After a failure: not claimed again before `next_attempt_at`; parked as failed once its
    # run of failures (since `first_failed_at`) outlasts the retry horizon.
    next_attempt_at: Mapped[datetime | None]
    first_failed_at: Mapped[datetime | None]


class AuditEntry(Base):
    """The timeline of a problem: links, moves, unlinks, mirrors, replies, with who and why."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problems.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(64))
    ticket_id: Mapped[int | None] = mapped_column(BigInteger)
    actor: Mapped[str | None] = mapped_column(String(128))
    detail: Mapped[dict[str, Any] | None]


class Watermark(Base):
    """How far a periodic sync has read (e.g. the Jira `updated` time of the last poll)."""

    __tablename__ = "watermarks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ZendeskName(Base):
    """The name of a Zendesk user or organization as the worker last read it (sideloaded with
    the tickets it reads anyway), so the dashboard shows names without calling Zendesk."""

    __tablename__ = "zendesk_names"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # "user" | "organization"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(255))
    # A user's role (end-user, agent, admin): an agent's problem ticket gets a note, not a reply.
    role: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AppInstall(Base):
    """The sidebar app as `connector install` left it in one Zendesk account: what verifying
    its signed requests needs (the app's public key and installation) and what was uploaded."""

    __tablename__ = "app_installs"

    zendesk_url: Mapped[str] = mapped_column(String(255), primary_key=True)
    app_id: Mapped[int] = mapped_column(BigInteger)
    installation_id: Mapped[int | None] = mapped_column(BigInteger)
    package_digest: Mapped[str] = mapped_column(String(64))
    public_key: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AppSession(Base):
    """A short-lived bearer session of the sidebar, opened by a verified Zendesk JWT. Only the
    token's SHA-256 is kept: a database read gives no usable token."""

    __tablename__ = "app_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class TicketAccess(Base):
    """Whether an agent may see a ticket, as the worker last checked it with Zendesk."""

    __tablename__ = "app_ticket_access"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    ticket_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    allowed: Mapped[bool | None] = mapped_column(Boolean)  # None: a check is queued
    reason: Mapped[str | None] = mapped_column(String(255))
    checked_at: Mapped[datetime | None]
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)


class AppActionState(enum.StrEnum):
    QUEUED = "queued"
    DONE = "done"
    REFUSED = "refused"  # not allowed or not possible: the agent is told why
    FAILED = "failed"  # parked after retries


class AppAction(Base):
    """What an agent asked in the sidebar (link, move, unlink, create), until the worker has
    applied it through the sync core; its inbound event (source `app`) carries it there."""

    __tablename__ = "app_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(BigInteger, index=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    problem_id: Mapped[int | None] = mapped_column(Integer)
    team: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[AppActionState] = mapped_column(
        _enum(AppActionState, "app_action_state"), default=AppActionState.QUEUED
    )
    message: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
