"""The sandbox answers like the real Zendesk did in recorded exchanges (tests/data/zendesk/
recorded_subset.jsonl, from zenpy's cassettes): same status codes, the recorded keys with the same
JSON types, the job_status life cycle, error bodies and rate-limit headers."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from connector_sandboxes.zendesk import ZendeskSandbox

RECORDED = {
    r["index"]: r
    for r in map(
        json.loads,
        (Path(__file__).parents[1] / "data" / "zendesk" / "recorded_subset.jsonl").open(),
    )
}


def assert_same_shape(recorded: Any, actual: Any, where: str = "$") -> None:
    """Every recorded key is present with the same JSON type (null matches anything)."""
    if recorded is None or actual is None:
        return
    assert type(actual) is type(recorded) or {type(actual), type(recorded)} <= {int, float}, (
        f"{where}: {type(recorded).__name__} recorded, {type(actual).__name__} from sandbox"
    )
    if isinstance(recorded, dict):
        missing = set(recorded) - set(actual)
        assert not missing, f"{where}: sandbox lacks {sorted(missing)}"
        for key, value in recorded.items():
            assert_same_shape(value, actual[key], f"{where}.{key}")
    elif isinstance(recorded, list) and recorded and actual:
        assert_same_shape(recorded[0], actual[0], f"{where}[0]")


def replay(
    http: requests.Session,
    sandbox: ZendeskSandbox,
    index: int,
    path: str = "",
    body: Any = "recorded",
) -> requests.Response:
    recorded = RECORDED[index]
    answer = http.request(
        recorded["method"],
        sandbox.url + (path or recorded["path"]),
        json=recorded["request"] if body == "recorded" else body,
    )
    assert answer.status_code == recorded["status"], answer.text
    assert {"x-rate-limit", "x-rate-limit-remaining"} <= {h.lower() for h in answer.headers}
    if recorded["response"] is not None:
        assert_same_shape(recorded["response"], answer.json())
    return answer


@pytest.mark.parametrize("index", [0, 19, 25, 35])
def test_creations_answer_like_zendesk(
    http: requests.Session, sandbox: ZendeskSandbox, index: int
) -> None:
    answer = replay(http, sandbox, index)
    assert answer.headers["Location"].endswith(".json")


def test_ticket_update_and_show_many(http: requests.Session, sandbox: ZendeskSandbox) -> None:
    ticket_id = replay(http, sandbox, 19).json()["ticket"]["id"]
    body = {"ticket": {**RECORDED[23]["request"]["ticket"], "id": ticket_id}}
    updated = replay(http, sandbox, 23, f"/api/v2/tickets/{ticket_id}.json", body).json()
    assert updated["audit"]["events"][0]["type"] == "Change"
    assert updated["audit"]["events"][0]["previous_value"] == "test"
    replay(http, sandbox, 15, f"/api/v2/tickets/show_many.json?ids={ticket_id}", None)


def test_errors_have_zendesks_bodies(http: requests.Session, sandbox: ZendeskSandbox) -> None:
    assert replay(http, sandbox, 24).json() == RECORDED[24]["response"]
    # Recorded on create_many; update_many answers more than 100 tickets the same way.
    many = {"tickets": [{"id": n, "status": "open"} for n in range(1, 102)]}
    answer = http.put(sandbox.url + "/api/v2/tickets/update_many.json", json=many)
    assert (answer.status_code, answer.json()) == (RECORDED[18]["status"], RECORDED[18]["response"])
    ids = ",".join(str(n) for n in range(1, 102))
    answer = http.put(
        f"{sandbox.url}/api/v2/tickets/update_many.json?ids={ids}",
        json={"ticket": {"status": "open"}},
    )
    assert answer.status_code == 400
    assert_same_shape(RECORDED[18]["response"], answer.json())


def test_ticket_field_update_ignores_type_and_delete_is_204(
    http: requests.Session, sandbox: ZendeskSandbox
) -> None:
    field_id = replay(http, sandbox, 25).json()["ticket_field"]["id"]
    body = {"ticket_field": {**RECORDED[28]["request"]["ticket_field"], "id": field_id}}
    updated = replay(http, sandbox, 28, f"/api/v2/ticket_fields/{field_id}.json", body).json()
    assert updated["ticket_field"]["type"] == RECORDED[28]["response"]["ticket_field"]["type"]
    replay(http, sandbox, 26, f"/api/v2/ticket_fields/{field_id}.json")


def test_cursor_paginated_ticket_list(http: requests.Session, sandbox: ZendeskSandbox) -> None:
    for _ in range(2):
        replay(http, sandbox, 19)
    page = replay(http, sandbox, 33, "/api/v2/tickets.json?page[size]=1", None).json()
    assert page["meta"]["has_more"] is True
    rest = http.get(page["links"]["next"]).json()
    assert [t["id"] for t in rest["tickets"]] == [2] and rest["meta"]["has_more"] is False


def test_update_many_job_life_cycle_matches_the_recording(
    http: requests.Session, sandbox: ZendeskSandbox
) -> None:
    ids = [replay(http, sandbox, 19).json()["ticket"]["id"] for _ in range(8)]
    changes = RECORDED[9]["request"]["tickets"][0]
    body = {"tickets": [{**changes, "id": i} for i in ids]}
    with sandbox.pause_jobs():
        queued = replay(http, sandbox, 9, body=body).json()["job_status"]
        recorded_queued = RECORDED[9]["response"]["job_status"]
        assert {k: queued[k] for k in ("status", "progress", "message", "results")} == {
            k: recorded_queued[k] for k in ("status", "progress", "message", "results")
        }
        # One ticket through, then held: the job is observed `working`, whatever the speed.
        sandbox.jobs.step(1)
        path = f"/api/v2/job_statuses/{queued['id']}.json"
        polls, deadline = [], time.monotonic() + 10
        while not polls or polls[-1]["progress"] != 1:
            assert time.monotonic() < deadline, f"the job did not move: {polls[-1:]}"
            polls.append(http.get(sandbox.url + path).json()["job_status"])
        working = polls[-1]
    assert working["status"] == "working"
    assert_same_shape(RECORDED[10]["response"]["job_status"], working)
    assert re.fullmatch(r"Updating ticket #\d+", working["message"])
    assert sandbox.wait_for_jobs(10)
    completed = replay(http, sandbox, 12, path, None).json()["job_status"]
    assert re.fullmatch(r"Completed at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000", completed["message"])
    assert [set(r) for r in completed["results"]] == [
        set(RECORDED[12]["response"]["job_status"]["results"][0])
    ] * len(ids)
    assert completed["results"][0] == {
        **RECORDED[17]["response"]["job_status"]["results"][0],
        "id": ids[0],
    }
