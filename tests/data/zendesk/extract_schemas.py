"""Extract the response schemas the Zendesk sandbox contract test needs from the two OpenAPI specs.

Run from the repository root:
    python tests/data/zendesk/extract_schemas.py ../shared/specs
Writes `tests/data/zendesk/schemas.json` so the test runs without the 1 MB specs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

SUPPORT = {  # "METHOD path" in zendesk-support.openapi.yaml -> documented success status
    "GET /api/v2/users/me": "200",
    "POST /api/v2/users": "201",
    "GET /api/v2/users/{user_id}": "200",
    "GET /api/v2/users/show_many": "200",
    "POST /api/v2/organizations": "201",
    "GET /api/v2/organizations/{organization_id}": "200",
    "GET /api/v2/organization_fields": "200",
    "POST /api/v2/tickets": "201",
    "GET /api/v2/tickets/{ticket_id}": "200",
    "PUT /api/v2/tickets/{ticket_id}": "200",
    "GET /api/v2/tickets/show_many": "200",
    "GET /api/v2/tickets/{ticket_id}/comments": "200",
    "GET /api/v2/tickets/{ticket_id}/incidents": "200",
    "PUT /api/v2/tickets/update_many": "200",
    "GET /api/v2/job_statuses/{job_status_id}": "200",
    "GET /api/v2/job_statuses/show_many": "200",
    "GET /api/v2/search": "200",
    "GET /api/v2/incremental/tickets/cursor": "200",
    "POST /api/v2/ticket_fields": "201",
    "GET /api/v2/ticket_fields": "200",
    "GET /api/v2/ticket_fields/{ticket_field_id}": "200",
    "PUT /api/v2/ticket_fields/{ticket_field_id}": "200",
    "GET /api/v2/ticket_fields/{ticket_field_id}/options": "200",
    "POST /api/v2/ticket_fields/{ticket_field_id}/options": "201",
    "POST /api/v2/triggers": "201",
    "GET /api/v2/triggers": "200",
}
WEBHOOKS = {  # zendesk-webhooks.openapi.yaml (paths relative to /api/v2)
    "POST /webhooks": "201",
    "GET /webhooks": "200",
    "GET /webhooks/{webhook_id}": "200",
    "GET /webhooks/{webhook_id}/signing_secret": "200",
    "POST /webhooks/{webhook_id}/signing_secret": "201",
    "GET /webhooks/{webhook_id}/invocations": "200",
}
# Where the published spec disagrees with what Zendesk sends (see the recorded exchanges): these
# properties are null on real responses (e.g. a new ticket's `external_id`, `assignee_id`).
NULLABLE = {
    "TicketObject": ("external_id", "assignee_id", "group_id", "organization_id", "problem_id",
                     "forum_topic_id", "recipient", "type", "priority", "satisfaction_rating",
                     "custom_status_id", "raw_subject", "description"),
    "TicketFieldObject": ("agent_description", "creator_app_name", "creator_user_id"),
    "JobStatusObject": ("total", "message", "progress", "results"),
    "TriggerObject": ("description",),
    "Webhook": ("description",),
    "WebhookInvocation": ("latest_completed_at",),
    "UserForAdmin": ("alias", "default_group_id", "details", "notes", "signature", "last_login_at",
                     "email"),
    "PaginationLinks": ("next", "prev"),  # null on an empty page
    "PaginationMeta": ("after_cursor", "before_cursor"),
}  # fmt: skip
# A custom field's value is a string, a boolean (checkbox), a list (multiselect) or null; the
# spec says string.
ANY_VALUE = ("TicketObject", "custom_fields")


class _Loader(yaml.CSafeLoader):
    pass


_Loader.add_constructor(
    "tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node)
)


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"].rsplit("/", 1)[1]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node))
    return set()


def _strip(node: Any) -> Any:
    """Keep what validation needs: drop examples and prose."""
    if isinstance(node, dict):
        return {k: _strip(v) for k, v in node.items() if k not in ("example", "description")}
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node


def _extract(spec: dict[str, Any], endpoints: dict[str, str], prefix: str) -> dict[str, Any]:
    out = {}
    for endpoint, status in endpoints.items():
        method, path = endpoint.split(" ", 1)
        response = spec["paths"][path][method.lower()]["responses"][status]
        schema = response["content"]["application/json"]["schema"]
        out[f"{method} {prefix}{path}"] = schema
    return out


def _closure(spec: dict[str, Any], roots: dict[str, Any]) -> dict[str, Any]:
    schemas, todo, seen = spec["components"]["schemas"], set(_refs(roots)), set()
    while todo:
        name = todo.pop()
        seen.add(name)
        todo |= _refs(schemas[name]) - seen
    return {name: _strip(schemas[name]) for name in sorted(seen)}


def main(spec_dir: Path) -> None:
    support = yaml.load((spec_dir / "zendesk-support.openapi.yaml").read_text(), Loader=_Loader)
    hooks = yaml.load((spec_dir / "zendesk-webhooks.openapi.yaml").read_text(), Loader=_Loader)
    endpoints = _extract(support, SUPPORT, "") | _extract(hooks, WEBHOOKS, "/api/v2")
    components = _closure(support, _extract(support, SUPPORT, ""))
    hook_components = _closure(hooks, _extract(hooks, WEBHOOKS, ""))
    clash = set(components) & set(hook_components)
    assert not clash, f"schema names in both specs: {clash}"
    components |= hook_components
    for name, props in NULLABLE.items():
        for prop in props:
            if prop in components[name].get("properties", {}):
                schema = components[name]["properties"][prop]
                schema["nullable"] = True
    for schema in components.values():  # OpenAPI 3.0: a nullable enum must list null itself
        for prop in schema.get("properties", {}).values():
            if prop.get("nullable") and "enum" in prop and None not in prop["enum"]:
                prop["enum"].append(None)
    name, prop = ANY_VALUE
    components[name]["properties"][prop]["items"]["properties"]["value"] = {}
    out = {"endpoints": endpoints, "components": {"schemas": components}}
    target = Path(__file__).with_name("schemas.json")
    target.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"wrote {target} ({len(endpoints)} endpoints, {len(components)} schemas)")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/specs"))
