"""What the webhook receivers do when things go wrong: database or queue down, bugs, arbitrary
input (hypothesis), and many identical deliveries at the same moment."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import threading
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import hypothesis
import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from prometheus_client import REGISTRY
from pydantic import SecretStr
from sqlalchemy import select
from werkzeug.test import TestResponse

from connector.bootstrap import WorkerContext as Runtime
from connector.config import load_config
from connector.jira import webhook as jira_webhook
from connector.settings import Settings
from connector.store.models import InboundEvent
from connector.webhook_app import create_app
from connector.zendesk import webhook as zendesk_webhook

ZENDESK_SECRET = "zendesk-secret-for-resilience"
JIRA_SECRET = "jira-secret-for-resilience"
FIXTURES = Path(__file__).parent / "fixtures"
TRIGGER = (FIXTURES / "zendesk" / "ticket_changed__updated.json").read_bytes()
JIRA_UPDATED = (FIXTURES / "jira" / "issue_updated__status.json").read_bytes()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return secrets(
        Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=database_url,
            queue_path=str(tmp_path / "queue.db"),
            event_coalesce_seconds=0,  # enqueue on every event: counted below
        )
    )


def secrets(settings: Settings, **changes: Any) -> Settings:
    update = {
        "zendesk_webhook_secret": SecretStr(ZENDESK_SECRET),
        "jira_webhook_secret": SecretStr(JIRA_SECRET),
        **changes,
    }
    return settings.model_copy(update=update)


def zendesk_headers(body: bytes, invocation: str | None = None) -> dict[str, str]:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    mac = hmac.new(ZENDESK_SECRET.encode(), stamp.encode() + body, hashlib.sha256).digest()
    headers = {
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
        "X-Zendesk-Webhook-Signature": base64.b64encode(mac).decode(),
    }
    if invocation:
        headers["X-Zendesk-Webhook-Invocation-Id"] = invocation
    return headers


def jira_headers(body: bytes, identifier: str | None = None) -> dict[str, str]:
    digest = hmac.new(JIRA_SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {"X-Hub-Signature": "sha256=" + digest}
    if identifier:
        headers["X-Atlassian-Webhook-Identifier"] = identifier
    return headers


def post_zendesk(client: FlaskClient, body: bytes, invocation: str | None = None) -> TestResponse:
    return client.post("/webhooks/zendesk", data=body, headers=zendesk_headers(body, invocation))


def stored(runtime: Runtime) -> list[InboundEvent]:
    with runtime.db.session() as session:
        return list(session.scalars(select(InboundEvent).order_by(InboundEvent.id)))


def count(source: str, outcome: str) -> float:
    labels = {"source": source, "outcome": outcome}
    return REGISTRY.get_sample_value("connector_webhooks_total", labels) or 0.0


# ---- database and queue down ------------------------------------------------------------------
@pytest.mark.parametrize(
    "url", ["postgresql://postgres:hunter2@127.0.0.1:1/nowhere", "sqlite:////nonexistent/dir/c.db"]
)
def test_database_down_is_503_with_a_reason_and_no_leak(tmp_path: Path, url: str) -> None:
    base = Settings(_env_file=None, database_url=url, queue_path=str(tmp_path / "q"))  # type: ignore[call-arg]
    settings = secrets(base)
    client = create_app(settings, load_config()).test_client()
    before = count("zendesk", "unavailable")
    for response in (
        post_zendesk(client, TRIGGER, "inv-1"),
        client.post("/webhooks/jira", data=JIRA_UPDATED, headers=jira_headers(JIRA_UPDATED)),
    ):
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "10"
        assert response.json is not None
        assert response.json["status"] == "unavailable"
        assert "database unavailable" in response.json["reason"]
        text = response.get_data(as_text=True)
        assert "hunter2" not in text and "Traceback" not in text and "nonexistent" not in text
    assert count("zendesk", "unavailable") == before + 1


def test_queue_down_still_acknowledges_the_stored_event(runtime: Runtime) -> None:
    settings = runtime.settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    client = create_app(runtime=Runtime(settings, runtime.config)).test_client()
    response = post_zendesk(client, TRIGGER, "inv-1")
    assert response.status_code == 202
    [event] = stored(runtime)
    assert response.json == {"status": "accepted", "event_id": event.id}
    assert event.state == "pending"  # reconcile finds it: stale pending events are re-triggered


def test_an_unexpected_error_is_503_not_500_and_nothing_leaks(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError(f"bug holding {ZENDESK_SECRET}")

    monkeypatch.setattr("connector.web.webhooks.store_event", broken)
    client = create_app(runtime=runtime).test_client()
    response = post_zendesk(client, TRIGGER)
    assert response.status_code == 503
    assert response.json == {
        "status": "unavailable",
        "reason": "unexpected error; the event was not stored, retry later",
    }
    assert stored(runtime) == []


def test_outcomes_are_counted_for_metrics(runtime: Runtime) -> None:
    client = create_app(runtime=runtime).test_client()
    before = {o: count("zendesk", o) for o in ("accepted", "duplicate", "rejected_signature")}
    post_zendesk(client, TRIGGER, "inv-1")
    post_zendesk(client, TRIGGER, "inv-1")
    client.post("/webhooks/zendesk", data=TRIGGER)
    after = {o: count("zendesk", o) for o in before}
    assert after == {o: before[o] + 1 for o in before}


# ---- arbitrary input --------------------------------------------------------------------------
def assert_well_formed(event: InboundEvent) -> None:
    p = event.payload
    assert p is not None
    assert event.content_hash is not None and len(event.content_hash) == 64
    assert 0 < len(event.delivery_id) <= 128
    if event.source == "zendesk":
        assert set(p) == {"ticket_id", "actor_id", "updated_at", "status", "type", "kind"}
        assert type(p["ticket_id"]) is int and 0 < p["ticket_id"] < 2**63
        assert event.subject_id == str(p["ticket_id"])
        assert p["actor_id"] is None or (type(p["actor_id"]) is int and p["actor_id"] > 0)
        assert p["updated_at"] is None or isinstance(p["updated_at"], str)
        assert p["status"] is None or p["status"] == p["status"].lower()
        assert p["kind"] in {"trigger", "event"}
        assert event.event_type in zendesk_webhook.HANDLED
    else:
        assert event.source == "jira"
        assert set(p) == {
            "issue_id",
            "issue_key",
            "actor_account_id",
            "timestamp",
            "webhook_event",
            "changelog_fields",
            "status_category",
        }
        assert p["issue_id"].isdigit() and event.subject_id == p["issue_id"]
        assert isinstance(p["issue_key"], str) and p["issue_key"]
        assert p["actor_account_id"] is None or isinstance(p["actor_account_id"], str)
        assert p["timestamp"] is None or type(p["timestamp"]) is int
        assert all(isinstance(f, str) for f in p["changelog_fields"])
        assert event.event_type == p["webhook_event"] in jira_webhook.HANDLED


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.text(max_size=40),
    st.sampled_from(["5201", "0", "-1", "{{ticket.id}}", "OPEN", " 7", "٣", "9" * 25, "\x00"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
ids = st.one_of(
    st.integers(min_value=1, max_value=2**63 - 1),
    st.integers(min_value=1, max_value=10**12).map(str),
    scalars,
)
texts = st.one_of(st.text(max_size=20), scalars)
zendesk_types = st.sampled_from(
    [
        f"zen:event-type:{t}"
        for t in sorted(zendesk_webhook.HANDLED_EVENTS | set(zendesk_webhook.IGNORED))
    ]
    + ["zen:event-type:ticket.unknown", "ticket.created", ""]
)
zendesk_bodies = st.one_of(
    st.fixed_dictionaries(
        {"ticket_id": ids},
        optional={
            "source": st.just("zendesk-trigger"),
            "actor_id": ids,
            "status": texts,
            "updated_at": texts,
        },
    ),
    st.fixed_dictionaries(
        {"type": zendesk_types},
        optional={
            "subject": st.one_of(texts, ids.map(lambda i: f"zen:ticket:{i}")),
            "detail": st.one_of(
                json_values,
                st.fixed_dictionaries(
                    {"id": ids},
                    optional={"status": texts, "actor_id": ids, "updated_at": texts},
                ),
            ),
            "time": texts,
        },
    ),
    json_values,
)
status_fields = st.fixed_dictionaries(
    {"status": st.fixed_dictionaries({"statusCategory": st.fixed_dictionaries({"key": texts})})}
)
jira_bodies = st.one_of(
    st.fixed_dictionaries(
        {
            "webhookEvent": st.sampled_from(
                [*sorted(jira_webhook.HANDLED), "comment_updated", "x", ""]
            )
        },
        optional={
            "issue": st.one_of(
                json_values,
                st.fixed_dictionaries(
                    {"id": ids, "key": texts},
                    optional={"fields": st.one_of(json_values, status_fields)},
                ),
            ),
            "user": st.one_of(json_values, st.fixed_dictionaries({"accountId": texts})),
            "timestamp": st.one_of(ids, scalars),
            "changelog": st.one_of(
                json_values,
                st.fixed_dictionaries(
                    {"items": st.lists(st.fixed_dictionaries({"field": texts}), max_size=3)}
                ),
            ),
            "comment": json_values,
        },
    ),
    json_values,
)
FIXTURE_BODIES = [
    (source, json.loads(path.read_text("utf-8")))
    for source in ("zendesk", "jira")
    for path in sorted((FIXTURES / source).glob("*.json"))
]


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    children = value.items() if isinstance(value, dict) else enumerate(value)
    found = []
    for key, child in children:
        found.append((*prefix, key))
        if isinstance(child, dict | list):
            found.extend(paths(child, (*prefix, key)))
    return found


@st.composite
def mutated_fixtures(draw: st.DrawFn) -> tuple[str, Any, bool]:
    """A real fixture with up to three values replaced or removed: mostly near-valid input."""
    source, body = draw(st.sampled_from(FIXTURE_BODIES))
    body = copy.deepcopy(body)
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        path = draw(st.sampled_from(paths(body) or [()]))
        if not path:
            break
        parent = body
        for key in path[:-1]:
            parent = parent[key]
        if isinstance(parent, dict) and draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(st.one_of(ids, json_values))
    return source, body, draw(st.booleans())


bodies = st.one_of(
    st.binary(max_size=300),
    mutated_fixtures(),
    mutated_fixtures(),
    mutated_fixtures(),
    st.tuples(zendesk_bodies, st.booleans()).map(lambda b: ("zendesk", *b)),
    st.tuples(jira_bodies, st.booleans()).map(lambda b: ("jira", *b)),
)


@hypothesis_settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    data=bodies,
    signed=st.sampled_from([True, True, False]),
    source=st.sampled_from(["zendesk", "jira"]),
)
def test_arbitrary_input_never_yields_500_nor_stores_anything_malformed(
    runtime: Runtime, data: Any, signed: bool, source: str
) -> None:
    if isinstance(data, tuple):
        source, value, as_text = data
        body = json.dumps(value, ensure_ascii=not as_text).encode("utf-8", "surrogatepass")
    else:
        body = data
    before = len(stored(runtime))
    headers: dict[str, str] = {}
    if signed:
        builder = zendesk_headers if source == "zendesk" else jira_headers
        headers = builder(body, str(uuid.uuid4()))
    client = create_app(runtime=runtime).test_client()
    response = client.post(f"/webhooks/{source}", data=body, headers=headers)
    hypothesis.event(f"{source} {'signed' if signed else 'unsigned'} {response.status_code}")
    assert response.status_code in {200, 202, 400, 401, 503}, response.data
    assert response.status_code != 503, response.json  # the database is up
    if not signed:
        assert response.status_code == 401
    events = stored(runtime)
    assert len(events) == before + (response.status_code == 202)
    for event in events:
        assert_well_formed(event)


# ---- concurrency ------------------------------------------------------------------------------
def post_at_once(runtime: Runtime, requests: list[tuple[bytes, dict[str, str]]]) -> list[int]:
    app = create_app(runtime=runtime)
    barrier = threading.Barrier(len(requests))
    statuses: list[int] = []

    def send(body: bytes, headers: dict[str, str]) -> None:
        client = app.test_client()
        barrier.wait()
        statuses.append(client.post("/webhooks/zendesk", data=body, headers=headers).status_code)

    threads = [threading.Thread(target=send, args=request) for request in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses


def test_twenty_simultaneous_copies_of_one_delivery_store_one_event(runtime: Runtime) -> None:
    headers = zendesk_headers(TRIGGER, "inv-same")
    statuses = post_at_once(runtime, [(TRIGGER, headers)] * 20)
    assert Counter(statuses) == {202: 1, 200: 19}
    assert len(stored(runtime)) == 1
    assert runtime.huey.pending_count() == 1


def test_twenty_simultaneous_copies_under_new_ids_store_one_event(runtime: Runtime) -> None:
    requests = [(TRIGGER, zendesk_headers(TRIGGER, f"inv-{n}")) for n in range(20)]
    statuses = post_at_once(runtime, requests)
    assert Counter(statuses) == {202: 1, 200: 19}
    assert len(stored(runtime)) == 1


def test_twenty_simultaneous_distinct_deliveries_are_all_stored(runtime: Runtime) -> None:
    requests = []
    for n in range(20):
        body = TRIGGER.replace(b"5201", str(7000 + n).encode())
        requests.append((body, zendesk_headers(body, f"inv-{n}")))
    assert Counter(post_at_once(runtime, requests)) == {202: 20}
    assert sorted(int(e.subject_id or 0) for e in stored(runtime)) == list(range(7000, 7020))
