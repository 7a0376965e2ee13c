"""Where things live for a person: the one place that builds links into Zendesk and Jira
(agent views, search, browse pages) from the configured base URLs."""

from __future__ import annotations

from urllib.parse import quote

from pydantic import AnyHttpUrl


def _base(url: AnyHttpUrl | str | None) -> str | None:
    return str(url).rstrip("/") if url else None


def zendesk_ticket(zendesk_url: AnyHttpUrl | str | None, ticket_id: int) -> str | None:
    base = _base(zendesk_url)
    return f"{base}/agent/tickets/{ticket_id}" if base else None


def zendesk_field_search(zendesk_url: AnyHttpUrl | str | None, value: str) -> str | None:
    """The agent search for tickets whose fields hold `value` (a Jira key)."""
    base = _base(zendesk_url)
    return f"{base}/agent/search/1?q={quote(f'fieldvalue:{value}', safe='')}" if base else None


def jira_issue(jira_url: AnyHttpUrl | str | None, key: str | None) -> str | None:
    base = _base(jira_url)
    return f"{base}/browse/{key}" if base and key else None
