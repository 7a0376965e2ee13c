"""The repositories the sync core works through, on SQLite and PostgreSQL: one problem per
cause, the Jira creation claim (one lease), links and their confirmation, ticket states, the
poll's watermark and reconcile's view of unfinished work."""

from __future__ import annotations

from datetime import timedelta

from connector.bootstrap import WorkerContext as Runtime
from connector.store import links, problems, tickets, watermarks
from connector.store.models import LinkVia, Problem, ProblemState, utcnow

TIMEOUT = timedelta(minutes=2)


def make_problem(cause: str = "zendesk:1", **kw: object) -> Problem:
    return Problem(cause_key=cause, team="billing", summary="Double charge", **kw)


def add_problem(runtime: Runtime, cause: str = "zendesk:1", **kw: object) -> int:
    with runtime.db.session() as s:
        problem, created = problems.ensure(s, make_problem(cause, **kw))
        assert created
        return problem.id


def test_ensure_returns_the_problem_of_a_known_cause(runtime: Runtime) -> None:
    first = add_problem(runtime)
    with runtime.db.session() as s:
        problem, created = problems.ensure(s, make_problem())
        assert (problem.id, created) == (first, False)


def test_ensure_returns_the_row_another_worker_inserted_for_the_same_issue(
    runtime: Runtime,
) -> None:
    # Two causes naming one Jira issue: the unique issue id collides, the winner is returned.
    first = add_problem(runtime, "jira:10001", jira_issue_id="10001", jira_key="FIN-1")
    with runtime.db.session() as s:
        problem, created = problems.ensure(
            s, make_problem("rule:billing:x", jira_issue_id="10001", jira_key="FIN-1")
        )
        assert (problem.id, created) == (first, False)
    with runtime.db.session() as s:
        assert problems.by_cause(s, "rule:billing:x") is None
        assert problems.by_issue_id(s, "10001").id == first  # type: ignore[union-attr]
        assert problems.by_jira_key(s, "FIN-1").id == first  # type: ignore[union-attr]


def test_one_caller_claims_the_jira_creation_and_only_it_releases(runtime: Runtime) -> None:
    problem_id = add_problem(runtime)
    token = problems.claim_jira_creation(runtime.db, problem_id, TIMEOUT)
    assert token is not None
    assert problems.claim_jira_creation(runtime.db, problem_id, TIMEOUT) is None

    problems.release_jira_creation(runtime.db, problem_id, "not-the-holder")
    assert problems.claim_jira_creation(runtime.db, problem_id, TIMEOUT) is None

    problems.release_jira_creation(runtime.db, problem_id, token)
    assert problems.claim_jira_creation(runtime.db, problem_id, TIMEOUT) is not None


def test_a_claim_older_than_the_timeout_is_taken_over(runtime: Runtime) -> None:
    problem_id = add_problem(runtime)
    assert problems.claim_jira_creation(runtime.db, problem_id, TIMEOUT) is not None
    with runtime.db.session() as s:
        problems.get(s, problem_id).jira_claimed_at = utcnow() - TIMEOUT - timedelta(seconds=1)
    assert problems.claim_jira_creation(runtime.db, problem_id, TIMEOUT) is not None


def test_no_claim_once_the_problem_has_its_jira_issue(runtime: Runtime) -> None:
    problem_id = add_problem(runtime)
    token = problems.claim_jira_creation(runtime.db, problem_id, TIMEOUT)
    assert token is not None
    with runtime.db.session() as s:
        problems.record_jira_issue(s, problem_id, "10001", "FIN-1")
    with runtime.db.session() as s:
        problem = problems.get(s, problem_id)
        assert (problem.jira_issue_id, problem.jira_key, problem.jira_claim) == (
            "10001",
            "FIN-1",
            None,
        )
    assert problems.claim_jira_creation(runtime.db, problem_id, TIMEOUT) is None


