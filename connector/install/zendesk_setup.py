"""What the connector needs in Zendesk: the catalog's ticket fields, a signed webhook and one
trigger that calls it on every ticket change (the connector ignores its own changes by actor)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connector.fields import TICKET_FIELDS, TicketField
from connector.install.plan import CREATE, KEEP, UPDATE, Plan, Step
from connector.install.team_options import plan_team_options
from connector.zendesk.webhook import TRIGGER_BODY

if TYPE_CHECKING:
    from connector.install.context import AdminContext
    from connector.install.installed import Installed

WEBHOOK_NAME = "Zendesk-Jira connector"
TRIGGER_TITLE = "Zendesk-Jira connector: notify on ticket change"


def field_options(runtime: AdminContext, spec: TicketField) -> list[dict[str, str]]:
    return spec.options(runtime.config) if spec.options else []


def plan_zendesk(runtime: AdminContext, public_url: str, installed: Installed, plan: Plan) -> None:
    zendesk = runtime.zendesk
    existing = {f["id"]: f for f in zendesk.list_ticket_fields()}
    by_title = {(f["title"], f.get("type")): f for f in existing.values()}
    configured = runtime.config.zendesk.fields
    for spec in TICKET_FIELDS:
        field_id = configured.id_of(spec.key)
        # A stale id (field deleted by hand) falls back to the title; a same-titled field of
        # another type is the admin's own, never adopted (uninstall would delete it).
        current = existing.get(field_id) if field_id else None
        current = current or by_title.get((spec.title, spec.type))
        options = field_options(runtime, spec)
        if current is None:
            plan.add(
                Step(
                    "zendesk",
                    "ticket field",
                    spec.title,
                    CREATE,
                    spec.type,
                    run=_create_field(runtime, spec, options, installed),
                )
            )
            continue
        installed.fields[spec.key] = int(current["id"])
        if spec.key == "owning_team" and plan_team_options(runtime, current, options, plan):
            continue  # old bare-key options and their tickets move in one step
        have = {o["value"]: o["name"] for o in current.get("custom_field_options") or []}
        missing = [o for o in options if have.get(o["value"]) != o["name"]]
        if spec.options_kept_by_connector:
            missing = []  # any existing option is fine
        if missing:
            detail = "options " + ", ".join(o["value"] for o in missing)
            plan.add(
                Step(
                    "zendesk",
                    "ticket field",
                    spec.title,
                    UPDATE,
                    detail,
                    run=_add_options(runtime, current, missing),
                )
            )
        else:
            plan.add(Step("zendesk", "ticket field", spec.title, KEEP, f"id {current['id']}"))

    endpoint = f"{public_url.rstrip('/')}/webhooks/zendesk"
    webhooks = {w["id"]: w for w in zendesk.list_webhooks()}
    hook = webhooks.get(runtime.config.zendesk.webhook_id or "") or next(
        (w for w in webhooks.values() if w.get("name") == WEBHOOK_NAME), None
    )
    wanted_hook = {
        "name": WEBHOOK_NAME,
        "endpoint": endpoint,
        "http_method": "POST",
        "request_format": "json",
        "status": "active",
        "subscriptions": ["conditional_ticket_events"],
    }
    if hook is None:
        plan.add(
            Step(
                "zendesk",
                "webhook",
                WEBHOOK_NAME,
                CREATE,
                endpoint,
                run=_create_webhook(runtime, wanted_hook, installed),
            )
        )
    else:
        installed.zendesk_webhook_id = hook["id"]
        stale = {k: v for k, v in wanted_hook.items() if k != "subscriptions" and hook.get(k) != v}
        if stale:
            plan.add(
                Step(
                    "zendesk",
                    "webhook",
                    WEBHOOK_NAME,
                    UPDATE,
                    ", ".join(sorted(stale)),
                    run=lambda: zendesk.update_webhook(hook["id"], stale),
                )
            )
        else:
            plan.add(Step("zendesk", "webhook", WEBHOOK_NAME, KEEP, endpoint))

    triggers = {t["id"]: t for t in zendesk.list_triggers()}
    trigger = triggers.get(runtime.config.zendesk.trigger_id or -1) or next(
        (t for t in triggers.values() if t.get("title") == TRIGGER_TITLE), None
    )
    if trigger is None:
        plan.add(
            Step(
                "zendesk",
                "trigger",
                TRIGGER_TITLE,
                CREATE,
                "on ticket create or change",
                run=lambda: _create_trigger(runtime, installed),
            )
        )
    else:
        installed.zendesk_trigger_id = int(trigger["id"])
        if hook is None or trigger_body(hook["id"]) != _comparable(trigger):
            plan.add(
                Step(
                    "zendesk",
                    "trigger",
                    TRIGGER_TITLE,
                    UPDATE,
                    "conditions and action",
                    run=lambda: _update_trigger(runtime, installed),
                )
            )
        else:
            plan.add(Step("zendesk", "trigger", TRIGGER_TITLE, KEEP, f"id {trigger['id']}"))


def trigger_body(webhook_id: str) -> dict[str, Any]:
    return {
        "title": TRIGGER_TITLE,
        "active": True,
        "conditions": {
            "all": [],
            "any": [
                {"field": "update_type", "operator": "is", "value": "Create"},
                {"field": "update_type", "operator": "is", "value": "Change"},
            ],
        },
        "actions": [{"field": "notification_webhook", "value": [webhook_id, TRIGGER_BODY]}],
    }


def _comparable(trigger: dict[str, Any]) -> dict[str, Any]:
    conditions = trigger.get("conditions") or {}
    return {
        "title": trigger.get("title"),
        "active": trigger.get("active", True),
        "conditions": {"all": conditions.get("all") or [], "any": conditions.get("any") or []},
        "actions": [
            {"field": a.get("field"), "value": list(a.get("value") or [])}
            for a in trigger.get("actions") or []
        ],
    }


def _create_field(
    runtime: AdminContext, spec: TicketField, options: list[dict[str, str]], installed: Installed
) -> Any:
    def run() -> None:
        body: dict[str, Any] = {
            "type": spec.type,
            "title": spec.title,
            "description": spec.description,
            "active": True,
        }
        if options:
            body["custom_field_options"] = options
        created = runtime.zendesk.create_ticket_field(body)
        installed.fields[spec.key] = int(created["id"])

    return run


def _add_options(
    runtime: AdminContext, field: dict[str, Any], options: list[dict[str, str]]
) -> Any:
    # A renamed team keeps its option: Zendesk changes an option only when its id is sent.
    ids = {o["value"]: o["id"] for o in field.get("custom_field_options") or []}

    def run() -> None:
        for option in options:
            runtime.zendesk.upsert_field_option(
                int(field["id"]), option["name"], option["value"], ids.get(option["value"])
            )

    return run


def _create_webhook(runtime: AdminContext, body: dict[str, Any], installed: Installed) -> Any:
    def run() -> None:
        installed.zendesk_webhook_id = str(runtime.zendesk.create_webhook(body)["id"])

    return run


def _create_trigger(runtime: AdminContext, installed: Installed) -> None:
    assert installed.zendesk_webhook_id, "the webhook is created before the trigger"
    created = runtime.zendesk.create_trigger(trigger_body(installed.zendesk_webhook_id))
    installed.zendesk_trigger_id = int(created["id"])


def _update_trigger(runtime: AdminContext, installed: Installed) -> None:
    assert installed.zendesk_webhook_id and installed.zendesk_trigger_id
    body = trigger_body(installed.zendesk_webhook_id)
    runtime.zendesk.update_trigger(installed.zendesk_trigger_id, body)
