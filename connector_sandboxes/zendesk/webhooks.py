"""Fakes Zendesk webhooks: CRUD, signing secrets, invocation history, and what a ticket change
sends: trigger bodies (placeholders rendered) to `conditional_ticket_events` webhooks and event
envelopes (`zen:event-type:ticket.*`, string ids, upper-case enums) to event-subscribed ones.

Deliveries are only queued here (inside the state lock); `delivery.py` sends them.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
import uuid
from typing import Any

from flask import Blueprint, request

from connector_sandboxes.zendesk import render, triggers
from connector_sandboxes.zendesk.state import (
    ACCOUNT_ID,
    JSON,
    State,
    iso,
    not_found,
    record_invalid,
)
from connector_sandboxes.zendesk.web import body, current_user_id, cursor_page, route, state

bp = Blueprint("zendesk_webhooks", __name__)

CONDITIONAL = "conditional_ticket_events"
EVENT_PREFIX = "zen:event-type:ticket."
CHANNELS = {"api": "web_service", "web": "web_form"}


def new_secret() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def new_ulid() -> str:
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    return "01" + "".join(secrets.choice(alphabet) for _ in range(24))


def _store(st: State, data: JSON, webhook: JSON | None = None) -> JSON:
    merged = {**(webhook or {}), **data}
    for key in ("name", "endpoint"):
        if not merged.get(key):
            raise record_invalid(key, f"{key.capitalize()}: cannot be blank")
    subscriptions = merged.get("subscriptions") or []
    if not subscriptions or not all(
        s == CONDITIONAL or str(s).startswith("zen:event-type:") for s in subscriptions
    ):
        raise record_invalid("subscriptions", "Subscriptions: are invalid")
    if webhook and set(subscriptions) != set(webhook["subscriptions"]):
        raise record_invalid("subscriptions", "Subscriptions cannot be changed")
    now, user = iso(st.now()), str(current_user_id())
    auth = merged.get("authentication")
    stored = {
        "id": webhook["id"] if webhook else new_ulid(),
        "name": merged["name"],
        "description": merged.get("description"),
        "status": merged.get("status", "active"),
        "endpoint": merged["endpoint"],
        "http_method": merged.get("http_method", "POST"),
        "request_format": merged.get("request_format", "json"),
        "subscriptions": subscriptions,
        "created_at": webhook["created_at"] if webhook else now,
        "created_by": webhook["created_by"] if webhook else user,
        "updated_at": now,
        "updated_by": user,
    }
    if auth:
        stored["authentication"] = auth
    st.webhooks[stored["id"]] = stored
    if webhook is None:
        st.webhook_secrets[stored["id"]] = new_secret()
    return stored


def webhook_json(webhook: JSON) -> JSON:
    out = dict(webhook)
    if "authentication" in out:  # Zendesk never shows credentials back
        auth = out["authentication"]
        out["authentication"] = {k: v for k, v in auth.items() if k != "data"}
    return out


def _webhook(st: State, webhook_id: str) -> JSON:
    webhook = st.webhooks.get(webhook_id)
    if webhook is None:
        raise not_found()
    return webhook


# ---- what a change sends -------------------------------------------------------------------
def dispatch_change(st: State, change: Any) -> None:
    for trigger, webhook_id, template in triggers.fired(st, change):
        webhook = st.webhooks.get(webhook_id)
        if webhook and webhook["status"] == "active" and CONDITIONAL in webhook["subscriptions"]:
            escape = webhook["request_format"] == "json"
            text = render.render(st, change.ticket, change.actor_id, template, json_escape=escape)
            _queue(st, webhook, text, f"trigger:{trigger['id']}", change.ticket.id)
    for event_type, event in ticket_events(st, change):
        envelope = _envelope(st, change, event_type, event)
        text = json.dumps(envelope, separators=(",", ":"))
        for webhook in st.webhooks.values():
            if webhook["status"] == "active" and event_type in webhook["subscriptions"]:
                _queue(st, webhook, text, event_type, change.ticket.id)


def _queue(st: State, webhook: JSON, text: str, source: str, ticket_id: int) -> None:
    record = {
        "invocation_id": new_ulid(),
        "webhook_id": webhook["id"],
        "source": source,
        "ticket_id": ticket_id,
        "body": text,
        "status": "accepted",
        "attempts": [],
        "created_at": iso(st.now()),
    }
    st.deliveries.append(record)
    st.emit(record)


def ticket_events(st: State, change: Any) -> list[tuple[str, JSON]]:
    if change.created:
        return [(EVENT_PREFIX + "created", {})]
    before, after, events = change.before, change.after, []
    for key, name in (
        ("status", "status_changed"),
        ("type", "type_changed"),
        ("priority", "priority_changed"),
        ("subject", "subject_changed"),
    ):
        if before[key] != after[key]:
            events.append(
                (
                    EVENT_PREFIX + name,
                    {"current": _enum(after[key]), "previous": _enum(before[key])},
                )
            )
    if before["problem_id"] != after["problem_id"]:
        link = {"current": _sid(after["problem_id"]), "previous": _sid(before["problem_id"])}
        events.append((EVENT_PREFIX + "problem_link_changed", link))
    added = [t for t in after["tags"] if t not in before["tags"]]
    removed = [t for t in before["tags"] if t not in after["tags"]]
    if added or removed:
        events.append(
            (EVENT_PREFIX + "tags_changed", {"tags": {"added": added, "removed": removed}})
        )
    for field_id, value in after["custom"].items():
        if before["custom"].get(field_id) != value and field_id in st.ticket_fields:
            field = st.ticket_fields[field_id]
            custom = {"id": str(field_id), "title": field["title"], "type": field["type"]}
            event = {"current": value, "previous": before["custom"].get(field_id)}
            events.append(
                (EVENT_PREFIX + "custom_field_changed", {**event, "custom_field": custom})
            )
    if change.comment:
        comment, author = change.comment, st.users.get(change.comment["author_id"], {})
        events.append(
            (
                EVENT_PREFIX + "comment_added",
                {
                    "comment": {
                        "id": str(comment["id"]),
                        "body": comment["body"],
                        "is_public": comment["public"],
                        "author": {
                            "id": str(comment["author_id"]),
                            "name": author.get("name"),
                            "is_staff": author.get("role") in ("agent", "admin"),
                        },
                    }
                },
            )
        )
    return events


def _envelope(st: State, change: Any, event_type: str, event: JSON) -> JSON:
    t = change.ticket
    detail = {
        "actor_id": _sid(change.actor_id),
        "assignee_id": _sid(t.assignee_id),
        "brand_id": _sid(360_000_000_101),
        "created_at": iso(t.created_at),
        "custom_status": _sid(360_000_000_300),
        "description": t.description,
        "external_id": t.external_id,
        "form_id": _sid(360_000_000_201),
        "group_id": _sid(t.group_id),
        "id": _sid(t.id),
        "is_public": t.is_public,
        "organization_id": _sid(t.organization_id),
        "priority": _enum(t.priority),
        "requester_id": _sid(t.requester_id),
        "status": _enum(t.status),
        "subject": t.subject,
        "submitter_id": _sid(t.submitter_id),
        "tags": list(t.tags),
        "type": _enum(t.type),
        "updated_at": iso(t.updated_at),
        "via": {"channel": CHANNELS.get(change.channel)},
    }
    now = st.now()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1e9):09d}Z"
    return {
        "account_id": ACCOUNT_ID,
        "detail": detail,
        "event": event,
        "id": str(uuid.uuid4()),
        "subject": f"zen:ticket:{t.id}",
        "time": stamp,
        "type": event_type,
        "zendesk_event_version": "2022-11-06",
    }


def _sid(value: Any) -> str | None:
    return None if value is None else str(value)


def _enum(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


# ---- routes ------------------------------------------------------------------------------
@route(bp, "/webhooks", ["GET"])
def list_webhooks() -> Any:
    st = state()
    with st.lock:
        return cursor_page("webhooks", [webhook_json(w) for w in st.webhooks.values()], "webhooks")


@route(bp, "/webhooks", ["POST"])
def create_webhook() -> Any:
    st, data = state(), body("webhook")
    with st.lock:
        webhook = _store(st, data)
        return {"webhook": webhook_json(webhook)}, 201


@route(bp, "/webhooks/<webhook_id>", ["GET"])
def show_webhook(webhook_id: str) -> Any:
    st = state()
    with st.lock:
        return {"webhook": webhook_json(_webhook(st, webhook_id))}


@route(bp, "/webhooks/<webhook_id>", ["PUT", "PATCH"])
def update_webhook(webhook_id: str) -> Any:
    st, data = state(), body("webhook")
    with st.lock:
        _store(st, data, _webhook(st, webhook_id))
        return "", 204


@route(bp, "/webhooks/<webhook_id>", ["DELETE"])
def delete_webhook(webhook_id: str) -> Any:
    st = state()
    with st.lock:
        _webhook(st, webhook_id)
        del st.webhooks[webhook_id]
        return "", 204


@route(bp, "/webhooks/<webhook_id>/signing_secret", ["GET", "POST"])
def signing_secret(webhook_id: str) -> Any:
    st = state()
    with st.lock:
        _webhook(st, webhook_id)
        if request.method == "POST":
            st.webhook_secrets[webhook_id] = new_secret()
        secret = {"algorithm": "SHA256", "secret": st.webhook_secrets[webhook_id]}
        return {"signing_secret": secret}, 201 if request.method == "POST" else 200


@route(bp, "/webhooks/<webhook_id>/invocations", ["GET"])
def list_invocations(webhook_id: str) -> Any:
    st = state()
    with st.lock:
        _webhook(st, webhook_id)
        records = [d for d in st.deliveries if d["webhook_id"] == webhook_id]
        invocations = [
            {
                "id": d["invocation_id"],
                "webhook_id": webhook_id,
                "status": d["status"],
                "created_at": d["created_at"],
                "event_type": d["source"],
                "latest_completed_at": d["attempts"][-1]["at"] if d["attempts"] else None,
                "attempts_count": len(d["attempts"]),
            }
            for d in reversed(records)
        ]
        return cursor_page("invocations", invocations, f"webhooks/{webhook_id}/invocations")
