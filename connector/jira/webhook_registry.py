"""Where and in which shape a Jira site registers admin webhooks. The connector speaks the
Cloud shape everywhere (install, uninstall, doctor); the adapter translates for Data Center 10.

- Cloud, and Jira before Data Center 10: `/rest/webhooks/1.0/webhook` with `name`, `url`,
  `events`, `filters: {"issue-related-events-section": JQL}`, `excludeBody`, `enabled`,
  `secret`.
- Data Center 10 and later: `/rest/jira-webhook/1.0/webhooks` (the old resource answers 404)
  with `name`, `url`, `events`, `active`, and `configuration: {"FILTERS": JQL,
  "EXCLUDE_BODY": "false", "SECRET": ...}`. A top-level `filters` or `secret` is ignored there,
  silently: the webhook would then fire for every issue and deliver unsigned.
Pure: no HTTP.
"""

from __future__ import annotations

from typing import Any

OLD = "rest/webhooks/1.0/webhook"
DATA_CENTER_10 = "rest/jira-webhook/1.0/webhooks"
FILTER_KEY = "issue-related-events-section"
FIRST_DC_MAJOR = 10


def resource(server_info: dict[str, Any]) -> str:
    """The webhook resource this site has, from its serverInfo."""
    if server_info.get("deploymentType") == "Cloud":
        return OLD
    numbers = server_info.get("versionNumbers") or [0]
    major = numbers[0] if isinstance(numbers, list) and numbers else 0
    return DATA_CENTER_10 if isinstance(major, int) and major >= FIRST_DC_MAJOR else OLD


def to_data_center(hook: dict[str, Any]) -> dict[str, Any]:
    """A Cloud-shaped webhook body as Data Center 10 takes it."""
    out: dict[str, Any] = {k: hook[k] for k in ("name", "url", "events") if k in hook}
    if "enabled" in hook:
        out["active"] = bool(hook["enabled"])
    configuration: dict[str, str] = {}
    jql = (hook.get("filters") or {}).get(FILTER_KEY)
    if jql:
        configuration["FILTERS"] = str(jql)
    if "excludeBody" in hook:
        configuration["EXCLUDE_BODY"] = "true" if hook["excludeBody"] else "false"
    if hook.get("secret"):
        configuration["SECRET"] = str(hook["secret"])
    out["configuration"] = configuration
    return out


def from_data_center(hook: dict[str, Any]) -> dict[str, Any]:
    """A Data Center 10 webhook in the Cloud shape the rest of the connector reads."""
    configuration = hook.get("configuration") or {}
    return {
        "id": hook.get("id"),
        "name": hook.get("name"),
        "url": hook.get("url"),
        "events": hook.get("events") or [],
        "filters": {FILTER_KEY: configuration.get("FILTERS") or ""},
        "excludeBody": str(configuration.get("EXCLUDE_BODY", "false")).lower() == "true",
        "enabled": str(hook.get("active", True)).lower() == "true",
    }
