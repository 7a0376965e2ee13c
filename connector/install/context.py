"""What install, uninstall and doctor work with: the sync core's services, with the full
vendor clients (they manage webhooks, triggers, fields and read admin settings)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from connector.sync.ports import Services

if TYPE_CHECKING:
    from connector.jira.client import JiraClient
    from connector.zendesk.client import ZendeskClient


class AdminContext(Services, Protocol):
    @property
    def zendesk(self) -> ZendeskClient: ...

    @property
    def jira(self) -> JiraClient: ...
