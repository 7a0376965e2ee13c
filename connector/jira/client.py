"""Jira adapter: the only door to Jira. Wraps the pycontribs `jira` client; returns our models.

The client is built lazily (its constructor calls serverInfo), with its own retries off
(`max_retries=0`): retries live in connector.retry, and a retried POST must never create an
issue twice. Every HTTP call goes through the shared transport (budget, timeout, counting).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from functools import cached_property
from typing import Any, TypeVar

import requests
from jira import JIRA, JIRAError

from connector.errors import TransientError
from connector.jira.models import JiraIssue, SearchPage
from connector.ratelimit import CallBudget
from connector.transport import BudgetedAdapter, mount, raise_for_response

SIDE = "jira"
T = TypeVar("T")


class JiraClient:
    def __init__(
        self,
        base_url: str,
        *,
        email: str | None = None,
        api_token: str | None = None,
        pat: str | None = None,
        timeout: float = 15.0,
        budget: CallBudget | None = None,
        calls: Counter[str] | None = None,
    ) -> None:
        if not (pat or (email and api_token)):
            raise ValueError("Jira needs an email and API token, or a personal access token")
        self.base_url = base_url.rstrip("/")
        self._auth: dict[str, Any] = (
            {"token_auth": pat} if pat else {"basic_auth": (email, api_token)}
        )
        self._timeout = timeout
        self._budget = budget
        self.calls: Counter[str] = calls if calls is not None else Counter()

    @cached_property
    def _jira(self) -> JIRA:
        client = self._call(
            lambda: JIRA(
                server=self.base_url,
                options={"rest_api_version": "2"},
                max_retries=0,
                timeout=self._timeout,
                **self._auth,
            )
        )
        mount(client._session, BudgetedAdapter(SIDE, self._timeout, self._budget, self.calls))
        return client

    def _call(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except JIRAError as exc:
            if exc.response is not None:
                raise_for_response(SIDE, exc.response)
            raise TransientError(f"jira: {exc.text or exc}", side=SIDE) from None
        except requests.RequestException as exc:  # before our transport is mounted
            raise TransientError(f"jira: {type(exc).__name__}", side=SIDE) from None

    def _request(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        url = f"{self.base_url}/{path.lstrip('/')}"
        response = self._call(
            lambda: self._jira._session.request(method, url, json=body, params=params or None)
        )
        return response.json() if response.content else None

    # -- site -----------------------------------------------------------------------------------
    def server_info(self) -> dict[str, Any]:
        return self._call(self._jira.server_info)

    def myself(self) -> dict[str, Any]:
        return self._call(self._jira.myself)

    @property
    def is_cloud(self) -> bool:
        return bool(self._jira._is_cloud)

    # -- issues ---------------------------------------------------------------------------------
    def get_issue(self, id_or_key: str) -> JiraIssue:
        return JiraIssue.from_api(self._request("GET", f"rest/api/2/issue/{id_or_key}"))

    def create_issue(self, fields: dict[str, Any]) -> tuple[str, str]:
        """Create and return (id, key) with one POST (the library's create_issue reads it back)."""
        data = self._request("POST", "rest/api/2/issue", {"fields": fields})
        return str(data["id"]), data["key"]

    def update_issue(self, id_or_key: str, fields: dict[str, Any]) -> None:
        self._request("PUT", f"rest/api/2/issue/{id_or_key}", {"fields": fields})

    def add_comment(self, id_or_key: str, body: str) -> None:
        self._request("POST", f"rest/api/2/issue/{id_or_key}/comment", {"body": body})

    def set_property(self, id_or_key: str, key: str, value: Any) -> None:
        self._request("PUT", f"rest/api/2/issue/{id_or_key}/properties/{key}", value)

    def upsert_remote_link(
        self, id_or_key: str, global_id: str, url: str, title: str, summary: str = ""
    ) -> None:
        link = {
            "globalId": global_id,
            "application": {"type": "com.zendesk", "name": "Zendesk"},
            "relationship": "Zendesk",
            "object": {"url": url, "title": title, "summary": summary},
        }
        self._request("POST", f"rest/api/2/issue/{id_or_key}/remotelink", link)

    def search(
        self, jql: str, fields: Sequence[str], next_page_token: str | None = None, limit: int = 100
    ) -> SearchPage:
        """Cloud's `search/jql` with page tokens; Data Center's `/search` with startAt."""
        params: dict[str, Any] = {"jql": jql, "fields": ",".join(fields), "maxResults": limit}
        if self.is_cloud:
            if next_page_token:
                params["nextPageToken"] = next_page_token
            data = self._request("GET", "rest/api/2/search/jql", **params)
            token = data.get("nextPageToken")
        else:
            start = int(next_page_token or 0)
            data = self._request("GET", "rest/api/2/search", startAt=start, **params)
            seen = start + len(data.get("issues", []))
            token = str(seen) if seen < int(data.get("total", 0)) else None
        issues = [JiraIssue.from_api(i) for i in data.get("issues", [])]
        return SearchPage(issues=issues, next_page_token=token)

    # -- admin webhooks -------------------------------------------------------------------------
    WEBHOOKS = "rest/webhooks/1.0/webhook"

    def list_webhooks(self) -> list[dict[str, Any]]:
        return list(self._request("GET", self.WEBHOOKS) or [])

    def create_webhook(self, webhook: dict[str, Any]) -> dict[str, Any]:
        return dict(self._request("POST", self.WEBHOOKS, webhook))

    def update_webhook(self, webhook_id: str, webhook: dict[str, Any]) -> None:
        self._request("PUT", f"{self.WEBHOOKS}/{webhook_id}", webhook)

    def delete_webhook(self, webhook_id: str) -> None:
        self._request("DELETE", f"{self.WEBHOOKS}/{webhook_id}")

    # -- reference data (connector doctor) ------------------------------------------------------
    def get_project(self, key: str) -> dict[str, Any]:
        """The project with its issue types and components."""
        return dict(self._request("GET", f"rest/api/2/project/{key}"))

    def list_priorities(self) -> list[dict[str, Any]]:
        return list(self._request("GET", "rest/api/2/priority") or [])

    def list_resolutions(self) -> list[dict[str, Any]]:
        return list(self._request("GET", "rest/api/2/resolution") or [])
