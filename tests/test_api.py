"""The admin API under /api/: token required, read-only views, approval with CSRF."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from ops_fixtures import ADMIN_TOKEN, JIRA_URL, ZENDESK_URL, ops_runtime, seed_held
from sqlalchemy import select

from connector.bootstrap import WorkerContext as Runtime
from connector.store.models import AuditEntry
from connector.store.reply_models import ReplyRun
from connector.webhook_app import create_app

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def get(client: FlaskClient, path: str, **kwargs: Any) -> Any:
    response = client.get(path, headers=AUTH, **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_open_problems_are_sorted_by_impact_with_links(
    client: FlaskClient, ids: dict[str, int]
) -> None:
    data = get(client, "/api/problems?state=open")
    assert [p["jira_key"] for p in data["problems"]] == ["FIN-7", "ENG-3", "DOC-1"]
    top = data["problems"][0]
    assert top["jira_url"] == f"{JIRA_URL}/browse/FIN-7"
    assert (top["ticket_count"], top["organization_count"], top["team_name"]) == (42, 17, "Finance")
    assert top["overdue"] is True and top["age_seconds"] >= 9 * 86400 - 60
    assert [p["overdue"] for p in data["problems"][1:]] == [False, False]


def test_filters_by_state_and_team_and_hides_deleted(
    client: FlaskClient, ids: dict[str, int]
) -> None:
    resolved = get(client, "/api/problems?state=resolved")["problems"]
    assert [p["jira_key"] for p in resolved] == ["SHIP-2"]
    assert resolved[0]["replies"] == {"sent": 2, "failed": 1}
    assert resolved[0]["reply_outcome"] == "fixed"
    assert resolved[0]["time_to_resolution_seconds"] >= 4 * 86400 - 60
    everything = get(client, "/api/problems?state=all")["problems"]
    assert ids["gone"] not in {p["id"] for p in everything} and len(everything) == 4
    assert [p["team"] for p in get(client, "/api/problems?team=product")["problems"]] == ["product"]
    bad = client.get("/api/problems?state=nope", headers=AUTH)
    assert bad.status_code == 400 and "state must be one of" in bad.get_json()["message"]


def test_problem_detail_has_links_audit_and_replies(
    client: FlaskClient, ids: dict[str, int]
) -> None:
    big = get(client, f"/api/problems/{ids['big']}")
    assert [lk["ticket_id"] for lk in big["links"]] == [101, 102, 103]
    assert big["links"][0]["zendesk_url"] == f"{ZENDESK_URL}/agent/tickets/101"
    assert big["organizations"] == [501, 502]
    assert big["organization_names"] == ["Acme Corp", "Globex"]
    first = big["links"][0]
    assert (first["requester"], first["organization"], first["linked_by_name"]) == (
        "Dana Scully",
        "Acme Corp",
        "Jane Agent",
    )
    assert [a["ticket_id"] for a in big["audit"]] == [102, 101]  # newest first
    assert {(a["label"], a["by"]) for a in big["audit"]} == {("Ticket linked", "Jane Agent")}
    done = get(client, f"/api/problems/{ids['done']}")
    assert done["replies"]["by_state"] == {"sent": 2, "failed": 1}
    assert (done["replies"]["total"], done["replies"]["done"]) == (3, 2)
    [failure] = done["replies"]["failures"]
    assert failure["ticket_id"] == 203 and "422" in failure["error"]
    assert client.get(f"/api/problems/{ids['gone']}", headers=AUTH).status_code == 404
    assert client.get("/api/problems/999999", headers=AUTH).status_code == 404


def test_status_reports_queue_deliveries_and_failures(
    client: FlaskClient, ids: dict[str, int]
) -> None:
    status = get(client, "/api/status")
    assert status["queue_depth"] == 0
    assert status["last_delivery"]["zendesk"] and status["last_delivery"]["jira"]
    assert status["last_delivery"]["zendesk"] > status["last_delivery"]["jira"]
    assert status["events"] == {"jira.processed": 1, "zendesk.failed": 1, "zendesk.processed": 1}
    assert [e["error"] for e in status["failed_events"]] == ["boom: KeyError"]
    assert status["problems"] == {"open": 3, "resolved": 1, "deleted": 1}
    assert status["replies"] == {"sent": 2, "failed": 1}


def test_token_is_required_and_checked(client: FlaskClient, ids: dict[str, int]) -> None:
    assert client.get("/api/problems").status_code == 401
    wrong = client.get("/api/problems", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "Bearer" in wrong.get_json()["message"]
    assert client.get("/api/status", headers={"Authorization": ADMIN_TOKEN}).status_code == 401
    assert client.post(f"/api/problems/{ids['big']}/approve").status_code == 401
    assert client.get("/api/nothing/here", headers=AUTH).status_code == 404


def test_without_admin_token_the_api_and_dashboard_are_404(
    database_url: str, tmp_path: Path
) -> None:
    runtime = ops_runtime(database_url, str(tmp_path / "q.db"), admin_token=None)
    try:
        client = create_app(runtime=runtime).test_client()
        api = client.get("/api/problems", headers=AUTH)
        assert api.status_code == 404 and "CONNECTOR_ADMIN_TOKEN" in api.get_json()["message"]
        page = client.get("/?token=anything")
        assert page.status_code == 404 and "CONNECTOR_ADMIN_TOKEN" in page.get_data(as_text=True)
        assert client.get("/healthz").status_code == 200
    finally:
        runtime.close()


def approvals(rt: Runtime, problem_id: int) -> list[str | None]:
    with rt.db.session() as s:
        entries = s.scalars(select(AuditEntry).where(AuditEntry.problem_id == problem_id))
        return [a.actor for a in entries if "approv" in a.action]


def approved_outcomes(rt: Runtime, problem_id: int) -> list[str]:
    with rt.db.session() as s:
        runs = s.scalars(select(ReplyRun).where(ReplyRun.problem_id == problem_id))
        return [r.outcome for r in runs if r.approved]


def test_approve_with_bearer_approves_once_and_audits(
    client: FlaskClient, rt: Runtime, ids: dict[str, int]
) -> None:
    held = seed_held(rt)
    url = f"/api/problems/{held}/approve"
    first = client.post(url, headers=AUTH)
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["changed"] is True and first.get_json()["tickets"] == 4
    again = client.post(url, headers=AUTH)
    assert again.status_code == 200 and again.get_json()["changed"] is False
    assert approved_outcomes(rt, held) == ["fixed"]
    assert approvals(rt, held) == ["api"]
    detail = get(client, f"/api/problems/{held}")
    assert detail["reply"]["outcome"] == "fixed" and detail["reply"]["approved"] is True
    assert detail["reply"]["owed"] == 4  # three replies and one follow-up of a closed ticket
    assert client.post("/api/problems/999999/approve", headers=AUTH).status_code == 404


def test_approving_a_problem_that_owes_no_reply_is_a_conflict(
    client: FlaskClient, rt: Runtime, ids: dict[str, int]
) -> None:
    answer = client.post(f"/api/problems/{ids['middle']}/approve", headers=AUTH)
    assert answer.status_code == 409, answer.get_json()
    assert approved_outcomes(rt, ids["middle"]) == []
    assert approvals(rt, ids["middle"]) == []


def test_approving_a_problem_whose_tickets_are_all_answered_is_a_conflict(
    client: FlaskClient, rt: Runtime, ids: dict[str, int]
) -> None:
    """SHIP-2: two replies sent, one failed (parked): nobody is owed the reply, so approving
    it would change nothing a customer sees."""
    answer = client.post(f"/api/problems/{ids['done']}/approve", headers=AUTH)
    assert answer.status_code == 409, answer.get_json()
    assert answer.get_json()["error"] == "nothing_to_approve"
    message = answer.get_json()["message"]
    assert "no ticket is owed the fixed reply" in message and "1 failed" in message
    assert approved_outcomes(rt, ids["done"]) == [] and approvals(rt, ids["done"]) == []
    assert get(client, f"/api/problems/{ids['done']}")["reply"]["owed"] == 0


def test_browser_session_needs_the_csrf_token_to_approve(
    client: FlaskClient, rt: Runtime, ids: dict[str, int]
) -> None:
    login = client.post("/login", data={"token": ADMIN_TOKEN, "next": "/"})
    assert login.status_code == 303
    assert client.get("/api/status").status_code == 200  # the cookie is enough to read
    held = seed_held(rt)
    url = f"/api/problems/{held}/approve"
    assert client.post(url).status_code == 403
    assert client.post(url, headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert approvals(rt, held) == []
    with client.session_transaction() as session:
        csrf = session["csrf"]
    assert client.post(url, headers={"X-CSRF-Token": csrf}).status_code == 200
    assert approvals(rt, held) == ["api"]


def test_failed_events_are_put_back_in_the_queue(
    client: FlaskClient, rt: Runtime, ids: dict[str, int]
) -> None:
    from connector.store.models import EventState, InboundEvent

    with rt.db.session() as s:
        failed = [e.id for e in s.scalars(select(InboundEvent)) if e.state is EventState.FAILED]
    assert failed, "the seed has a failed event"
    url = "/api/events/retry"
    bad_bodies = (
        None,
        {},
        {"ids": []},
        {"ids": ["1"]},
        {"ids": [2**70]},
        {"ids": [0]},
        {"all": True, "ids": failed},
    )
    for body in bad_bodies:
        answer = client.post(url, headers=AUTH, json=body)
        assert answer.status_code == 400, (body, answer.get_json())
    answer = client.post(url, headers=AUTH, json={"ids": failed})
    assert answer.status_code == 200
    assert answer.get_json() == {"retried": failed, "count": len(failed)}
    with rt.db.session() as s:
        states = {e.id: (e.state, e.attempts) for e in s.scalars(select(InboundEvent))}
    assert all(states[i] == (EventState.PENDING, 0) for i in failed)
    assert client.post(url, headers=AUTH, json={"all": True}).get_json()["count"] == 0
    assert client.post(url, json={"all": True}).status_code == 401


def test_ids_past_the_schema_and_non_ascii_csrf_are_refused_not_500(
    client: FlaskClient, ids: dict[str, int]
) -> None:
    for path in ("/api/problems/99999999999999999999", "/api/problems/2147483648"):
        assert client.get(path, headers=AUTH).status_code == 404
        assert client.post(path + "/approve", headers=AUTH).status_code == 404
    login = client.post("/login", data={"token": ADMIN_TOKEN, "next": "/"})
    assert login.status_code == 303
    url = f"/api/problems/{ids['done']}/approve"
    assert client.post(url, headers={"X-CSRF-Token": "jeton-\u00e9"}).status_code == 403


def test_parked_replies_are_sent_again_once(
    client: FlaskClient, rt: Runtime, ids: dict[str, int]
) -> None:
    from connector.store.models import Reply, ReplyState

    url = f"/api/problems/{ids['done']}/replies/retry"
    assert client.post(url).status_code == 401
    answer = client.post(url, headers=AUTH)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json() == {"problem_id": ids["done"], "retried": 1}
    with rt.db.session() as s:
        states = [r.state for r in s.scalars(select(Reply).where(Reply.problem_id == ids["done"]))]
        actions = [a.action for a in s.scalars(select(AuditEntry))]
    assert ReplyState.FAILED not in states and states.count(ReplyState.PENDING) == 1
    assert "replies.retried" in actions
    assert client.post(url, headers=AUTH).get_json()["retried"] == 0  # once
    assert rt.huey.pending_count() >= 1  # the fan-out is asked for
    middle = client.post(f"/api/problems/{ids['middle']}/replies/retry", headers=AUTH)
    assert middle.status_code == 409  # its issue is not resolved: no reply is owed
    assert client.post("/api/problems/999999/replies/retry", headers=AUTH).status_code == 404


def test_status_lists_work_retrying_through_an_outage(
    client: FlaskClient, rt: Runtime, ids: dict[str, int]
) -> None:
    from datetime import timedelta

    from connector.store.models import InboundEvent, utcnow

    since = utcnow() - timedelta(minutes=3)
    with rt.db.session() as s:
        s.add(
            InboundEvent(
                source="zendesk",
                delivery_id="outage-1",
                event_type="zen:event-type:ticket.created",
                attempts=4,
                first_failed_at=since,
                next_attempt_at=since + timedelta(minutes=4),
            )
        )
    retrying = get(client, "/api/status")["retrying"]
    assert retrying["events"]["count"] == 1
    assert retrying["events"]["failing_since"].startswith(since.isoformat()[:19])
    assert retrying["replies"] == {"count": 0, "failing_since": None, "next_attempt_at": None}
