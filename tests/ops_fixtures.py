"""Shared data for the dashboard, API and metrics tests: a small but realistic store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from pydantic import SecretStr

from connector.bootstrap import WorkerContext as Runtime
from connector.config import load_config
from connector.settings import Settings
from connector.store import names
from connector.store.migrate import upgrade
from connector.store.models import (
    AuditEntry,
    EventState,
    InboundEvent,
    Link,
    LinkVia,
    Problem,
    ProblemState,
    Reply,
    ReplyState,
    utcnow,
)
from connector.webhook_app import create_app

ADMIN_TOKEN = "admin-token-for-tests-0123456789"
JIRA_URL = "https://acme.atlassian.net"
ZENDESK_URL = "https://acme.zendesk.com"


def ops_runtime(database_url: str, queue_path: str, **overrides: Any) -> Runtime:
    values: dict[str, Any] = {
        "database_url": database_url,
        "queue_path": queue_path,
        "admin_token": SecretStr(ADMIN_TOKEN),
        "jira_url": JIRA_URL,
        "zendesk_url": ZENDESK_URL,
        "public_url": "http://connector.test",
        **overrides,
    }
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    upgrade(settings.database_url)
    return Runtime(settings, load_config())


def seed(runtime: Runtime) -> dict[str, int]:
    """Three open problems (one overdue), one resolved with replies sent and failed."""
    now = utcnow()
    with runtime.db.session() as s:
        small = Problem(
            cause_key="zendesk:1",
            team="docs",
            summary="Setup guide step 4 is wrong",
            state=ProblemState.OPEN,
            jira_issue_id="10001",
            jira_key="DOC-1",
            jira_status="To Do",
            jira_status_category="new",
            ticket_count=2,
            organization_count=1,
            first_linked_at=now - timedelta(days=2),
        )
        big = Problem(
            cause_key="zendesk:2",
            team="billing",
            summary="Double charge on November invoices",
            state=ProblemState.OPEN,
            jira_issue_id="10002",
            jira_key="FIN-7",
            jira_status="In Progress",
            jira_status_category="indeterminate",
            ticket_count=42,
            organization_count=17,
            first_linked_at=now - timedelta(days=9),
            due_date=(now - timedelta(days=3)).date(),
        )
        middle = Problem(
            cause_key="zendesk:3",
            team="product",
            summary="Export crashes on large files",
            state=ProblemState.OPEN,
            jira_issue_id="10003",
            jira_key="ENG-3",
            jira_status="In Progress",
            jira_status_category="indeterminate",
            ticket_count=9,
            organization_count=4,
            first_linked_at=now - timedelta(hours=5),
            due_date=(now + timedelta(days=10)).date(),
        )
        done = Problem(
            cause_key="zendesk:4",
            team="shipping",
            summary="Parcels stuck in Leipzig hub",
            state=ProblemState.RESOLVED,
            jira_issue_id="10004",
            jira_key="SHIP-2",
            jira_status="Done",
            jira_status_category="done",
            jira_resolution="Done",
            outcome="fixed",
            solution_text="The hub released all parcels.",
            ticket_count=3,
            organization_count=2,
            first_linked_at=now - timedelta(days=4),
            resolved_at=now,
        )
        gone = Problem(
            cause_key="zendesk:5",
            team="docs",
            summary="Deleted one",
            state=ProblemState.DELETED,
            ticket_count=99,
        )
        s.add_all([small, big, middle, done, gone])
        s.flush()
        for ticket, org in ((101, 501), (102, 502), (103, 501)):
            s.add(
                Link(
                    ticket_id=ticket,
                    problem_id=big.id,
                    via=LinkVia.INCIDENT,
                    linked_by="agent:7",
                    organization_id=org,
                    requester_id=800 + ticket,
                    ticket_status="open",
                    confirmed=True,
                )
            )
        for ticket in (201, 202, 203):
            s.add(
                Link(
                    ticket_id=ticket,
                    problem_id=done.id,
                    via=LinkVia.RULE,
                    organization_id=600 + ticket % 2,
                    ticket_status="solved",
                )
            )
        s.add(
            AuditEntry(
                problem_id=big.id,
                action="link",
                ticket_id=101,
                actor="agent:7",
                detail={"via": "incident"},
                at=now - timedelta(days=9),
            )
        )
        s.add(
            AuditEntry(
                problem_id=big.id,
                action="link",
                ticket_id=102,
                actor="agent:7",
                at=now - timedelta(days=8),
            )
        )
        s.add(Reply(problem_id=done.id, ticket_id=201, outcome="fixed", state=ReplyState.SENT))
        s.add(Reply(problem_id=done.id, ticket_id=202, outcome="fixed", state=ReplyState.SENT))
        s.add(
            Reply(
                problem_id=done.id,
                ticket_id=203,
                outcome="fixed",
                state=ReplyState.FAILED,
                attempts=3,
                error="zendesk: HTTP 422 on PUT /api/v2/tickets/203.json",
            )
        )
        s.add(
            InboundEvent(
                source="zendesk",
                delivery_id="d1",
                event_type="ticket.updated",
                state=EventState.PROCESSED,
                received_at=now - timedelta(minutes=5),
            )
        )
        s.add(
            InboundEvent(
                source="zendesk",
                delivery_id="d2",
                event_type="ticket.updated",
                state=EventState.FAILED,
                error="boom: KeyError",
                received_at=now - timedelta(minutes=2),
            )
        )
        s.add(
            InboundEvent(
                source="jira",
                delivery_id="j1",
                event_type="jira:issue_updated",
                state=EventState.PROCESSED,
                received_at=now - timedelta(hours=1),
            )
        )
        s.flush()
    # As the worker stores them from its ticket reads; requester 903 was never read.
    names.remember(
        runtime.db,
        users={7: "Jane Agent", 901: "Dana Scully", 902: "Fox Mulder"},
        organizations={501: "Acme Corp", 502: "Globex"},
    )
    return {
        "small": small.id,
        "big": big.id,
        "middle": middle.id,
        "done": done.id,
        "gone": gone.id,
    }


def require_approval(runtime: Runtime) -> None:
    """Replies wait for an admin (`replies.require_approval: true`)."""
    replies = runtime.config.replies.model_copy(update={"require_approval": True})
    runtime.config = runtime.config.model_copy(update={"replies": replies})


def seed_held(runtime: Runtime) -> int:
    """A resolved problem whose reply four tickets are owed: three get it, one (closed) gets a
    follow-up; a fifth already has it."""
    now = utcnow()
    with runtime.db.session() as s:
        held = Problem(
            cause_key="zendesk:6",
            team="billing",
            summary="Refunds booked twice",
            state=ProblemState.RESOLVED,
            jira_issue_id="10006",
            jira_key="FIN-9",
            jira_status="Done",
            jira_status_category="done",
            jira_resolution="Fixed",
            outcome="fixed",
            solution_text="The second refund was reversed.",
            ticket_count=5,
            organization_count=1,
            first_linked_at=now - timedelta(days=3),
            resolved_at=now - timedelta(hours=1),
        )
        s.add(held)
        s.flush()
        rule = LinkVia.RULE
        statuses = {301: "open", 302: "pending", 303: "open", 304: "closed", 305: "solved"}
        for ticket, status in statuses.items():
            s.add(Link(ticket_id=ticket, problem_id=held.id, via=rule, ticket_status=status))
        s.add(Reply(problem_id=held.id, ticket_id=305, outcome="fixed", state=ReplyState.SENT))
        s.flush()
        return held.id


# ---- fixtures shared by the dashboard and API tests (loaded by tests/conftest.py) ---------------
@pytest.fixture
def rt(database_url: str, tmp_path: Path) -> Iterator[Runtime]:
    runtime = ops_runtime(database_url, str(tmp_path / "queue.db"))
    yield runtime
    runtime.close()


@pytest.fixture
def ids(rt: Runtime) -> dict[str, int]:
    return seed(rt)


@pytest.fixture
def client(rt: Runtime) -> FlaskClient:
    return create_app(runtime=rt).test_client()
