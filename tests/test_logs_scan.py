"""A realistic flow over the sandboxes with JSON logs captured: no secret and no customer text
ever reaches a log line, and the connector's own lines carry stable event names."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from connector import logs
from connector.demo.stack import LocalStack
from connector.fields import team_option
from connector.ops.doctor import run_doctor

ZENDESK_TOKEN = "zd-api-token-5b1f0e7c"
JIRA_TOKEN = "jira-api-token-9d2c4a61"
ADMIN_TOKEN = "admin-token-3e8b7f20c1"
COMMENT_MARKER = "customer-words-c0ffee42"
SOLUTION_MARKER = "agreed-fix-words-b16b00b5"
EVENT_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """JSON logs of everything at DEBUG, with a fresh redaction list (as in a new process)."""
    monkeypatch.setattr(logs, "_SECRETS", set())
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    logs.configure_logging("DEBUG", as_json=True)
    stream = io.StringIO()
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    yield stream
    root.handlers[:], level = saved
    root.setLevel(level)


@pytest.fixture
def stack(tmp_path: Path, captured: io.StringIO) -> Iterator[LocalStack]:
    s = LocalStack(
        tmp_path,
        settings={
            "zendesk_api_token": ZENDESK_TOKEN,
            "jira_api_token": JIRA_TOKEN,
            "admin_token": ADMIN_TOKEN,
        },
    )
    s.zendesk.state.token = ZENDESK_TOKEN
    s.jira.token = JIRA_TOKEN
    s.start(install=False)
    yield s
    s.stop()


def test_no_secret_or_customer_text_in_the_logs(stack: LocalStack, captured: io.StringIO) -> None:
    stack.install()
    rt, public = stack.rt, str(stack.rt.settings.public_url).rstrip("/")
    owning_team = [{"id": stack.fields.owning_team, "value": team_option("shipping")}]
    problem = stack.zendesk.agent_create_ticket(
        subject="Parcels stuck",
        comment={"body": f"My parcel is lost. {COMMENT_MARKER}"},
        type="problem",
        custom_fields=owning_team,
    )["id"]
    customer = stack.zendesk.create_user("Dana Customer", "dana@example.com")["id"]
    incident = stack.zendesk.agent_create_ticket(
        subject="Where is my parcel?",
        comment={"body": f"Still waiting! {COMMENT_MARKER}"},
        requester_id=customer,
        type="incident",
        problem_id=problem,
    )["id"]
    stack.zendesk.agent_update_ticket(
        incident, comment={"body": f"Any news? {COMMENT_MARKER}", "public": True}
    )
    stack.drain()
    [key] = stack.jira.issue_keys()
    stack.jira.human_comment(key, f"#customer-reply The hub released them. {SOLUTION_MARKER}")
    stack.jira.human_transition(key, "Done", resolution="Done")
    stack.drain()
    replies = [c["body"] for c in stack.zendesk.comments(incident) if c["public"]]
    assert any(SOLUTION_MARKER in body for body in replies)  # the text went through the system

    # Noise an operator would cause: a forged webhook, a wrong and a right dashboard login,
    # the API, metrics and doctor.
    forged = requests.post(
        f"{public}/webhooks/zendesk",
        data=json.dumps({"comment": COMMENT_MARKER}),
        headers={
            "X-Zendesk-Webhook-Signature": "AAAA",
            "X-Zendesk-Webhook-Signature-Timestamp": "1",
        },
        timeout=10,
    )
    assert forged.status_code == 401
    browser = requests.Session()
    assert browser.get(f"{public}/?token=wrong-{ADMIN_TOKEN[::-1]}", timeout=10).status_code == 401
    assert browser.get(f"{public}/?token={ADMIN_TOKEN}", timeout=10).status_code == 200
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    assert requests.get(f"{public}/api/problems", headers=auth, timeout=10).status_code == 200
    assert requests.get(f"{public}/metrics", timeout=10).status_code == 200
    run_doctor(rt)

    text = captured.getvalue()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert len(lines) > 30, text[:2000]  # the flow did log
    events = {line["event"] for line in lines}
    assert {"webhook.zendesk.accepted", "webhook.zendesk.rejected_signature"} <= events

    secrets = {
        "zendesk api token": ZENDESK_TOKEN,
        "jira api token": JIRA_TOKEN,
        "admin token": ADMIN_TOKEN,
        "zendesk webhook secret": rt.settings.zendesk_webhook_secret.get_secret_value(),  # type: ignore[union-attr]
        "jira webhook secret": rt.settings.jira_webhook_secret.get_secret_value(),  # type: ignore[union-attr]
    }
    for name, secret in secrets.items():
        assert secret not in text, f"{name} in the logs"
    assert logs.REDACTED not in text, "something tried to log a secret (redaction caught it)"
    assert COMMENT_MARKER not in text, "a customer comment body reached the logs"
    assert SOLUTION_MARKER not in text, "the customer-facing solution text reached the logs"

    ours = [line for line in lines if line["logger"].startswith("connector.")]
    ours = [line for line in ours if not line["logger"].startswith("connector_sandboxes")]
    unstable = sorted({line["event"] for line in ours if not EVENT_NAME.match(line["event"])})
    assert unstable == [], unstable
