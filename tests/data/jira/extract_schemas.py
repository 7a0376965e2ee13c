"""Extract the response schemas the Jira sandbox contract test needs from Atlassian's v3 spec.

Run from the repository root: `python tests/data/jira/extract_schemas.py ../shared/specs/...json`.
Writes `tests/data/jira/schemas.json` so the test runs without the 2.4 MB spec.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

# "METHOD path" in the v3 spec -> response status whose JSON schema the sandbox must satisfy.
ENDPOINTS = {
    "GET /rest/api/3/serverInfo": "200",
    "GET /rest/api/3/myself": "200",
    "GET /rest/api/3/project": "200",
    "GET /rest/api/3/project/{projectIdOrKey}": "200",
    "GET /rest/api/3/issuetype": "200",
    "GET /rest/api/3/priority": "200",
    "GET /rest/api/3/resolution": "200",
    "GET /rest/api/3/status": "200",
    "GET /rest/api/3/statuscategory": "200",
    "GET /rest/api/3/field": "200",
    "POST /rest/api/3/issue": "201",
    "GET /rest/api/3/issue/{issueIdOrKey}": "200",
    "GET /rest/api/3/issue/{issueIdOrKey}/transitions": "200",
    "GET /rest/api/3/issue/{issueIdOrKey}/comment": "200",
    "POST /rest/api/3/issue/{issueIdOrKey}/comment": "201",
    "GET /rest/api/3/issue/{issueIdOrKey}/remotelink": "200",
    "POST /rest/api/3/issue/{issueIdOrKey}/remotelink": "201",
    "GET /rest/api/3/issue/{issueIdOrKey}/properties": "200",
    "GET /rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}": "200",
    "GET /rest/api/3/issueLinkType": "200",
    "GET /rest/api/3/issueLink/{linkId}": "200",
    "GET /rest/api/3/search/jql": "200",
    "POST /rest/api/3/search/approximate-count": "200",
    "POST /rest/api/3/field": "201",
    "GET /rest/api/3/issuetypescreenscheme/project": "200",
    "GET /rest/api/3/issuetypescreenscheme/mapping": "200",
    "GET /rest/api/3/screenscheme": "200",
    "GET /rest/api/3/screens/{screenId}/tabs": "200",
    "GET /rest/api/3/screens/{screenId}/tabs/{tabId}/fields": "200",
    "POST /rest/api/3/screens/{screenId}/tabs/{tabId}/fields": "200",
}
# Where the published spec disagrees with what Jira sends: changelog items carry nulls.
NULLABLE = {"ChangeDetails": ("from", "fromString", "to", "toString")}


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"].rsplit("/", 1)[1]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node))
    return set()


def extract(spec: dict[str, Any]) -> dict[str, Any]:
    all_schemas = spec["components"]["schemas"]
    endpoints, needed = {}, set()
    for name, status in ENDPOINTS.items():
        method, path = name.split(" ", 1)
        response = spec["paths"][path][method.lower()]["responses"][status]
        schema = response["content"]["application/json"]["schema"]
        endpoints[name] = schema
        needed |= _refs(schema)
    todo = list(needed)
    while todo:
        for ref in _refs(all_schemas[todo.pop()]) - needed:
            needed.add(ref)
            todo.append(ref)
    schemas = {name: all_schemas[name] for name in sorted(needed)}
    for name, props in NULLABLE.items():
        for prop in props:
            schemas[name]["properties"][prop]["nullable"] = True
    return {
        "source": f"{spec['info']['title']} {spec['info']['version']}",
        "endpoints": endpoints,
        "components": {"schemas": schemas},
    }


if __name__ == "__main__":
    spec_path = Path(
        sys.argv[1] if len(sys.argv) > 1 else "../shared/specs/jira-cloud-platform.openapi.json"
    )
    out = Path(__file__).with_name("schemas.json")
    out.write_text(json.dumps(extract(json.loads(spec_path.read_text())), indent=1, sort_keys=True))
    print(f"wrote {out}")
