"""The store on SQLite and PostgreSQL: migrations, and the constraints the sync relies on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from connector.bootstrap import WorkerContext as Runtime
from connector.store.migrate import current_revision, head_revision, is_up_to_date, upgrade
from connector.store.models import (
    AuditEntry,
    EventState,
    InboundEvent,
    Link,
    LinkVia,
    Problem,
    Reply,
    ReplyState,
    Watermark,
)


def make_problem(cause: str = "zendesk:1", **kw: object) -> Problem:
    return Problem(cause_key=cause, team="billing", summary="Double charge", **kw)


def test_migrations_create_every_table_and_are_idempotent(runtime: Runtime) -> None:
    tables = set(inspect(runtime.db.engine).get_table_names())
    assert {
        "problems",
        "links",
        "replies",
        "inbound_events",
        "audit_entries",
        "watermarks",
    } <= tables
    assert current_revision(runtime.db) == head_revision(runtime.settings.database_url)
    upgrade(runtime.settings.database_url)  # twice is fine
    assert is_up_to_date(runtime.db)


def test_sqlite_runs_in_wal_mode(runtime: Runtime) -> None:
    if runtime.db.is_postgresql:
        pytest.skip("WAL is a SQLite setting")
    with runtime.db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_problem_keeps_jira_id_and_key_apart(runtime: Runtime) -> None:
    with runtime.db.session() as s:
        s.add(make_problem(jira_issue_id="10001", jira_key="FIN-1"))
    with runtime.db.session() as s:
        problem = s.scalars(select(Problem)).one()
        problem.jira_key = "ENG-7"  # moved to another project: same id, new key
    with runtime.db.session() as s:
        problem = s.scalars(select(Problem).where(Problem.jira_issue_id == "10001")).one()
        assert problem.jira_key == "ENG-7"
        assert problem.created_at.tzinfo is not None


def test_one_problem_per_cause(runtime: Runtime) -> None:
    with runtime.db.session() as s:
        s.add(make_problem("rule:shipping:lost parcels"))
    with pytest.raises(IntegrityError), runtime.db.session() as s:
        s.add(make_problem("rule:shipping:lost parcels"))


def test_a_ticket_belongs_to_at_most_one_problem(runtime: Runtime) -> None:
    with runtime.db.session() as s:
        first, second = make_problem("a"), make_problem("b")
        s.add_all([first, second])
        s.flush()
        s.add(Link(ticket_id=42, problem_id=first.id, via=LinkVia.INCIDENT, linked_by="agent:7"))
        second_id = second.id
    with pytest.raises(IntegrityError), runtime.db.session() as s:
        s.add(Link(ticket_id=42, problem_id=second_id, via=LinkVia.RULE))
    with runtime.db.session() as s:
        link = s.get(Link, 42)
        assert link is not None and link.via is LinkVia.INCIDENT and link.linked_by == "agent:7"


def test_one_reply_per_ticket_problem_and_outcome(runtime: Runtime) -> None:
    with runtime.db.session() as s:
        problem = make_problem()
        s.add(problem)
        s.flush()
        s.add(Reply(problem_id=problem.id, ticket_id=5, outcome="fixed"))
        s.add(Reply(problem_id=problem.id, ticket_id=5, outcome="workaround"))
        pid = problem.id
    with pytest.raises(IntegrityError), runtime.db.session() as s:
        s.add(Reply(problem_id=pid, ticket_id=5, outcome="fixed"))
    with runtime.db.session() as s:
        states = {r.state for r in s.scalars(select(Reply))}
        assert states == {ReplyState.PENDING}


@pytest.mark.parametrize("same", ["delivery_id", "content_hash"])
def test_inbound_events_are_unique_per_source_by_delivery_and_content(
    runtime: Runtime, same: str
) -> None:
    first = {
        "source": "zendesk",
        "delivery_id": "inv-1",
        "content_hash": "h1",
        "event_type": "ticket",
    }
    second = {**first, "delivery_id": "inv-2", "content_hash": "h2", same: first[same]}
    with runtime.db.session() as s:
        s.add(InboundEvent(**first, payload={"ticket_id": 1}))
        s.add(InboundEvent(**{**first, "source": "jira"}, payload={}))  # other source: fine
    with pytest.raises(IntegrityError), runtime.db.session() as s:
        s.add(InboundEvent(**second, payload={"ticket_id": 1}))
    with runtime.db.session() as s:
        event = s.scalars(select(InboundEvent).where(InboundEvent.source == "zendesk")).one()
        assert event.state is EventState.PENDING and event.payload == {"ticket_id": 1}


def test_audit_timeline_and_watermarks(runtime: Runtime) -> None:
    later = datetime.now(UTC) + timedelta(minutes=1)
    with runtime.db.session() as s:
        problem = make_problem()
        s.add(problem)
        s.flush()
        s.add(AuditEntry(problem_id=problem.id, action="link", ticket_id=9, actor="agent:3"))
        s.add(
            AuditEntry(
                problem_id=problem.id,
                action="unlink",
                ticket_id=9,
                at=later,
                detail={"why": "cleared"},
            )
        )
        s.add(Watermark(name="jira.updated", value="2026-11-26T00:00:00Z"))
    with runtime.db.session() as s:
        timeline = s.scalars(select(AuditEntry).order_by(AuditEntry.at)).all()
        assert [e.action for e in timeline] == ["link", "unlink"]
        assert timeline[1].detail == {"why": "cleared"}
        assert s.get(Watermark, "jira.updated") is not None


def test_naive_datetimes_are_refused(runtime: Runtime) -> None:
    with pytest.raises(Exception, match="naive datetime"), runtime.db.session() as s:
        s.add(make_problem(resolved_at=datetime(2026, 1, 1)))
        s.flush()


UPGRADE = "import sys; from connector.store.migrate import upgrade; upgrade(sys.argv[1])"


def test_processes_started_together_on_a_new_database_migrate_one_after_the_other(
    database_url: str,
) -> None:
    """`connector web` and `connector worker` (or several machines) start on a new database: each
    upgrades; the lock makes the later ones find the schema at head instead of failing."""
    import subprocess
    import sys

    from connector.store.db import Database
    from connector.store.migrate import is_up_to_date

    procs = [
        subprocess.Popen(
            [sys.executable, "-c", UPGRADE, database_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=120)[0].decode() for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, "\n".join(outputs)
    db = Database(database_url)
    try:
        assert is_up_to_date(db)
    finally:
        db.dispose()
