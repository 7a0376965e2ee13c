"""Fakes Jira's admin webhooks and the payloads sent when issues and comments change.

Two registries over the same webhooks, as the site's version has them:
- `/rest/webhooks/1.0/webhook` (Cloud, Jira 9): `name`, `url`, `events`,
  `filters.issue-related-events-section` (JQL), `excludeBody`, `secret`, `enabled`.
- `/rest/jira-webhook/1.0/webhooks` (Data Center 10, which answers 404 on the old one):
  `name`, `url`, `events`, `active`, and `configuration` holding `FILTERS` (JQL),
  `EXCLUDE_BODY` ("true"/"false") and `SECRET`. The old top-level `filters` and `secret` are
  ignored there, as on a real 10.x site: such a webhook matches every issue and is unsigned.
  A PUT replaces the configuration whole (a secret left out is gone); the secret is never
  shown back."""

from __future__ import annotations

import json
import time
from typing import Any

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from connector_sandboxes.jira import jql, render
from connector_sandboxes.jira.actions import Event
from connector_sandboxes.jira.delivery import Delivery, Dispatcher
from connector_sandboxes.jira.fields import JiraError
from connector_sandboxes.jira.render import Ctx
from connector_sandboxes.jira.state import State, Webhook
from connector_sandboxes.jira.web import (
    actor,
    body,
    ctx,
    data_center_only,
    not_on_data_center,
    sandbox,
)

KNOWN_EVENTS = {
    "jira:issue_created",
    "jira:issue_updated",
    "jira:issue_deleted",
    "comment_created",
    "comment_updated",
    "comment_deleted",
    "issue_property_set",
    "issue_property_deleted",
    "issuelink_created",
    "issuelink_deleted",
}
FILTER_KEY = "issue-related-events-section"


class Notifier:
    """Turns an `Event` into deliveries for every webhook that subscribes to it."""

    def __init__(self, state: State, dispatcher: Dispatcher) -> None:
        self.state = state
        self.dispatcher = dispatcher

    def __call__(self, event: Event) -> None:
        payload: bytes | None = None
        # Jira 9 ("Server" here) keeps the secret it is given but signs nothing.
        signs = self.state.deployment_type != "Server"
        for hook in self.state.webhooks.values():
            if not hook.enabled or event.name not in hook.events:
                continue
            if hook.jql and not _matches(hook.jql, self.state, event):
                continue
            if payload is None:
                payload = json.dumps(self.payload(event)).encode()
            url = _expand_url(hook.url, event)
            signing = hook.secret if signs else None
            self.dispatcher.enqueue(
                Delivery(hook.id, event.name, url, b"" if hook.exclude_body else payload, signing)
            )

    def payload(self, event: Event) -> dict[str, Any]:
        state, issue = self.state, event.issue
        # Webhook bodies use the v2 (plain text) representation, with the site's user beans.
        context = Ctx(state.base_url, "2", state.cloud)
        out: dict[str, Any] = {"timestamp": int(time.time() * 1000), "webhookEvent": event.name}
        issue_ref = {"id": issue.id, "self": f"{context.rest}/issue/{issue.id}", "key": issue.key}
        if event.name.startswith("jira:"):
            out["issue_event_type_name"] = event.type_name
            out["user"] = render.user(context, state.user(event.actor))
            out["issue"] = {**issue_ref, "fields": render.all_fields(context, state, issue)}
            if event.items:
                history_id = issue.history[-1].id if issue.history else state.next_id()
                out["changelog"] = {"id": history_id, "items": event.items}
        else:
            fields = render.all_fields(context, state, issue)
            keep = ("summary", "status", "issuetype", "project", "priority", "assignee")
            out["issue"] = {**issue_ref, "fields": {k: fields[k] for k in keep}}
        if event.comment is not None:
            out["comment"] = render.comment(context, state, issue, event.comment)
        out.update(event.extra)
        return out


def _matches(query: str, state: State, event: Event) -> bool:
    try:
        return jql.parse(query, state.custom_fields).matches(state, event.issue)
    except JiraError:  # e.g. a date that only fails when compared: Jira skips the webhook
        return False


