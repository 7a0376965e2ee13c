"""`connector install` / `uninstall`: the Zendesk fields, webhook and trigger, and the Jira
webhook the connector needs, created or updated idempotently from a plan that can be shown
without changing anything (`--dry-run`)."""
