"""Rate limits (429 with Retry-After, the Update Ticket limit), fault injection, counters, reset
and the `/_sandbox` control API used by other processes."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests
from zendesk_client import zenpy_client
from zenpy.lib.api_objects import Comment, Ticket

from connector_sandboxes.zendesk import ZendeskSandbox

AUTH = ("admin@example.com/token", "sandbox")


@pytest.fixture
def http() -> requests.Session:
    session = requests.Session()
    session.auth = AUTH
    return session


@pytest.fixture(scope="module")
def sandbox() -> Iterator[ZendeskSandbox]:
    sb = ZendeskSandbox()
    sb.start()
    yield sb
    sb.stop()


def test_account_rate_limit_answers_429_with_retry_after(http: requests.Session) -> None:
    sb = ZendeskSandbox(rate_limit=3, rate_window_seconds=1)
    url = sb.start() + "/api/v2/users/me.json"
    try:
        answers = [http.get(url) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert [a.headers["X-Rate-Limit-Remaining"] for a in answers[:3]] == ["2", "1", "0"]
        assert answers[0].headers["X-Rate-Limit"] == "3"
        assert answers[3].headers["Retry-After"] == "1"
        assert sb.counters["throttled"] == 1
        zd = zenpy_client(sb.url)  # zenpy sleeps Retry-After and tries again
        assert zd.users.me().id == sb.admin_user_id
    finally:
        sb.stop()


def test_update_ticket_limit_applies_to_single_updates_only(http: requests.Session) -> None:
    sb = ZendeskSandbox(update_limit_per_minute=2)
    base = sb.start() + "/api/v2"
    try:
        ticket = http.post(
            f"{base}/tickets.json", json={"ticket": {"comment": {"body": "b"}}}
        ).json()["ticket"]
        codes = [
            http.put(
                f"{base}/tickets/{ticket['id']}.json", json={"ticket": {"priority": "high"}}
            ).status_code
            for _ in range(3)
        ]
        assert codes == [200, 200, 429]
        bulk = http.put(
            f"{base}/tickets/update_many.json",
            params={"ids": ticket["id"]},
            json={"ticket": {"priority": "low"}},
        )
        assert bulk.status_code == 200
    finally:
        sb.stop()


def test_fault_injection_by_count_path_and_kind(
    sandbox: ZendeskSandbox, http: requests.Session
) -> None:
    sandbox.reset()
    me = sandbox.url + "/api/v2/users/me.json"
    sandbox.inject_faults(count=2, kind="500", paths=["/tickets"])
    assert http.get(me).status_code == 200  # another path: untouched
    body = {"ticket": {"comment": {"body": "b"}}}
    codes = [
        http.post(sandbox.url + "/api/v2/tickets.json", json=body).status_code for _ in range(3)
    ]
    assert codes == [500, 500, 201]
    assert len(sandbox.tickets()) == 1  # a failed call changes nothing
    sandbox.inject_faults(count=1, kind="429")
    limited = http.get(me)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
    sandbox.inject_faults(count=1, kind="timeout", hang_seconds=1.0)
    with pytest.raises(requests.Timeout):
        http.get(me, timeout=0.2)
    sandbox.inject_faults(fraction=1.0, kind="503")
    assert http.get(me).status_code == 503
    sandbox.clear_faults()
    assert http.get(me).status_code == 200


def test_counters_and_reset(sandbox: ZendeskSandbox) -> None:
    sandbox.reset()
    zd = zenpy_client(sandbox.url)
    ticket = zd.tickets.create(Ticket(subject="s", comment=Comment(body="b"))).ticket
    zd.tickets(id=ticket.id)
    zd.tickets.update([ticket])
    counters = sandbox.counters
    assert counters["POST /tickets"] == 1 and counters["GET /tickets/{id}"] == 1
    assert counters["PUT /tickets/update_many"] == 1 and sandbox.total_calls() == 3
    sandbox.reset()
    assert sandbox.counters == {} and sandbox.tickets() == []
    assert zd.users.me().id == sandbox.admin_user_id


def test_control_api_drives_the_sandbox_from_another_process(
    sandbox: ZendeskSandbox, http: requests.Session
) -> None:
    control = requests.Session()
    ctl = sandbox.url + "/_sandbox"
    assert control.post(ctl + "/reset").json() == {"reset": True}
    summary = control.get(ctl).json()
    assert summary["admin_user_id"] == sandbox.admin_user_id
    user = control.post(ctl + "/users", json={"name": "Jane Doe", "email": "j@example.com"})
    created = control.post(
        ctl + "/agent/tickets",
        json={
            "subject": "s",
            "comment": {"body": "b"},
            "requester_id": user.json()["user"]["id"],
            "status": "solved",
        },
    )
    ticket_id = created.json()["ticket"]["id"]
    assert created.json()["ticket"]["via"]["channel"] == "web"
    assert control.post(f"{ctl}/tickets/{ticket_id}/close").json()["ticket"]["status"] == "closed"
    shown = control.get(f"{ctl}/tickets/{ticket_id}").json()
    assert shown["ticket"]["status"] == "closed" and shown["comments"][0]["body"] == "b"
    put = http.put(f"{sandbox.url}/api/v2/tickets/{ticket_id}.json", json={"ticket": {}})
    assert put.status_code == 422
    assert control.get(ctl + "/counters").json()["counters"]["PUT /tickets/{id}"] == 1
    assert control.post(ctl + "/faults", json={"count": 1, "kind": "500"}).json()["armed"]
    assert http.get(sandbox.url + "/api/v2/users/me.json").status_code == 500
    assert control.post(ctl + "/faults", json={"kind": "nope", "count": 1}).status_code == 400
    assert control.post(ctl + "/jobs", json={"paused": True}).json() == {"paused": True}
    assert sandbox.jobs_paused
    control.post(ctl + "/jobs", json={"paused": False})
    knobs = control.post(ctl + "/webhook_knobs", json={"duplicate": True}).json()
    assert knobs == {"duplicate": True, "reorder": False}
    assert control.post(ctl + "/deliveries/wait", json={"timeout": 1}).json() == {"drained": True}
    assert control.get(ctl + "/tickets/999").status_code == 404
    control.post(ctl + "/reset")
    assert control.get(ctl + "/tickets").json() == {"tickets": []}


def test_incremental_export_can_exclude_the_last_minute(http: requests.Session) -> None:
    sb = ZendeskSandbox(incremental_lag_seconds=60)
    base = sb.start() + "/api/v2"
    try:
        http.post(f"{base}/tickets.json", json={"ticket": {"comment": {"body": "b"}}})
        export = f"{base}/incremental/tickets/cursor.json"
        assert http.get(export, params={"start_time": 0}).json()["tickets"] == []
        sb.advance_clock(61)
        assert len(http.get(export, params={"start_time": 0}).json()["tickets"]) == 1
    finally:
        sb.stop()


def test_serve_forever_prints_its_url(capsys: pytest.CaptureFixture[str]) -> None:
    import threading

    sb = ZendeskSandbox()
    thread = threading.Thread(target=sb.serve_forever, args=("127.0.0.1", 0), daemon=True)
    thread.start()
    printed, deadline = "", time.monotonic() + 5
    while "http://127.0.0.1:" not in printed and time.monotonic() < deadline:
        time.sleep(0.05)
        printed += capsys.readouterr().out
    assert sb.url in printed
    sb.stop()
    thread.join(5)
    assert not thread.is_alive()