def _expand_url(url: str, event: Event) -> str:
    """Jira substitutes these variables in webhook URLs (`${issue.id}`; `{issue.id}` from Data
    Center 10, which dropped the `$`)."""
    issue, project = event.issue, event.issue.project_key
    for name, value in (
        ("{issue.id}", issue.id),
        ("{issue.key}", issue.key),
        ("{project.key}", project),
        ("{comment.id}", event.comment.id if event.comment else ""),
    ):
        url = url.replace("$" + name, value).replace(name, value)
    return url


bp = Blueprint("jira_webhooks", __name__, url_prefix="/rest/webhooks/1.0")


def _render(context: Ctx, state: State, hook: Webhook) -> dict[str, Any]:
    user = state.user(hook.last_updated_by)
    return {
        "self": f"{context.base}/rest/webhooks/1.0/webhook/{hook.id}",
        "name": hook.name,
        "url": hook.url,
        "events": hook.events,
        "filters": {FILTER_KEY: hook.jql or ""},
        "excludeBody": hook.exclude_body,
        "enabled": hook.enabled,
        "lastUpdated": int(hook.last_updated.timestamp() * 1000),
        "lastUpdatedUser": render.user_ref(state, hook.last_updated_by),
        "lastUpdatedDisplayName": user.display_name if user else "",
    }


def _apply(hook: Webhook, data: dict[str, Any], state: State) -> None:
    errors: dict[str, str] = {}
    for name in ("name", "url"):
        if name in data and (not isinstance(data[name], str) or not data[name].strip()):
            errors[name] = f"The webhook {name} must not be empty."
    events = data.get("events", hook.events)
    if not isinstance(events, list) or not set(events) <= KNOWN_EVENTS:
        errors["events"] = f"Unknown events: {sorted(set(events or []) - KNOWN_EVENTS)}"
    query = (data.get("filters") or {}).get(FILTER_KEY, hook.jql) or None
    if query:
        try:
            jql.parse(query, state.custom_fields)
        except JiraError as exc:
            errors["filters"] = "; ".join(exc.body["errorMessages"])
    if errors:
        raise JiraError(400, list(errors.values()), errors)
    hook.name = data.get("name", hook.name)
    hook.url = data.get("url", hook.url)
    hook.events, hook.jql = list(events), query
    hook.exclude_body = bool(data.get("excludeBody", hook.exclude_body))
    hook.secret = data.get("secret", hook.secret) or None
    hook.enabled = bool(data.get("enabled", hook.enabled))
    hook.last_updated = state.now()
    hook.last_updated_by = actor()


def _find(state: State, webhook_id: int) -> Webhook:
    hook = state.webhooks.get(webhook_id)
    if hook is None:
        raise JiraError(404, [f"Webhook with id {webhook_id} does not exist."])
    return hook


@bp.before_request
def _only_before_data_center_10() -> None:
    not_on_data_center()


@bp.get("/webhook")
def list_webhooks() -> ResponseReturnValue:
    state = sandbox().state
    with state.lock:
        return jsonify([_render(ctx(), state, h) for h in state.webhooks.values()])


@bp.post("/webhook")
def create_webhook() -> ResponseReturnValue:
    state, data = sandbox().state, body()
    for name in ("name", "url"):
        data.setdefault(name, "")
    with state.lock:
        hook = Webhook(0, "", "", [], None, False, None, True, state.now(), actor())
        _apply(hook, data, state)
        hook.id = state.next_webhook_id()
        state.webhooks[hook.id] = hook
        return jsonify(_render(ctx(), state, hook)), 201


@bp.get("/webhook/<int:webhook_id>")
def get_webhook(webhook_id: int) -> ResponseReturnValue:
    state = sandbox().state
    with state.lock:
        return jsonify(_render(ctx(), state, _find(state, webhook_id)))


