"""The suggestion service against a real store, a fake text model and a fake Zendesk: what
each ticket gets (field, one note, auto-link), dismissals, opt-outs, batching, several workers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from sqlalchemy import select

from connector.bootstrap import WorkerContext
from connector.config import Config
from connector.settings import Settings
from connector.store import suggestions as stored
from connector.store.db import Database
from connector.store.models import Link, LinkVia, Problem, TicketState, TicketVector
from connector.sync.linking import Outcome
from connector.sync.suggestions.model import SuggestionEngine
from connector.sync.suggestions.service import (
    SUGGESTION_NOTE,
    noted_tag,
    suggest,
    suggested_value,
)
from connector.zendesk.models import Ticket, TicketUpdate
from tests.fake_clock import FakeClock

TOPICS = ("charged twice", "parcel lost", "manual wrong", "app crash")
SUGGESTED, KNOWN = 9001, 9002


class TopicEncoder:
    """A vector per topic named in the text (near the topic's axis, a little noise per text)."""

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        rows = []
        for text in texts:
            v = np.zeros(16, dtype=np.float32)
            for i, topic in enumerate(TOPICS):
                if topic in text:
                    v[i] = 1.0
            v[8 + len(text) % 8] = 0.2  # texts of a topic differ a little
            rows.append(v / np.linalg.norm(v))
        return np.vstack(rows)


@dataclass
class FakeZendesk:
    calls: list[tuple[list[int], TicketUpdate]] = field(default_factory=list)

    def update_all(self, ticket_ids: Any, update: TicketUpdate) -> list[Any]:
        self.calls.append((list(ticket_ids), update))
        return []


@dataclass
class Runtime:
    db: Database
    config: Config
    clock: FakeClock
    zendesk: FakeZendesk
    suggestion_engine: SuggestionEngine
    settings: Settings


@pytest.fixture
def rt(runtime: WorkerContext) -> Runtime:
    config = runtime.config.model_copy(deep=True)
    config.zendesk.fields.suggested_problem = SUGGESTED
    config.zendesk.fields.known_problem = KNOWN
    clock = FakeClock(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    engine = SuggestionEngine(TopicEncoder())
    return Runtime(runtime.db, config, clock, FakeZendesk(), engine, runtime.settings)


def seed(rt: Runtime) -> dict[str, int]:
    """Three open problems, three linked tickets each (ids 1xx, 2xx, 3xx)."""
    ids = {}
    encoder = TopicEncoder()
    with rt.db.session() as s:
        for n, topic in enumerate(TOPICS[:3], start=1):
            problem = Problem(
                cause_key=f"rule:t:{topic}", team="billing", summary=f"{topic} {{{{x}}}}"
            )
            problem.jira_key = f"FIN-{n}"
            s.add(problem)
            s.flush()
            ids[topic] = problem.id
            for k in range(3):
                ticket_id = n * 100 + k
                s.add(Link(ticket_id=ticket_id, problem_id=problem.id, via=LinkVia.KNOWN_PROBLEM))
                text = f"{topic} {'!' * k}"
                stored.remember(
                    s,
                    [stored.Seen(ticket_id, encoder.encode([text])[0], None, "open", None)],
                    rt.clock.now(),
                )
    return ids


def ticket(ticket_id: int, text: str, **kw: Any) -> Ticket:
    return Ticket(id=ticket_id, status="open", subject=text, description=text, **kw)


def test_a_ticket_gets_the_field_and_one_note_with_the_top_three(rt: Runtime) -> None:
    ids = seed(rt)
    suggest(rt, [ticket(1, "I was charged twice")], Outcome())
    [(ticket_ids, update)] = rt.zendesk.calls
    assert ticket_ids == [1]
    assert update.custom_fields == {SUGGESTED: suggested_value(ids["charged twice"])}
    assert update.comment is not None and update.comment.public is False
    lines = update.comment.body.splitlines()
    assert lines[0] == SUGGESTION_NOTE and lines[1].startswith(
        "1. FIN-1 charged twice {\u200b{x}\u200b}"
    )
    assert len([line for line in lines if line[:2] in ("1.", "2.", "3.")]) == 3
    assert update.additional_tags == [noted_tag(ids["charged twice"])]
    # Read again with the note's tag and the field set: nothing more to write.
    again = ticket(
        1,
        "I was charged twice",
        tags=[noted_tag(ids["charged twice"])],
        custom_fields={SUGGESTED: suggested_value(ids["charged twice"])},
    )
    suggest(rt, [again], Outcome())
    assert len(rt.zendesk.calls) == 1


def test_linked_solved_problem_and_off_topic_tickets_get_nothing(rt: Runtime) -> None:
    seed(rt)
    suggest(
        rt,
        [
            ticket(100, "charged twice"),  # linked already
            Ticket(id=2, status="solved", subject="charged twice"),
            Ticket(id=3, status="open", type="problem", subject="charged twice"),
            ticket(4, "something else entirely"),  # alike to no problem: confidence 0
        ],
        Outcome(),
    )
    assert rt.zendesk.calls == []
    with rt.db.session() as s:
        assert s.get_one(TicketVector, 4).matches[0]["confidence"] == 0.0


def test_a_storm_of_alike_tickets_is_one_update_many(rt: Runtime) -> None:
    seed(rt)
    storm = [ticket(1000 + i, "parcel lost") for i in range(250)]
    suggest(rt, storm, Outcome())
    [(ticket_ids, _update)] = rt.zendesk.calls  # the adapter splits it into jobs of 100
    assert sorted(ticket_ids) == [t.id for t in storm]


def test_clearing_the_field_dismisses_that_problem_for_the_ticket(rt: Runtime) -> None:
    ids = seed(rt)
    suggest(rt, [ticket(1, "manual wrong")], Outcome())
    problem = ids["manual wrong"]
    cleared = ticket(1, "manual wrong", tags=[noted_tag(problem)], custom_fields={SUGGESTED: None})
    suggest(rt, [cleared], Outcome())
    assert len(rt.zendesk.calls) == 1  # no second note, the field stays empty
    with rt.db.session() as s:
        row = s.get_one(TicketVector, 1)
        assert row.dismissed == [problem] and row.suggested_problem_id is None


def test_auto_link_from_the_threshold_and_never_after_an_opt_out(rt: Runtime) -> None:
    ids = seed(rt)
    rt.config.suggestions.auto_link_confidence = 0.5
    with rt.db.session() as s:
        s.add(TicketState(ticket_id=2, signals={}, suggestion_opt_out=True))
    outcome = Outcome()
    suggest(rt, [ticket(1, "charged twice"), ticket(2, "charged twice")], outcome)
    updates = {tuple(ids_): u for ids_, u in rt.zendesk.calls}
    linked_update = updates[(1,)]
    assert linked_update.custom_fields[KNOWN] == f"zdjira_problem_{ids['charged twice']}"
    assert linked_update.comment is not None
    assert linked_update.comment.body.startswith("Linked automatically to FIN-1")
    assert KNOWN not in updates[(2,)].custom_fields  # opted out: suggested only
    with rt.db.session() as s:
        link = s.get_one(Link, 1)
        assert (link.via, link.linked_by) == (LinkVia.SUGGESTION, "suggestion")
        assert s.get(Link, 2) is None
        assert s.get_one(TicketState, 1).signals == {"known_problem": ids["charged twice"]}
    assert outcome.touched == {ids["charged twice"]}


def test_auto_linked_tickets_do_not_teach_and_every_worker_sees_a_new_link(rt: Runtime) -> None:
    ids = seed(rt)
    other = SuggestionEngine(TopicEncoder())  # a second worker on the same database
    first = rt.suggestion_engine.suggester(rt.db)
    assert first is not None and other.suggester(rt.db) is not None
    before = stored.current_fingerprint(rt.db)
    vector = TopicEncoder().encode(["charged twice"])[0]
    with rt.db.session() as s:
        stored.remember(s, [stored.Seen(500, vector, None, "open", None)], rt.clock.now())
        s.add(Link(ticket_id=500, problem_id=ids["charged twice"], via=LinkVia.SUGGESTION))
        s.delete(s.get_one(Link, 201))
    # The auto-link is not an example; the agent's unlink is: the model changes everywhere.
    with rt.db.session() as s:
        pairs = dict(stored.example_pairs(s))
    assert 500 not in pairs and 201 not in pairs and 200 in pairs
    assert stored.current_fingerprint(rt.db) != before
    trainings = other.trainings
    other.suggester(rt.db)
    assert other.trainings == trainings + 1


def remember_unlinked(rt: Runtime, first_id: int, count: int, text: str) -> list[int]:
    encoder = TopicEncoder()
    ids = list(range(first_id, first_id + count))
    with rt.db.session() as s:
        stored.remember(
            s,
            [
                stored.Seen(
                    t, encoder.encode([f"{text}{'?' * (t % 3)}"])[0], 800 + t % 4, "new", None
                )
                for t in ids
            ],
            rt.clock.now(),
        )
    return ids


def test_a_proposal_grows_and_a_dismissed_one_is_never_proposed_again(rt: Runtime) -> None:
    from connector.ops.proposals import dismiss, list_proposals
    from connector.sync.suggestions.emerging_scan import proposal_tag, scan_emerging

    seed(rt)
    rt.config.suggestions.emerging.tag = True
    first = remember_unlinked(rt, 1, 6, "app crash")
    [pid] = scan_emerging(rt)
    more = remember_unlinked(rt, 7, 2, "app crash")
    assert scan_emerging(rt) == [pid]  # the same proposal, two tickets more
    [p] = list_proposals(rt)  # type: ignore[arg-type]
    assert [t.ticket_id for t in p.tickets] == first + more and p.organizations == 4
    assert [(ids, u.additional_tags) for ids, u in rt.zendesk.calls] == [
        (first, [proposal_tag(pid)]),
        (more, [proposal_tag(pid)]),
    ]
    dismiss(rt, pid, actor="cli")  # type: ignore[arg-type]
    assert scan_emerging(rt) == []  # its tickets are never proposed again
    later = remember_unlinked(rt, 20, 5, "app crash")
    [new] = scan_emerging(rt)
    [q] = list_proposals(rt)  # type: ignore[arg-type]
    assert new != pid and [t.ticket_id for t in q.tickets] == later


def test_too_few_tickets_or_organisations_make_no_proposal(rt: Runtime) -> None:
    from connector.sync.suggestions.emerging_scan import scan_emerging

    seed(rt)
    remember_unlinked(rt, 1, 4, "app crash")  # min_tickets is 5
    assert scan_emerging(rt) == []
    rt.config.suggestions.emerging.min_organizations = 5  # only 4 organisations
    remember_unlinked(rt, 5, 4, "app crash")
    assert scan_emerging(rt) == []


def test_retention_forgets_old_unlinked_vectors_and_keeps_linked_ones(rt: Runtime) -> None:
    from datetime import timedelta

    seed(rt)  # linked tickets 100-302, seen now
    remember_unlinked(rt, 1, 3, "app crash")
    rt.clock.advance(timedelta(days=31))
    remember_unlinked(rt, 50, 1, "app crash")  # seen again recently
    forgotten = stored.forget_before(rt.db, rt.clock.now() - timedelta(days=30))
    with rt.db.session() as s:
        left = sorted(s.scalars(select(TicketVector.ticket_id)))
    assert forgotten == 3
    assert left == [50, 100, 101, 102, 200, 201, 202, 300, 301, 302]


def test_an_accepted_proposal_waits_while_another_process_creates_its_issue(
    runtime: WorkerContext,
) -> None:
    """No Jira key yet (the creation claim is held elsewhere): nothing is linked or written, and
    the proposal stays accepted for the next run."""
    from connector.store import proposals as stored_proposals
    from connector.store.models import Proposal, ProposalState, ProposalTicket
    from connector.sync.suggestions import proposals as applying

    now = datetime(2026, 11, 30, 9, tzinfo=UTC)
    with runtime.db.session() as s:
        p = Proposal(
            state=ProposalState.ACCEPTED,
            team="billing",
            summary="X",
            created_at=now,
            updated_at=now,
        )
        s.add(p)
        s.flush()
        s.add(ProposalTicket(proposal_id=p.id, ticket_id=900, organization_id=None, added_at=now))
        pid = p.id

    class Held:
        """The services of a worker whose creation claim another process holds."""

        def __getattr__(self, name: str) -> Any:
            return getattr(runtime, name)

    def not_created(rt: Any, problem_id: int) -> bool:
        return False

    import pytest as _pytest

    with _pytest.MonkeyPatch.context() as patch:
        patch.setattr(applying, "create_jira_issue", not_created)
        assert applying.apply_accepted(Held()) == []  # type: ignore[arg-type]
    with runtime.db.session() as s:
        assert s.get_one(Proposal, pid).state is ProposalState.ACCEPTED
        assert s.get(Link, 900) is None
        assert stored_proposals.listed(s, [ProposalState.ACCEPTED])
