"""Problems: one row per cause, found by cause, Jira issue (id or key) or Zendesk problem
ticket; the claim on creating its Jira issue; what reconcile and the poll need to find.

Racing workers collide in the database, not in a check-then-insert: the cause key and the Jira
issue id are unique, and the Jira creation claim is a lease (`lease.py`) on the row.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from connector.store import audit
from connector.store.db import Database
from connector.store.lease import Lease
from connector.store.models import AuditEntry, Link, Problem, ProblemState


def get(session: Session, problem_id: int) -> Problem:
    """The problem; raises when there is none (callers hold an id they read before)."""
    return session.get_one(Problem, problem_id)


def find(session: Session, problem_id: int) -> Problem | None:
    return session.get(Problem, problem_id)


def by_cause(session: Session, cause_key: str) -> Problem | None:
    return session.scalars(select(Problem).where(Problem.cause_key == cause_key)).first()


def by_jira_key(session: Session, key: str) -> Problem | None:
    return session.scalars(select(Problem).where(Problem.jira_key == key)).first()


def by_issue_id(session: Session, issue_id: str) -> Problem | None:
    return session.scalars(select(Problem).where(Problem.jira_issue_id == issue_id)).first()


def by_problem_ticket(session: Session, ticket_id: int) -> Problem | None:
    return session.scalars(
        select(Problem).where(Problem.zendesk_problem_ticket_id == ticket_id)
    ).first()


def ensure(session: Session, candidate: Problem) -> tuple[Problem, bool]:
    """The problem of `candidate.cause_key`, inserting `candidate` when there is none; and
    whether this call inserted it. Safe under concurrent callers: when another worker inserted
    the same cause (or the same Jira issue) a moment ago, its row is returned."""
    existing = by_cause(session, candidate.cause_key)
    if existing is not None:
        return existing, False
    try:
        with session.begin_nested():
            session.add(candidate)
        return candidate, True
    except IntegrityError:
        same = [Problem.cause_key == candidate.cause_key]
        if candidate.jira_issue_id:
            same.append(Problem.jira_issue_id == candidate.jira_issue_id)
        found = session.scalars(select(Problem).where(or_(*same))).first()
        if found is None:
            raise
        return found, False


def state_of(db: Database, problem_id: int) -> ProblemState:
    with db.session() as session:
        return get(session, problem_id).state


# Who is creating a problem's Jira issue right now; a claim older than the creation timeout is
# taken over (its holder died between claiming and storing the issue).
JIRA_CREATION = Lease(Problem.jira_claim, Problem.jira_claimed_at)


def never_mirrored(db: Database, problem_id: int) -> bool:
    """The problem tracks a Jira issue whose state was never read (an adopted key)."""
    with db.session() as session:
        problem = get(session, problem_id)
        return problem.jira_issue_id is not None and problem.mirrored is None


def adopted_by_key(db: Database, problem_id: int) -> bool:
    """The problem follows an issue someone pasted the key of (not one the connector made)."""
    with db.session() as session:
        return get(session, problem_id).cause_key.startswith("jira:")


def claim_jira_creation(db: Database, problem_id: int, timeout: timedelta) -> str | None:
    """A token when this caller may create the problem's Jira issue: it has none yet and no
    live claim; None otherwise."""
    with db.session() as session:
        return JIRA_CREATION.take(
            session, Problem.id == problem_id, Problem.jira_issue_id.is_(None), timeout=timeout
        )


ADOPTION_NOTED = "jira.adoption_commented"


def claim_adoption_comment(db: Database, problem_id: int, timeout: timedelta) -> str | None:
    """A token when this caller may post the summary comment on an adopted issue: the problem
    tracks an issue, has no such comment on record and no live claim (the creation claim's
    columns, unused once the issue exists); None otherwise."""
    noted = select(AuditEntry.id).where(
        AuditEntry.problem_id == problem_id, AuditEntry.action == ADOPTION_NOTED
    )
    with db.session() as session:
        return JIRA_CREATION.take(
            session,
            Problem.id == problem_id,
            Problem.jira_issue_id.is_not(None),
            ~noted.exists(),
            timeout=timeout,
        )


def finish_adoption_comment(db: Database, problem_id: int, token: str, posted: bool) -> None:
    """Release the claim; when the comment is there, record it (so it is never posted again)."""
    with db.session() as session:
        result = session.execute(
            update(Problem)
            .where(Problem.id == problem_id, JIRA_CREATION.held(token))
            .values(JIRA_CREATION.released())
        )
        if posted and result.rowcount:  # type: ignore[attr-defined]
            audit.record(session, problem_id, ADOPTION_NOTED, actor="connector")


def release_jira_creation(db: Database, problem_id: int, token: str) -> None:
    """Give the claim back (creating failed); only its holder can."""
    with db.session() as session:
        session.execute(
            update(Problem)
            .where(Problem.id == problem_id, JIRA_CREATION.held(token))
            .values(JIRA_CREATION.released())
        )


def record_jira_issue(session: Session, problem_id: int, issue_id: str, key: str) -> Problem:
    """The problem's Jira issue exists: store it and free the creation claim."""
    problem = get(session, problem_id)
    problem.jira_issue_id, problem.jira_key = issue_id, key
    for column, value in JIRA_CREATION.released().items():
        setattr(problem, column, value)
    return problem


