"""What an install found or created: ids and secrets, written to the config and `.env`."""

from __future__ import annotations

from dataclasses import dataclass, field

from connector.fields import TICKET_FIELDS


@dataclass
class Installed:
    """Ids and secrets found or created; written to the config and `.env` after applying."""

    fields: dict[str, int] = field(default_factory=dict)
    zendesk_webhook_id: str | None = None
    zendesk_trigger_id: int | None = None
    jira_webhook_id: str | None = None
    jira_webhook_secret: str | None = None
    zendesk_webhook_secret: str | None = None
    impact_fields: dict[str, str] = field(default_factory=dict)  # jira.impact_fields key -> id

    def config_values(self) -> dict[str, object]:
        values: dict[str, object] = {
            f"zendesk.fields.{spec.key}": self.fields.get(spec.key) for spec in TICKET_FIELDS
        }
        values["zendesk.webhook_id"] = self.zendesk_webhook_id
        values["zendesk.trigger_id"] = self.zendesk_trigger_id
        values["jira.webhook_id"] = self.jira_webhook_id
        return values

    def impact_values(self) -> dict[str, object]:
        """The Jira impact field ids found or created (uninstall leaves the fields and ids)."""
        return {f"jira.impact_fields.{k}": v for k, v in self.impact_fields.items()}