def test_links_count_and_confirm_per_problem(runtime: Runtime) -> None:
    first, second = add_problem(runtime), add_problem(runtime, "zendesk:2")
    with runtime.db.session() as s:
        for ticket_id, status, org in ((11, "open", 7), (12, "solved", 7), (13, "new", 8)):
            link = links.create(s, ticket_id, first, LinkVia.RULE, "rule")
            link.ticket_status, link.organization_id = status, org
        links.create(s, 21, second, LinkVia.RULE, "rule")
    with runtime.db.session() as s:
        counts = links.counts(s, first, {"new", "open"})
        assert (counts.tickets, counts.open_tickets, counts.organizations) == (3, 2, 2)
        assert counts.first_linked is not None and counts.first_linked.tzinfo is not None
        assert links.organization_ids(s, first) == [7, 8]
        assert links.ticket_ids(s, first) == [11, 12, 13]

    links.mark_confirmed(runtime.db, first, [11, 12, 21])  # 21 is another problem's ticket
    with runtime.db.session() as s:
        assert links.unconfirmed_ticket_ids(s, first) == [13]
        assert links.unconfirmed_ticket_ids(s, second) == [21]
        assert links.remove_all(s, first) == 3
    with runtime.db.session() as s:
        assert links.of_problem(s, first) == []
        assert links.of_ticket(s, 21) is not None


def test_pending_unlinks_clear_only_for_the_key_shown(runtime: Runtime) -> None:
    with runtime.db.session() as s:
        tickets.state_of(s, 1).pending_unlink_key = "FIN-1"
        tickets.state_of(s, 2).pending_unlink_key = "FIN-2"
        tickets.state_of(s, 3)
    assert tickets.pending_unlinks(runtime.db) == [(1, "FIN-1"), (2, "FIN-2")]
    tickets.unlink_shown(runtime.db, [1, 2], "FIN-1")
    assert tickets.pending_unlinks(runtime.db) == [(2, "FIN-2")]

    assert tickets.noted_unknown_key(runtime.db, 4) is None
    tickets.note_unknown_key(runtime.db, 4, "ABC-9")
    assert tickets.noted_unknown_key(runtime.db, 4) == "ABC-9"


def test_the_watermark_is_kept_by_name(runtime: Runtime) -> None:
    with runtime.db.session() as s:
        assert watermarks.get(s, "jira.poll") is None
        watermarks.put(s, "jira.poll", "2026-11-26T00:00:00+00:00")
    with runtime.db.session() as s:
        watermarks.put(s, "jira.poll", "2026-11-27T00:00:00+00:00")
    with runtime.db.session() as s:
        assert watermarks.get(s, "jira.poll") == "2026-11-27T00:00:00+00:00"


def test_reconcile_finds_problems_with_unfinished_work(runtime: Runtime) -> None:
    now = utcnow()
    no_issue = add_problem(runtime)
    done = add_problem(runtime, "zendesk:2", jira_issue_id="2", jira_key="FIN-2")
    due = add_problem(runtime, "zendesk:3", jira_issue_id="3", impact_due_at=now)
    add_problem(runtime, "zendesk:4", state=ProblemState.DELETED)
    with runtime.db.session() as s:
        assert problems.needing_work(s, now) == [no_issue, due]
        assert problems.any_tracked(s)
        assert {p.id for p in problems.tracked(s)} == {done, due}


def test_names_are_remembered_renamed_and_looked_up(runtime: Runtime) -> None:
    from sqlalchemy import select

    from connector.store import names
    from connector.store.models import ZendeskName

    names.remember(runtime.db, users={7: "Jane Agent", 8: ""}, organizations={501: "Acme"})
    names.remember(runtime.db, users={7: "Jane Agent"}, organizations={501: "Acme Corp"})
    with runtime.db.session() as s:
        found = names.lookup(s, users=[7, 8, 9], organizations=[501, 7])
        stamps = {(n.kind, n.id): n.updated_at for n in s.scalars(select(ZendeskName))}
    assert found.users == {7: "Jane Agent"}  # a blank name is no name; 9 was never read
    assert found.organizations == {501: "Acme Corp"}  # renamed; ids of users are not orgs
    names.remember(runtime.db, users={7: "Jane Agent"}, organizations={})
    with runtime.db.session() as s:
        again = {(n.kind, n.id): n.updated_at for n in s.scalars(select(ZendeskName))}
    assert again == stamps  # the same name again writes nothing
