"""A sample response of every endpoint family the Zendesk sandbox fakes validates against the
response schemas of the published OpenAPI specs (extracted into tests/data/zendesk/schemas.json
by tests/data/zendesk/extract_schemas.py)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests
from openapi_schema_validator import OAS30Validator

from connector_sandboxes.zendesk import ZendeskSandbox

SCHEMAS = json.loads((Path(__file__).parents[1] / "data" / "zendesk" / "schemas.json").read_text())


@pytest.fixture(scope="module")
def samples() -> Iterator[dict[str, Any]]:
    """One real response per endpoint, collected from a populated sandbox over HTTP."""
    sb = ZendeskSandbox()
    base = sb.start() + "/api/v2"
    http = requests.Session()
    http.auth = ("admin@example.com/token", "sandbox")
    out: dict[str, Any] = {}

    def call(key: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        method = key.split(" ", 1)[0]
        answer = http.request(method, base + path, **kwargs)
        assert answer.status_code == expect, (key, answer.text)
        out[key] = answer.json()
        return out[key]

    org = call(
        "POST /api/v2/organizations",
        "/organizations.json",
        201,
        json={"organization": {"name": "ACME", "organization_fields": {"customer_value": 5}}},
    )
    org_id = org["organization"]["id"]
    call("GET /api/v2/organizations/{organization_id}", f"/organizations/{org_id}.json")
    call("GET /api/v2/organization_fields", "/organization_fields.json")
    user = call(
        "POST /api/v2/users",
        "/users.json",
        201,
        json={"user": {"name": "Jane Doe", "email": "j@example.com", "organization_id": org_id}},
    )
    user_id = user["user"]["id"]
    call("GET /api/v2/users/me", "/users/me.json")
    call("GET /api/v2/users/{user_id}", f"/users/{user_id}.json")
    call("GET /api/v2/users/show_many", "/users/show_many.json", params={"ids": user_id})
    field = call(
        "POST /api/v2/ticket_fields",
        "/ticket_fields.json",
        201,
        json={
            "ticket_field": {
                "type": "tagger",
                "title": "Team",
                "custom_field_options": [{"name": "A", "value": "t_a"}],
            }
        },
    )
    field_id = field["ticket_field"]["id"]
    call("GET /api/v2/ticket_fields", "/ticket_fields.json")
    call("GET /api/v2/ticket_fields/{ticket_field_id}", f"/ticket_fields/{field_id}.json")
    call(
        "PUT /api/v2/ticket_fields/{ticket_field_id}",
        f"/ticket_fields/{field_id}.json",
        json={"ticket_field": {"title": "Owning team"}},
    )
    call(
        "POST /api/v2/ticket_fields/{ticket_field_id}/options",
        f"/ticket_fields/{field_id}/options.json",
        201,
        json={"custom_field_option": {"name": "B", "value": "t_b"}},
    )
    call(
        "GET /api/v2/ticket_fields/{ticket_field_id}/options",
        f"/ticket_fields/{field_id}/options.json",
    )
    problem = call(
        "POST /api/v2/tickets",
        "/tickets.json",
        201,
        json={
            "ticket": {
                "subject": "Double charge",
                "type": "problem",
                "requester_id": user_id,
                "comment": {"body": "charged twice"},
                "custom_fields": [{"id": field_id, "value": "t_a"}],
            }
        },
    )
    problem_id = problem["ticket"]["id"]
    incident = http.post(
        base + "/tickets.json",
        json={
            "ticket": {"type": "incident", "problem_id": problem_id, "comment": {"body": "me too"}}
        },
    ).json()
    call("GET /api/v2/tickets/{ticket_id}", f"/tickets/{problem_id}.json")
    call(
        "PUT /api/v2/tickets/{ticket_id}",
        f"/tickets/{problem_id}.json",
        json={
            "ticket": {
                "status": "open",
                "comment": {"body": "On it", "public": False},
                "additional_tags": ["x"],
            }
        },
    )
    call(
        "GET /api/v2/tickets/show_many",
        "/tickets/show_many.json",  # as the worker reads tickets: with their names sideloaded
        params={
            "ids": f"{problem_id},{incident['ticket']['id']}",
            "include": "users,organizations",
        },
    )
    call("GET /api/v2/tickets/{ticket_id}/comments", f"/tickets/{problem_id}/comments.json")
    call("GET /api/v2/tickets/{ticket_id}/incidents", f"/tickets/{problem_id}/incidents.json")
    job = call(
        "PUT /api/v2/tickets/update_many",
        "/tickets/update_many.json",
        params={"ids": problem_id},
        json={"ticket": {"priority": "high"}},
    )
    sb.wait_for_jobs(5)
    job_id = job["job_status"]["id"]
    call("GET /api/v2/job_statuses/{job_status_id}", f"/job_statuses/{job_id}.json")
    call(
        "GET /api/v2/job_statuses/show_many", "/job_statuses/show_many.json", params={"ids": job_id}
    )
    call("GET /api/v2/search", "/search.json", params={"query": "type:ticket tags:x"})
    call(
        "GET /api/v2/incremental/tickets/cursor",
        "/incremental/tickets/cursor.json",
        params={"start_time": 0},
    )
    hook = call(
        "POST /api/v2/webhooks",
        "/webhooks",
        201,
        json={
            "webhook": {
                "name": "c",
                "endpoint": "http://127.0.0.1:9/x",
                "http_method": "POST",
                "request_format": "json",
                "status": "active",
                "subscriptions": ["conditional_ticket_events"],
            }
        },
    )
    hook_id = hook["webhook"]["id"]
    call("GET /api/v2/webhooks", "/webhooks")
    call("GET /api/v2/webhooks/{webhook_id}", f"/webhooks/{hook_id}")
    call("GET /api/v2/webhooks/{webhook_id}/signing_secret", f"/webhooks/{hook_id}/signing_secret")
    call(
        "POST /api/v2/webhooks/{webhook_id}/signing_secret",
        f"/webhooks/{hook_id}/signing_secret",
        201,
    )
    call(
        "POST /api/v2/triggers",
        "/triggers.json",
        201,
        json={
            "trigger": {
                "title": "t",
                "conditions": {"all": [{"field": "status", "operator": "changed"}]},
                "actions": [
                    {"field": "notification_webhook", "value": [hook_id, '{"id": "{{ticket.id}}"}']}
                ],
            }
        },
    )
    call("GET /api/v2/triggers", "/triggers.json")
    http.put(base + f"/tickets/{problem_id}.json", json={"ticket": {"status": "pending"}})
    sb.wait_for_deliveries(2)  # nothing listens on port 9: the invocation records failures
    call("GET /api/v2/webhooks/{webhook_id}/invocations", f"/webhooks/{hook_id}/invocations")
    yield out
    sb.stop()


def _validate(instance: Any, schema: dict[str, Any]) -> None:
    document = {**schema, "components": SCHEMAS["components"]}
    OAS30Validator(document).validate(instance)


@pytest.mark.parametrize("endpoint", sorted(SCHEMAS["endpoints"]))
def test_response_matches_published_schema(samples: dict[str, Any], endpoint: str) -> None:
    _validate(samples[endpoint], SCHEMAS["endpoints"][endpoint])


def test_every_endpoint_has_a_sample(samples: dict[str, Any]) -> None:
    assert set(samples) == set(SCHEMAS["endpoints"])


def test_schemas_are_strict_enough_to_catch_drift(samples: dict[str, Any]) -> None:
    broken = copy.deepcopy(samples["GET /api/v2/tickets/{ticket_id}"])
    broken["ticket"]["status"] = "resolved"
    with pytest.raises(jsonschema.ValidationError):
        _validate(broken, SCHEMAS["endpoints"]["GET /api/v2/tickets/{ticket_id}"])
    broken = copy.deepcopy(samples["GET /api/v2/job_statuses/{job_status_id}"])
    broken["job_status"]["progress"] = "3"
    with pytest.raises(jsonschema.ValidationError):
        _validate(broken, SCHEMAS["endpoints"]["GET /api/v2/job_statuses/{job_status_id}"])
