"""What the connector needs in Jira: one admin webhook, signed with a secret, limited by JQL to
the configured teams' projects."""

from __future__ import annotations

import secrets
from functools import partial
from typing import TYPE_CHECKING, Any

from connector.install.plan import CREATE, DELETE, KEEP, UPDATE, Plan, Step

if TYPE_CHECKING:
    from connector.install.context import AdminContext
    from connector.install.installed import Installed

WEBHOOK_NAME = "Zendesk-Jira connector"
EVENTS = ["jira:issue_updated", "jira:issue_deleted", "comment_created"]


def webhook_id(hook: dict[str, Any]) -> str:
    return str(hook.get("id") or str(hook.get("self", "")).rstrip("/").rsplit("/", 1)[-1])


def projects_jql(runtime: AdminContext) -> str:
    keys = sorted({t.jira_project for t in runtime.config.teams.values()})
    return f"project in ({', '.join(keys)})"


def plan_jira(runtime: AdminContext, public_url: str, installed: Installed, plan: Plan) -> None:
    jira = runtime.jira
    url = f"{public_url.rstrip('/')}/webhooks/jira"
    jql = projects_jql(runtime)
    hooks = jira.list_webhooks()
    hook = next(
        (h for h in hooks if webhook_id(h) == runtime.config.jira.webhook_id), None
    ) or next((h for h in hooks if h.get("name") == WEBHOOK_NAME), None)
    configured = runtime.settings.jira_webhook_secret
    secret = configured.get_secret_value() if configured else None
    wanted: dict[str, Any] = {
        "name": WEBHOOK_NAME,
        "url": url,
        "events": EVENTS,
        "filters": {"issue-related-events-section": jql},
        "excludeBody": False,
        "enabled": True,
    }
    if hook is None:
        installed.jira_webhook_secret = secret or secrets.token_hex(24)

        def create() -> None:
            body = {**wanted, "secret": installed.jira_webhook_secret}
            installed.jira_webhook_id = webhook_id(jira.create_webhook(body))

        plan.add(Step("jira", "webhook", WEBHOOK_NAME, CREATE, f"{url} ({jql})", run=create))
        return
    installed.jira_webhook_id = webhook_id(hook)
    stale = sorted(k for k, v in wanted.items() if hook.get(k, v) != v)
    if secret is None:
        stale.append("secret")  # Jira never shows a secret: without ours, set a new one
        installed.jira_webhook_secret = secrets.token_hex(24)
    if stale:
        hid = installed.jira_webhook_id

        def update() -> None:
            body = {**wanted}
            if installed.jira_webhook_secret:
                body["secret"] = installed.jira_webhook_secret
            jira.update_webhook(hid, body)

        plan.add(Step("jira", "webhook", WEBHOOK_NAME, UPDATE, ", ".join(stale), run=update))
    else:
        plan.add(Step("jira", "webhook", WEBHOOK_NAME, KEEP, url))


def plan_jira_removal(runtime: AdminContext, plan: Plan, *, delete: bool) -> None:
    """Disable the webhook (install enables it again), or delete it."""
    for hook in runtime.jira.list_webhooks():
        hid = webhook_id(hook)
        if hid != runtime.config.jira.webhook_id and hook.get("name") != WEBHOOK_NAME:
            continue
        if delete:
            step = Step("jira", "webhook", WEBHOOK_NAME, DELETE, hid)
            step.run = partial(runtime.jira.delete_webhook, hid)
        elif hook.get("enabled", True):
            step = Step("jira", "webhook", WEBHOOK_NAME, UPDATE, f"disable {hid}")
            step.run = partial(runtime.jira.update_webhook, hid, _disabled(runtime, hook))
        else:
            step = Step("jira", "webhook", WEBHOOK_NAME, KEEP, f"disabled, {hid}")
        plan.add(step)


def _disabled(runtime: AdminContext, hook: dict[str, Any]) -> dict[str, Any]:
    """The hook as install wrote it, disabled; with our secret, so the update cannot drop it."""
    kept = ("name", "url", "events", "filters", "excludeBody")
    body: dict[str, Any] = {k: hook[k] for k in kept if k in hook}
    secret = runtime.settings.jira_webhook_secret
    if secret is not None:
        body["secret"] = secret.get_secret_value()
    return {**body, "enabled": False}
