"""Undo the Zendesk side of an install.

By default the trigger and the webhook are switched off and the ticket fields stay: deleting a
field erases its value on every ticket (the Jira key, the agreed solution), which Zendesk cannot
undo, so that needs `delete_fields`. Switched off, they are found again (by id or name) and
switched back on by `connector install`.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from connector.fields import TICKET_FIELDS
from connector.install.plan import DELETE, KEEP, UPDATE, Plan, Step
from connector.install.zendesk_setup import TRIGGER_TITLE, WEBHOOK_NAME

if TYPE_CHECKING:
    from connector.install.context import AdminContext

FIELD = "ticket field"


def plan_zendesk_removal(runtime: AdminContext, plan: Plan, *, delete_fields: bool) -> None:
    """Found by the ids in the config, or by their names; the trigger goes before its webhook."""
    zendesk, config = runtime.zendesk, runtime.config.zendesk
    for trigger in zendesk.list_triggers():
        if trigger["id"] != config.trigger_id and trigger.get("title") != TRIGGER_TITLE:
            continue
        tid = int(trigger["id"])
        if delete_fields:
            step = Step("zendesk", "trigger", TRIGGER_TITLE, DELETE, f"id {tid}")
            step.run = partial(zendesk.delete_trigger, tid)
        elif trigger.get("active", True):
            step = Step("zendesk", "trigger", TRIGGER_TITLE, UPDATE, f"deactivate id {tid}")
            step.run = partial(zendesk.update_trigger, tid, {"active": False})
        else:
            step = Step("zendesk", "trigger", TRIGGER_TITLE, KEEP, f"inactive, id {tid}")
        plan.add(step)
    for hook in zendesk.list_webhooks():
        if hook["id"] != config.webhook_id and hook.get("name") != WEBHOOK_NAME:
            continue
        hid = str(hook["id"])
        if delete_fields:
            step = Step("zendesk", "webhook", WEBHOOK_NAME, DELETE, hid)
            step.run = partial(zendesk.delete_webhook, hid)
        elif hook.get("status") == "active":
            step = Step("zendesk", "webhook", WEBHOOK_NAME, UPDATE, f"deactivate {hid}")
            step.run = partial(zendesk.update_webhook, hid, {"status": "inactive"})
        else:
            step = Step("zendesk", "webhook", WEBHOOK_NAME, KEEP, f"inactive, {hid}")
        plan.add(step)
    ids = {config.fields.id_of(s.key) for s in TICKET_FIELDS} - {None}
    ours = {(s.title, s.type) for s in TICKET_FIELDS}  # a same-titled field of another type is not
    for current in zendesk.list_ticket_fields():
        if current["id"] in ids or (not ids and (current["title"], current["type"]) in ours):
            fid = int(current["id"])
            if delete_fields:
                step = Step("zendesk", FIELD, current["title"], DELETE, f"id {fid}")
                step.run = partial(zendesk.delete_ticket_field, fid)
            else:
                step = Step("zendesk", FIELD, current["title"], KEEP, f"id {fid}, values stay")
            plan.add(step)
