"""`update_many` jobs: both request forms, the queued -> working -> completed life cycle, per-ticket
results (closed tickets fail inside the job), the 100-ticket and 30-job limits."""

from __future__ import annotations

import time
from typing import Any

import requests
from zendesk_client import zenpy_client
from zenpy.lib.api_objects import Comment, Ticket

from connector_sandboxes.zendesk import ZendeskSandbox


def make_tickets(http: requests.Session, url: str, count: int) -> list[int]:
    ids = []
    for n in range(count):
        body = {"ticket": {"subject": f"t{n}", "comment": {"body": "help"}}}
        ids.append(http.post(f"{url}/api/v2/tickets.json", json=body).json()["ticket"]["id"])
    return ids


def poll(http: requests.Session, url: str, job_id: str) -> dict[str, Any]:
    answer = http.get(f"{url}/api/v2/job_statuses/{job_id}.json")
    assert answer.status_code == 200
    job: dict[str, Any] = answer.json()["job_status"]
    return job


def test_job_life_cycle_with_ids_form(sandbox: ZendeskSandbox, http: requests.Session) -> None:
    ids = make_tickets(http, sandbox.url, 5)
    with sandbox.pause_jobs():
        answer = http.put(
            f"{sandbox.url}/api/v2/tickets/update_many.json",
            params={"ids": ",".join(map(str, ids))},
            json={"ticket": {"status": "solved", "comment": {"body": "Fixed, {{ticket.id}}"}}},
        )
        assert answer.status_code == 200
        queued = answer.json()["job_status"]
        assert (queued["status"], queued["progress"], queued["total"]) == ("queued", None, 5)
        assert queued["results"] is None and queued["id"].startswith("V3-")
        assert poll(http, sandbox.url, queued["id"])["status"] == "queued"
    seen = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        job = poll(http, sandbox.url, queued["id"])
        seen.append(job["status"])
        if job["status"] == "working":
            assert job["message"].startswith("Updating ticket #") or job["progress"] == 0
        if job["status"] == "completed":
            break
    assert "working" in seen and seen[-1] == "completed"
    assert job["progress"] == 5 and job["message"].startswith("Completed at ")
    assert job["results"] == [
        {"id": i, "action": "update", "success": True, "status": "Updated"} for i in ids
    ]
    for ticket_id in ids:
        assert sandbox.ticket(ticket_id)["status"] == "solved"
        assert sandbox.comments(ticket_id)[-1]["body"] == f"Fixed, {ticket_id}"


def test_tickets_form_through_zenpy_with_a_closed_ticket(
    sandbox: ZendeskSandbox, http: requests.Session
) -> None:
    zd = zenpy_client(sandbox.url)
    tickets = [
        zd.tickets.create(Ticket(subject=f"s{n}", comment=Comment(body="b"))).ticket
        for n in range(3)
    ]
    sandbox.close_ticket(tickets[1].id)
    for ticket in tickets:
        ticket.tags = ["bulk"]
    job = zd.tickets.update(tickets)
    assert job.status == "queued"
    assert sandbox.wait_for_jobs(5)
    results = zd.job_status(id=job.id).results
    by_id = {r.id: r.to_dict() for r in results}
    assert by_id[tickets[0].id]["success"] is True
    failed = by_id[tickets[1].id]
    assert failed["success"] is False and failed["action"] == "update"
    assert failed["details"] == "Status: closed prevents ticket update"
    assert sandbox.ticket(tickets[1].id)["tags"] == []
    assert sandbox.ticket(tickets[2].id)["tags"] == ["bulk"]


def test_missing_ticket_fails_only_its_result(
    sandbox: ZendeskSandbox, http: requests.Session
) -> None:
    [ticket_id] = make_tickets(http, sandbox.url, 1)
    body = {"tickets": [{"id": ticket_id, "priority": "high"}, {"id": 999999, "priority": "high"}]}
    job = http.put(f"{sandbox.url}/api/v2/tickets/update_many.json", json=body).json()
    assert sandbox.wait_for_jobs(5)
    results = poll(http, sandbox.url, job["job_status"]["id"])["results"]
    assert [r["success"] for r in results] == [True, False]
    assert results[1]["error"] == "RecordNotFound"


def test_more_than_100_tickets_is_a_400(sandbox: ZendeskSandbox, http: requests.Session) -> None:
    url = f"{sandbox.url}/api/v2/tickets/update_many.json"
    ids = ",".join(str(n) for n in range(1, 102))
    answer = http.put(url, params={"ids": ids}, json={"ticket": {"status": "open"}})
    assert answer.status_code == 400 and answer.json()["error"] == "TooManyValues"
    many = {"tickets": [{"id": n, "status": "open"} for n in range(1, 102)]}
    assert http.put(url, json=many).json()["max_count"] == 100


def test_thirty_jobs_at_most(sandbox: ZendeskSandbox, http: requests.Session) -> None:
    [ticket_id] = make_tickets(http, sandbox.url, 1)
    url = f"{sandbox.url}/api/v2/tickets/update_many.json"
    body = {"ticket": {"additional_tags": ["x"]}}
    with sandbox.pause_jobs():
        jobs = [http.put(url, params={"ids": ticket_id}, json=body) for _ in range(30)]
        assert all(j.status_code == 200 for j in jobs)
        refused = http.put(url, params={"ids": ticket_id}, json=body)
        assert refused.status_code == 429
        assert refused.json()["error"] == "TooManyJobs"
        ids = ",".join(j.json()["job_status"]["id"] for j in jobs[:3])
        listed = http.get(f"{sandbox.url}/api/v2/job_statuses/show_many.json", params={"ids": ids})
        assert [j["status"] for j in listed.json()["job_statuses"]] == ["queued"] * 3
    assert sandbox.wait_for_jobs(10)
    assert http.put(url, params={"ids": ticket_id}, json=body).status_code == 200


def test_released_jobs_run_while_the_rest_stay_held(
    sandbox: ZendeskSandbox, http: requests.Session
) -> None:
    [ticket_id] = make_tickets(http, sandbox.url, 1)
    url = f"{sandbox.url}/api/v2/tickets/update_many.json"
    body = {"ticket": {"additional_tags": ["x"]}}
    with sandbox.pause_jobs():
        jobs = [http.put(url, params={"ids": ticket_id}, json=body) for _ in range(3)]
        ids = [j.json()["job_status"]["id"] for j in jobs]
        target = sandbox.jobs.completed_count() + 2
        sandbox.jobs.release(2)
        deadline = time.monotonic() + 10
        while sandbox.jobs.completed_count() < target:
            assert time.monotonic() < deadline, "released jobs did not complete"
            time.sleep(0.05)
        assert [poll(http, sandbox.url, i)["status"] for i in ids] == [
            "completed",
            "completed",
            "queued",
        ]
    assert sandbox.wait_for_jobs(10)
    assert poll(http, sandbox.url, ids[2])["status"] == "completed"