def tracked(session: Session) -> list[Problem]:
    """Problems with a Jira issue to follow (not deleted)."""
    return list(
        session.scalars(
            select(Problem).where(
                Problem.jira_issue_id.is_not(None), Problem.state != ProblemState.DELETED
            )
        )
    )


def any_tracked(session: Session) -> bool:
    found = session.scalar(select(Problem.id).where(Problem.jira_issue_id.is_not(None)).limit(1))
    return found is not None


def for_dropdown(session: Session, resolved_since: datetime) -> list[Problem]:
    """Problems an agent may pick: with a Jira key, open (and not dormant: empty for too long)
    or resolved since `resolved_since`."""
    return list(
        session.scalars(
            select(Problem).where(
                Problem.jira_key.is_not(None),
                Problem.dormant_at.is_(None),
                or_(
                    Problem.state == ProblemState.OPEN,
                    (Problem.state == ProblemState.RESOLVED)
                    & (Problem.resolved_at >= resolved_since),
                ),
            )
        )
    )


def note_emptiness(problem: Problem, tickets: int, now: datetime) -> None:
    """Remember when the problem lost its last ticket (or forget it once it has one again)."""
    if tickets:
        problem.emptied_at = None
    elif problem.emptied_at is None:
        problem.emptied_at = now


def retire_empty(session: Session, emptied_before: datetime, now: datetime) -> list[Problem]:
    """Open problems empty since `emptied_before` leave the open lists: marked dormant, with an
    audit entry; the ones marked now."""
    found = list(
        session.scalars(
            select(Problem).where(
                Problem.state == ProblemState.OPEN,
                Problem.dormant_at.is_(None),
                Problem.emptied_at <= emptied_before,
                ~Problem.id.in_(select(Link.problem_id)),
            )
        )
    )
    for problem in found:
        problem.dormant_at = now
        audit.record(
            session,
            problem.id,
            "problem.dormant",
            actor="connector",
            detail={"empty_since": problem.emptied_at.isoformat() if problem.emptied_at else None},
        )
    return found


def wake(session: Session, problem: Problem, ticket_id: int) -> bool:
    """A ticket links to a dormant problem: it is listed again. True if it was dormant."""
    if problem.dormant_at is None:
        return False
    problem.dormant_at = problem.emptied_at = None
    audit.record(session, problem.id, "problem.active_again", ticket_id=ticket_id)
    return True


def needing_work(session: Session, now: datetime) -> list[int]:
    """Ids of problems with unfinished work: no Jira issue yet, unconfirmed links, or an
    impact or mirror write that fell due by `now`."""
    unconfirmed = select(Link.problem_id).where(Link.confirmed.is_(False))
    found = session.scalars(
        select(Problem.id).where(
            Problem.state != ProblemState.DELETED,
            or_(
                Problem.jira_issue_id.is_(None),
                Problem.id.in_(unconfirmed),
                Problem.impact_due_at <= now,
                Problem.mirror_due_at <= now,
            ),
        )
    )
    return sorted(set(found))
