"""Sample responses of every endpoint family the sandbox fakes validate against the response
schemas of Atlassian's published v3 OpenAPI spec (extracted into tests/data/jira/schemas.json by
tests/data/jira/extract_schemas.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from openapi_schema_validator import OAS30Validator

from connector_sandboxes.jira import JiraSandbox

SCHEMAS = json.loads((Path(__file__).parents[1] / "data" / "jira" / "schemas.json").read_text())
AUTH = ("admin@example.com", "sandbox")
CF = "com.atlassian.jira.plugin.system.customfieldtypes:"


@pytest.fixture(scope="module")
def samples() -> Iterator[dict[str, Any]]:
    """One real response per endpoint, collected from a populated sandbox over HTTP."""
    sb = JiraSandbox()
    base = sb.start() + "/rest/api/3"
    http = requests.Session()
    http.auth = AUTH

    def call(method: str, path: str, **kwargs: Any) -> Any:
        response = http.request(method, base + path, timeout=10, **kwargs)
        assert response.ok, (method, path, response.status_code, response.text)
        return response.json()

    fields = {
        "project": {"key": "ENG"},
        "issuetype": {"name": "Bug"},
        "summary": "Sample",
        "labels": ["a"],
        "components": [{"name": "Support"}],
        "fixVersions": [{"name": "2.0"}],
    }
    created = call("POST", "/issue", json={"fields": fields})
    other = call("POST", "/issue", json={"fields": {**fields, "summary": "Other"}})
    key = created["key"]
    sb.human_transition(key, "Done", resolution="Fixed")
    sb.human_update(key, priority="High", customfield_10050="Answer", customfield_10055="Defect")
    http.post(
        f"{base}/issueLink",
        json={
            "type": {"name": "Duplicate"},
            "inwardIssue": {"key": other["key"]},
            "outwardIssue": {"key": key},
        },
    )
    http.put(f"{base}/issue/{key}/properties/p", json={"x": 1})
    remote = {
        "globalId": "g1",
        "object": {"url": "https://z/1", "title": "T", "status": {"resolved": True}},
    }
    link_id = sb.state.links and next(iter(sb.state.links))
    out = {
        "GET /rest/api/3/serverInfo": call("GET", "/serverInfo"),
        "GET /rest/api/3/myself": call("GET", "/myself"),
        "GET /rest/api/3/project": call("GET", "/project"),
        "GET /rest/api/3/project/{projectIdOrKey}": call("GET", "/project/ENG"),
        "GET /rest/api/3/issuetype": call("GET", "/issuetype"),
        "GET /rest/api/3/priority": call("GET", "/priority"),
        "GET /rest/api/3/resolution": call("GET", "/resolution"),
        "GET /rest/api/3/status": call("GET", "/status"),
        "GET /rest/api/3/statuscategory": call("GET", "/statuscategory"),
        "GET /rest/api/3/field": call("GET", "/field"),
        "POST /rest/api/3/issue": created,
        "GET /rest/api/3/issue/{issueIdOrKey}": call(
            "GET",
            f"/issue/{key}",
            params={
                "expand": "names,schema,changelog,renderedFields",
                "properties": "p",
            },
        ),
        "GET /rest/api/3/issue/{issueIdOrKey}/transitions": call(
            "GET", f"/issue/{key}/transitions", params={"expand": "transitions.fields"}
        ),
        "POST /rest/api/3/issue/{issueIdOrKey}/comment": call(
            "POST", f"/issue/{key}/comment", json={"body": "hi"}
        ),
        "GET /rest/api/3/issue/{issueIdOrKey}/comment": call("GET", f"/issue/{key}/comment"),
        "POST /rest/api/3/issue/{issueIdOrKey}/remotelink": call(
            "POST", f"/issue/{key}/remotelink", json=remote
        ),
        "GET /rest/api/3/issue/{issueIdOrKey}/properties": call("GET", f"/issue/{key}/properties"),
        "GET /rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}": call(
            "GET", f"/issue/{key}/properties/p"
        ),
        "GET /rest/api/3/issueLinkType": call("GET", "/issueLinkType"),
        "GET /rest/api/3/issueLink/{linkId}": call("GET", f"/issueLink/{link_id}"),
        "GET /rest/api/3/search/jql": call(
            "GET", "/search/jql", params={"jql": "project = ENG", "fields": "*all", "maxResults": 1}
        ),
        "POST /rest/api/3/search/approximate-count": call(
            "POST", "/search/approximate-count", json={"jql": "project = ENG"}
        ),
    }
    new_field = call(
        "POST",
        "/field",
        json={"name": "Open tickets", "type": f"{CF}float", "searcherKey": f"{CF}exactnumber"},
    )
    project_id = sb.state.projects["ENG"].id
    schemes = call("GET", "/issuetypescreenscheme/project", params={"projectId": project_id})
    scheme_id = schemes["values"][0]["issueTypeScreenScheme"]["id"]
    items = call(
        "GET", "/issuetypescreenscheme/mapping", params={"issueTypeScreenSchemeId": scheme_id}
    )
    screen_scheme = call(
        "GET", "/screenscheme", params={"id": items["values"][0]["screenSchemeId"]}
    )
    screen = screen_scheme["values"][0]["screens"]["default"]
    tabs = call("GET", f"/screens/{screen}/tabs")
    tab_fields = f"/screens/{screen}/tabs/{tabs[0]['id']}/fields"
    out.update(
        {
            "POST /rest/api/3/field": new_field,
            "GET /rest/api/3/issuetypescreenscheme/project": schemes,
            "GET /rest/api/3/issuetypescreenscheme/mapping": items,
            "GET /rest/api/3/screenscheme": screen_scheme,
            "GET /rest/api/3/screens/{screenId}/tabs": tabs,
            "POST /rest/api/3/screens/{screenId}/tabs/{tabId}/fields": call(
                "POST", tab_fields, json={"fieldId": new_field["id"]}
            ),
            "GET /rest/api/3/screens/{screenId}/tabs/{tabId}/fields": call("GET", tab_fields),
        }
    )
    # The spec types this endpoint as one link; Jira (and the sandbox) answer a list of them.
    out["GET /rest/api/3/issue/{issueIdOrKey}/remotelink"] = call("GET", f"/issue/{key}/remotelink")
    yield out
    sb.stop()


def _validate(instance: Any, schema: dict[str, Any]) -> None:
    document = {**schema, "components": SCHEMAS["components"]}
    OAS30Validator(document).validate(instance)


@pytest.mark.parametrize("endpoint", sorted(SCHEMAS["endpoints"]))
def test_response_matches_published_schema(samples: dict[str, Any], endpoint: str) -> None:
    sample, schema = samples[endpoint], SCHEMAS["endpoints"][endpoint]
    if endpoint.endswith("/remotelink") and endpoint.startswith("GET"):
        assert isinstance(sample, list) and sample
        for link in sample:
            _validate(link, schema)
        return
    _validate(sample, schema)


def test_every_endpoint_has_a_sample(samples: dict[str, Any]) -> None:
    assert set(samples) == set(SCHEMAS["endpoints"])


def test_schemas_are_strict_enough_to_catch_drift(samples: dict[str, Any]) -> None:
    """A made-up property on a closed schema fails: the check is not vacuous."""
    broken = {**samples["GET /rest/api/3/myself"], "madeUp": 1}
    with pytest.raises(Exception, match="madeUp"):
        _validate(broken, SCHEMAS["endpoints"]["GET /rest/api/3/myself"])
