"""Fakes Zendesk ticket triggers: CRUD and evaluation of `conditions {all, any}` after every
ticket create or update, with the `notification_webhook` action.

Supported condition fields (anything else is refused with 422, so nothing silently never fires):
- `update_type` is/is_not `Create`|`Change`
- `status`, `type`, `priority`, `group_id`, `assignee_id`, `requester_id`, `organization_id`,
  `problem_id`: is, is_not, less_than, greater_than (status, priority), changed, not_changed,
  value (changed to), value_previous (changed from), not_value, not_value_previous, present,
  not_present; the value `current_user` means the user making the change
- `custom_fields_<id>`: the same operators (drop-down values are option tags; checkbox
  `true`/`false`)
- `current_tags` includes / not_includes (space-separated tags: at least one / none)
- `role` is/is_not `end_user`|`agent`|`admin` (of the user making the change; `agent` includes
  admins)
- `current_via_id` is/is_not (5 = API / web service, 0 = agent UI / web form)
- `comment_is_public` is `true`|`false`|`not_relevant`; `comment_includes_word` includes
Supported action: `notification_webhook` `[webhook_id, body]`. Each trigger fires at most once per
update, in `position` order.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from connector_sandboxes.zendesk.state import JSON, State, iso, not_found, record_invalid
from connector_sandboxes.zendesk.web import body, listing, route, state

bp = Blueprint("zendesk_triggers", __name__)

ATTRIBUTES = (
    "status",
    "type",
    "priority",
    "group_id",
    "assignee_id",
    "requester_id",
    "organization_id",
    "problem_id",
)
ORDER = {
    "status": ("new", "open", "pending", "hold", "solved", "closed"),
    "priority": ("low", "normal", "high", "urgent"),
}
VIA_IDS = {"web": 0, "api": 5}
OTHER_FIELDS = (
    "update_type",
    "current_tags",
    "role",
    "current_via_id",
    "comment_is_public",
    "comment_includes_word",
)


def _validate(st: State, data: JSON) -> None:
    conditions = data.get("conditions")
    if not isinstance(conditions, dict) or not isinstance(data.get("actions"), list):
        raise record_invalid("base", "Conditions and actions are required")
    for cond in (conditions.get("all") or []) + (conditions.get("any") or []):
        name = str(cond.get("field", ""))
        if name not in ATTRIBUTES + OTHER_FIELDS and not name.startswith("custom_fields_"):
            raise record_invalid("conditions", f"Sandbox does not support condition {name}")
    for action in data["actions"]:
        if action.get("field") != "notification_webhook":
            raise record_invalid("actions", f"Sandbox does not support action {action}")
        value = action.get("value")
        if not isinstance(value, list) or len(value) != 2 or value[0] not in st.webhooks:
            raise record_invalid("actions", "notification_webhook needs [webhook_id, body]")


def _store(st: State, data: JSON, trigger: JSON | None = None) -> JSON:
    merged = {**(trigger or {}), **data}
    _validate(st, merged)
    now = iso(st.now())
    trigger_id = trigger["id"] if trigger else st.ids.next("trigger")
    stored = {
        "url": st.url(f"triggers/{trigger_id}.json"),
        "id": trigger_id,
        "title": str(merged.get("title") or ""),
        "raw_title": str(merged.get("title") or ""),
        "description": merged.get("description"),
        "active": merged.get("active", True) is not False,
        "position": int(merged.get("position") or len(st.triggers) + 1),
        "conditions": {
            "all": merged["conditions"].get("all") or [],
            "any": merged["conditions"].get("any") or [],
        },
        "actions": merged["actions"],
        "category_id": str(merged.get("category_id") or "1"),
        "default": False,
        "created_at": trigger["created_at"] if trigger else now,
        "updated_at": now,
    }
    if not stored["title"]:
        raise record_invalid("title", "Title: cannot be blank")
    st.triggers[trigger_id] = stored
    return stored


def fired(st: State, change: Any) -> list[tuple[JSON, str, str]]:
    """(trigger, webhook_id, body template) for every webhook action of a matching trigger."""
    out = []
    for trigger in sorted(st.triggers.values(), key=lambda t: (t["position"], t["id"])):
        conds = trigger["conditions"]
        any_ok = not conds["any"] or any(matches(st, c, change) for c in conds["any"])
        if trigger["active"] and any_ok and all(matches(st, c, change) for c in conds["all"]):
            out += [(trigger, a["value"][0], a["value"][1]) for a in trigger["actions"]]
    return out


def matches(st: State, cond: JSON, change: Any) -> bool:
    name, op, value = cond.get("field", ""), cond.get("operator", "is"), cond.get("value")
    if name == "update_type":
        is_match = str(value).lower() == ("create" if change.created else "change")
        return is_match if op == "is" else not is_match
    if name == "current_tags":
        wanted = set(str(value or "").split())
        present = bool(wanted & set(change.after["tags"]))
        return present if op == "includes" else not present
    if name == "role":
        role = st.users[change.actor_id]["role"].replace("-", "_")
        is_match = role == value or (value == "agent" and role == "admin")
        return is_match if op == "is" else not is_match
    if name == "current_via_id":
        is_match = str(VIA_IDS.get(change.channel)) == str(value)
        return is_match if op == "is" else not is_match
    if name in ("comment_is_public", "comment_includes_word"):
        return _comment_matches(name, str(value), change.comment)
    if name.startswith("custom_fields_"):
        field_id = int(name.removeprefix("custom_fields_"))
        now, before = change.after["custom"].get(field_id), change.before.get("custom", {})
        return _compare(name, op, value, now, before.get(field_id), change)
    return _compare(name, op, value, change.after[name], change.before.get(name), change)


def _compare(name: str, op: str, value: Any, now: Any, before: Any, change: Any) -> bool:
    def same(a: Any, b: Any) -> bool:
        if b == "current_user":
            b = change.actor_id
        if isinstance(a, bool) or isinstance(b, bool):
            return str(a).lower() == str(b).lower()
        return ("" if a is None else str(a)) == ("" if b is None else str(b))

    ranks = ORDER.get(name, ())
    if op in ("less_than", "greater_than") and now in ranks and value in ranks:
        delta = ranks.index(now) - ranks.index(value)
        return delta < 0 if op == "less_than" else delta > 0
    changed = not same(now, before)
    results = {
        "is": same(now, value),
        "is_not": not same(now, value),
        "present": now not in (None, "", False, []),
        "not_present": now in (None, "", False, []),
        "changed": changed,
        "not_changed": not changed,
        "value": changed and same(now, value),
        "not_value": not (changed and same(now, value)),
        "value_previous": changed and same(before, value),
        "not_value_previous": not (changed and same(before, value)),
    }
    return results.get(op, False)


def _comment_matches(name: str, value: str, comment: JSON | None) -> bool:
    if name == "comment_includes_word":
        words = set(value.lower().split())
        return comment is not None and bool(words & set(str(comment["body"]).lower().split()))
    if value == "not_relevant":
        return True
    return comment is not None and comment["public"] == (value == "true")


def _trigger(st: State, trigger_id: int) -> JSON:
    trigger = st.triggers.get(trigger_id)
    if trigger is None:
        raise not_found()
    return trigger


# ---- routes ------------------------------------------------------------------------------
@route(bp, "/triggers", ["GET"])
def list_triggers() -> Any:
    st = state()
    with st.lock:
        return listing("triggers", sorted(st.triggers.values(), key=lambda t: t["position"]))


@route(bp, "/triggers/active", ["GET"])
def list_active_triggers() -> Any:
    st = state()
    with st.lock:
        active = [t for t in st.triggers.values() if t["active"]]
        return listing("triggers", sorted(active, key=lambda t: t["position"]))


@route(bp, "/triggers", ["POST"])
def create_trigger() -> Any:
    st, data = state(), body("trigger")
    with st.lock:
        return {"trigger": _store(st, data)}, 201


@route(bp, "/triggers/<int:trigger_id>", ["GET"])
def show_trigger(trigger_id: int) -> Any:
    st = state()
    with st.lock:
        return {"trigger": _trigger(st, trigger_id)}


@route(bp, "/triggers/<int:trigger_id>", ["PUT"])
def update_trigger(trigger_id: int) -> Any:
    st, data = state(), body("trigger")
    with st.lock:
        return {"trigger": _store(st, data, _trigger(st, trigger_id))}


@route(bp, "/triggers/<int:trigger_id>", ["DELETE"])
def delete_trigger(trigger_id: int) -> Any:
    st = state()
    with st.lock:
        _trigger(st, trigger_id)
        del st.triggers[trigger_id]
        return "", 204