@bp.put("/webhook/<int:webhook_id>")
def update_webhook(webhook_id: int) -> ResponseReturnValue:
    state, data = sandbox().state, body()
    with state.lock:
        hook = _find(state, webhook_id)
        _apply(hook, data, state)
        return jsonify(_render(ctx(), state, hook))


@bp.delete("/webhook/<int:webhook_id>")
def delete_webhook(webhook_id: int) -> ResponseReturnValue:
    state = sandbox().state
    with state.lock:
        _find(state, webhook_id)
        del state.webhooks[webhook_id]
    return "", 204


# -- Data Center 10: /rest/jira-webhook/1.0/webhooks ------------------------------------------
dc_bp = Blueprint("jira_dc_webhooks", __name__, url_prefix="/rest/jira-webhook/1.0")


@dc_bp.before_request
def _only_data_center_10() -> None:
    data_center_only()


def _render_dc(state: State, hook: Webhook) -> dict[str, Any]:
    configuration = {"EXCLUDE_BODY": "true" if hook.exclude_body else "false"}
    if hook.jql:
        configuration["FILTERS"] = hook.jql
    moment = int(hook.last_updated.timestamp() * 1000)
    return {
        "id": hook.id,
        "name": hook.name,
        "url": hook.url,
        "events": hook.events,
        "active": hook.enabled,
        "scopeType": "global",
        "configuration": configuration,  # SECRET is never shown back
        "sslVerificationRequired": True,
        "createdDate": moment,
        "updatedDate": moment,
    }


def _as_old_shape(data: dict[str, Any], replace: bool) -> dict[str, Any]:
    """Data Center 10's body in the old registry's terms (top-level filters and secret
    ignored). `replace` (a PUT): the configuration replaces the stored one whole."""
    configuration = data.get("configuration")
    if configuration is not None and not isinstance(configuration, dict):
        raise JiraError(400, ["configuration must be an object."])
    configuration = configuration or {}
    out: dict[str, Any] = {k: data[k] for k in ("name", "url", "events") if k in data}
    if "active" in data:
        out["enabled"] = str(data["active"]).lower() == "true"
    if replace or "FILTERS" in configuration:
        out["filters"] = {FILTER_KEY: configuration.get("FILTERS") or ""}
    if replace or "EXCLUDE_BODY" in configuration:
        out["excludeBody"] = str(configuration.get("EXCLUDE_BODY", "false")).lower() == "true"
    if replace or "SECRET" in configuration:
        out["secret"] = configuration.get("SECRET") or ""
    return out


@dc_bp.get("/webhooks")
def dc_list_webhooks() -> ResponseReturnValue:
    state = sandbox().state
    with state.lock:
        return jsonify([_render_dc(state, h) for h in state.webhooks.values()])


@dc_bp.post("/webhooks")
def dc_create_webhook() -> ResponseReturnValue:
    state, data = sandbox().state, body()
    with state.lock:
        hook = Webhook(0, "", "", [], None, False, None, True, state.now(), actor())
        _apply(hook, {"name": "", "url": "", **_as_old_shape(data, replace=False)}, state)
        hook.id = state.next_webhook_id()
        state.webhooks[hook.id] = hook
        return jsonify(_render_dc(state, hook)), 201


@dc_bp.get("/webhooks/<int:webhook_id>")
def dc_get_webhook(webhook_id: int) -> ResponseReturnValue:
    state = sandbox().state
    with state.lock:
        return jsonify(_render_dc(state, _find(state, webhook_id)))


@dc_bp.put("/webhooks/<int:webhook_id>")
def dc_update_webhook(webhook_id: int) -> ResponseReturnValue:
    state, data = sandbox().state, body()
    with state.lock:
        hook = _find(state, webhook_id)
        _apply(hook, _as_old_shape(data, replace=True), state)
        return jsonify(_render_dc(state, hook))


@dc_bp.delete("/webhooks/<int:webhook_id>")
def dc_delete_webhook(webhook_id: int) -> ResponseReturnValue:
    state = sandbox().state
    with state.lock:
        _find(state, webhook_id)
        del state.webhooks[webhook_id]
    return "", 204
