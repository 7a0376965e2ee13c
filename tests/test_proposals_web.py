"""Proposed problems over the admin API and the dashboard: listed with their tickets and
organisations by name, accepted (queued for the worker) or dismissed once, bad input refused."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import numpy as np
from flask.testing import FlaskClient
from ops_fixtures import ADMIN_TOKEN, ZENDESK_URL

from connector.bootstrap import WorkerContext as Runtime
from connector.store import names
from connector.store.models import Proposal, ProposalState, ProposalTicket

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def proposal(rt: Runtime, tickets: int = 6, team: str | None = "product") -> int:
    now = datetime(2026, 11, 30, 9, tzinfo=UTC)
    names.remember(rt.db, {}, {901: "Acme <b>Corp</b>", 902: "Globex"}, {})
    with rt.db.session() as s:
        p = Proposal(state=ProposalState.OPEN, suggested_team=team, created_at=now, updated_at=now)
        s.add(p)
        s.flush()
        for n in range(tickets):
            s.add(
                ProposalTicket(
                    proposal_id=p.id, ticket_id=700 + n, organization_id=901 + n % 2, added_at=now
                )
            )
        return p.id


def queued(rt: Runtime) -> list[str]:
    return [task.name for task in rt.huey.pending()]


def test_the_api_lists_accepts_once_and_refuses_bad_input(rt: Runtime, client: FlaskClient) -> None:
    pid = proposal(rt)
    listed = client.get("/api/proposals", headers=AUTH).get_json()
    [p] = listed["proposals"]
    assert (p["id"], p["ticket_count"], p["organizations"], p["suggested_team"]) == (
        pid,
        6,
        2,
        "product",
    )
    assert p["tickets"][0] == {
        "id": 700,
        "organization": "Acme <b>Corp</b>",
        "linked": False,
        "url": f"{ZENDESK_URL}/agent/tickets/700",
    }
    url = f"/api/proposals/{pid}/accept"
    assert client.post(url, headers=AUTH, json={"team": "nope", "summary": "x"}).status_code == 400
    assert client.post(url, headers=AUTH, json={"summary": "   "}).status_code == 400
    assert client.post(url, headers=AUTH, json=["summary"]).status_code == 400
    assert (
        client.post("/api/proposals/999/accept", headers=AUTH, json={"summary": "x"}).status_code
        == 404
    )
    assert client.post(url, json={"summary": "x"}).status_code == 401
    assert queued(rt) == []  # nothing changed, nothing queued
    done = client.post(url, headers=AUTH, json={"summary": "Cheque scans crash the app"})
    assert done.status_code == 202 and done.get_json()["team"] == "product"
    assert queued(rt) == ["apply_proposals"]
    again = client.post(url, headers=AUTH, json={"summary": "again"})
    assert again.status_code == 409 and "accepted already" in again.get_json()["message"]
    assert client.post(f"/api/proposals/{pid}/dismiss", headers=AUTH).status_code == 409
    assert client.get("/api/proposals", headers=AUTH).get_json()["count"] == 0
    with rt.db.session() as s:
        stored = s.get_one(Proposal, pid)
        assert (stored.state, stored.team, stored.summary, stored.decided_by) == (
            ProposalState.ACCEPTED,
            "product",
            "Cheque scans crash the app",
            "api",
        )


def test_the_dashboard_shows_a_proposal_and_needs_csrf_to_decide(
    rt: Runtime, client: FlaskClient
) -> None:
    pid = proposal(rt, team=None)
    assert client.get(f"/?token={ADMIN_TOKEN}").status_code == 303
    index = client.get("/").get_data(as_text=True)
    assert "proposed problem</a> to decide" in index
    assert client.get("/api/status", headers=AUTH).get_json()["proposals"] == 1
    page = client.get("/proposals").get_data(as_text=True)
    assert f"Proposal {pid}: 6 tickets from 2 organisations" in page
    assert "Acme &lt;b&gt;Corp&lt;/b&gt;" in page  # names are text, never markup
    assert "none yet" in page and "Dismiss" in page
    url = f"/proposals/{pid}/dismiss"
    assert client.post(url, data={"csrf_token": "forged"}).status_code == 400
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    refused = client.post(
        f"/proposals/{pid}/accept", data={"csrf_token": csrf, "summary": "x"}, follow_redirects=True
    )
    assert "Not accepted: choose the owning team: none was suggested" in refused.get_data(
        as_text=True
    )
    done = client.post(url, data={"csrf_token": csrf}, follow_redirects=True)
    assert "Dismissed: these tickets are not proposed again." in done.get_data(as_text=True)
    with rt.db.session() as s:
        assert s.get_one(Proposal, pid).state is ProposalState.DISMISSED


def test_a_proposal_whose_tickets_are_suggested_a_problem_says_so(
    rt: Runtime, client: FlaskClient
) -> None:
    from connector.store import suggestions as stored
    from connector.store.models import Problem

    pid = proposal(rt, tickets=6)
    now = datetime(2026, 11, 30, 9, tzinfo=UTC)
    with rt.db.session() as s:
        problem = Problem(
            cause_key="rule:billing:x", team="billing", summary="Double <i>charge</i>"
        )
        problem.jira_key = "FIN-12"
        s.add(problem)
        s.flush()
        for n, confidence in enumerate((0.9, 0.7, 0.4, 0.0, 0.8, 0.6)):
            ticket = 700 + n
            seen = stored.Seen(ticket, np.ones(4, dtype=np.float32) / 2, None, "new", None)
            stored.remember(s, [seen], now)
            stored.record_matches(
                s, ticket, [{"problem_id": problem.id, "confidence": confidence}], now
            )
    [p] = client.get("/api/proposals", headers=AUTH).get_json()["proposals"]
    assert p["already_filed"] == {
        "problem_id": problem.id,
        "jira_key": "FIN-12",
        "summary": "Double <i>charge</i>",
        "tickets": 4,  # from suggestions.min_confidence (0.5)
    }
    assert client.get(f"/?token={ADMIN_TOKEN}").status_code == 303
    page = client.get("/proposals").get_data(as_text=True)
    assert "4 of these tickets are suggested" in page and "Double &lt;i&gt;charge&lt;/i&gt;" in page
    assert pid
