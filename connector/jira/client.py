"""Jira adapter: the only door to Jira. Wraps the pycontribs `jira` client; returns our models.

Every endpoint the library covers goes through its public API; what it lacks goes through its
own session (`connector.jira.library`):
- updating an issue's fields: the library only offers `Issue.update`, which needs the issue
  fetched first (a GET before every PUT);
- admin webhooks (`/rest/webhooks/1.0/webhook`, on Data Center 10
  `/rest/jira-webhook/1.0/webhooks`: see `webhook_registry`): not in the library;
- custom field creation and the screen chain (issue type screen scheme -> screen scheme ->
  screen -> tab -> fields): not in the library.
Search follows the site's `deploymentType` from `serverInfo`: `enhanced_search_issues`
(`/search/jql`, page tokens) on Cloud, `search_issues` (`/search`, startAt) elsewhere.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from functools import cached_property, partial
from typing import Any

import requests
from jira import JIRA, JIRAError

from connector.jira import webhook_registry
from connector.jira.library import build_jira, call
from connector.jira.models import JiraIssue, SearchPage
from connector.ratelimit import CallBudget

MY_PERMISSIONS = "rest/api/2/mypermissions"
FIELD = "rest/api/2/field"
PROJECT_TYPE_SCHEMES = "rest/api/2/issuetypescreenscheme/project?projectId={}"
TYPE_SCHEME_ITEMS = "rest/api/2/issuetypescreenscheme/mapping?issueTypeScreenSchemeId={}"
SCREEN_SCHEMES = "rest/api/2/screenscheme?id={}"
SCREEN_TABS = "rest/api/2/screens/{}/tabs"
TAB_FIELDS = "rest/api/2/screens/{}/tabs/{}/fields"


OFF_SCREEN = "It is not on the appropriate screen"  # Jira's text for a field it cannot set
OFF_SCREEN_MEMORY_SECONDS = 3600.0  # then a refused field is tried again (an admin may add it)


def _field_errors(exc: JIRAError) -> dict[str, Any]:
    if exc.status_code != 400 or exc.response is None:
        return {}
    try:
        body = exc.response.json()
    except ValueError:
        return {}
    errors = body.get("errors") if isinstance(body, dict) else None
    return errors if isinstance(errors, dict) else {}


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
        self.auth: dict[str, Any] = (
            {"token_auth": pat} if pat else {"basic_auth": (email, api_token)}
        )
        self.timeout = timeout
        self.budget = budget
        self.calls: Counter[str] = calls if calls is not None else Counter()
        # Issue -> fields Jira refused as off its edit screen, and since when (see edit_issue).
        self._off_screen: dict[str, tuple[set[str], float]] = {}

    @cached_property
    def connection(self) -> tuple[JIRA, requests.Session]:
        """Built on first use, so that nothing connects on import or construction."""
        return build_jira(self.base_url, self.auth, self.timeout, self.budget, self.calls)

    @property
    def jira(self) -> JIRA:
        return self.connection[0]

    @property
    def session(self) -> requests.Session:
        return self.connection[1]

    def _raw(self, method: str, path: str, body: Any = None) -> Any:
        url = f"{self.base_url}/{path}"
        response = call(lambda: self.session.request(method, url, json=body))
        return response.json() if response.content else None

    # -- site -----------------------------------------------------------------------------------
    def server_info(self) -> dict[str, Any]:
        return self.site

    @cached_property
    def site(self) -> dict[str, Any]:
        info = call(self.jira.server_info)
        # The library's own Cloud checks read this public attribute, normally set at construction.
        self.jira.deploymentType = info.get("deploymentType")
        return info

    def myself(self) -> dict[str, Any]:
        return call(self.jira.myself)

    def own_identity(self) -> str | None:
        """The connector's own account, named as webhook bodies and comment authors name it
        (`models.user_identity`): the accountId on Cloud, the user key on Data Center."""
        me = self.myself()
        return me.get("accountId") if self.is_cloud else me.get("key")

    @property
    def is_cloud(self) -> bool:
        return self.site.get("deploymentType") == "Cloud"

    def my_permissions(self, keys: Sequence[str]) -> dict[str, bool]:
        """Which of these permissions the connector's account holds (site-wide)."""
        data = self._raw("GET", f"{MY_PERMISSIONS}?permissions={','.join(keys)}") or {}
        held = data.get("permissions") or {}
        return {k: bool((held.get(k) or {}).get("havePermission")) for k in keys}

    # -- issues ---------------------------------------------------------------------------------
    def get_issue(self, id_or_key: str) -> JiraIssue:
        return JiraIssue.from_api(call(lambda: self.jira.issue(id_or_key)).raw)

    def create_issue(self, fields: dict[str, Any]) -> tuple[str, str]:
        """Create and return (id, key) with one POST (`prefetch=False`: no read-back)."""
        issue = call(lambda: self.jira.create_issue(fields=fields, prefetch=False))
        return str(issue.id), str(issue.key)

    def update_issue(self, id_or_key: str, fields: dict[str, Any]) -> None:
        self._raw("PUT", f"rest/api/2/issue/{id_or_key}", {"fields": fields})

    def edit_issue(
        self, id_or_key: str, fields: dict[str, Any], properties: dict[str, Any], notify: bool
    ) -> list[str]:
        """One edit setting fields and issue properties; returns the fields left out because
        they are not on the issue's edit screen (Jira refuses the whole edit for one such
        field: the rest is sent again without them). `notify=False` asks Jira not to email
        the watchers; Jira honours it only for an account that administers the project or the
        site and otherwise ignores it (the edit still succeeds)."""
        url = f"{self.base_url}/rest/api/2/issue/{id_or_key}"
        params = {} if notify else {"notifyUsers": "false"}
        props = [{"key": k, "value": v} for k, v in properties.items()]
        # Fields refused on this issue within the hour are left out from the start, so a field
        # that stays off the screen does not cost a refused edit every time.
        known, since = self._off_screen.get(id_or_key, (set(), 0.0))
        if time.monotonic() - since >= OFF_SCREEN_MEMORY_SECONDS:
            known, since = set(), time.monotonic()
        skipped: list[str] = [f for f in fields if f in known]
        while True:
            body: dict[str, Any] = {
                "fields": {k: v for k, v in fields.items() if k not in skipped},
                "properties": props,
            }
            refused = call(partial(self._edit, url, params, body))
            if not refused:
                if skipped:
                    self._off_screen[id_or_key] = (set(skipped), since)
                return skipped
            skipped += refused
            since = time.monotonic()

    def _edit(self, url: str, params: dict[str, str], body: dict[str, Any]) -> list[str]:
        """Send an edit; the fields Jira refused as off the edit screen (the edit then changed
        nothing), or [] when it went through."""
        try:
            self.session.request("PUT", url, params=params, json=body)
        except JIRAError as exc:
            errors = _field_errors(exc)
            off = [f for f, text in errors.items() if OFF_SCREEN in str(text)]
            if off and set(off) <= set(body["fields"]) and len(off) == len(errors):
                return off
            raise
        return []

    def add_comment(self, id_or_key: str, body: str) -> None:
        call(lambda: self.jira.add_comment(id_or_key, body))

    def set_property(self, id_or_key: str, key: str, value: Any) -> None:
        call(lambda: self.jira.add_issue_property(id_or_key, key, value))

    def upsert_remote_link(
        self, id_or_key: str, global_id: str, url: str, title: str, summary: str = ""
    ) -> None:
        # Through the session, not the library's `add_remote_link`: that first lists the site's
        # application links (an admin-only call, refused for most accounts), costing one more
        # call from the shared budget per link and warning "you will not be able to add links"
        # although the link is then added. The POST is an upsert by `globalId` either way.
        self._raw(
            "POST",
            f"rest/api/2/issue/{id_or_key}/remotelink",
            {
                "globalId": global_id,
                "application": {"type": "com.zendesk", "name": "Zendesk"},
                "relationship": "Zendesk",
                "object": {"url": url, "title": title, "summary": summary},
            },
        )

    def search(
        self, jql: str, fields: Sequence[str], next_page_token: str | None = None, limit: int = 100
    ) -> SearchPage:
        """Cloud's `search/jql` with page tokens; Data Center's `/search` with startAt."""
        if self.is_cloud:
            data = call(
                lambda: self.jira.enhanced_search_issues(
                    jql,
                    nextPageToken=next_page_token,
                    maxResults=limit,
                    fields=list(fields),
                    json_result=True,
                )
            )
            token = data.get("nextPageToken")
        else:
            start = int(next_page_token or 0)
            data = call(
                lambda: self.jira.search_issues(
                    jql, startAt=start, maxResults=limit, fields=list(fields), json_result=True
                )
            )
            seen = start + len(data.get("issues", []))
            token = str(seen) if seen < int(data.get("total", 0)) else None
        issues = [JiraIssue.from_api(i) for i in data.get("issues", [])]
        return SearchPage(issues=issues, next_page_token=token)

    # -- admin webhooks (in the Cloud shape; `webhook_registry` translates for Data Center 10) ---
    @property
    def _webhooks(self) -> str:
        return webhook_registry.resource(self.site)

    @property
    def _data_center_webhooks(self) -> bool:
        return self._webhooks == webhook_registry.DATA_CENTER_10

    def list_webhooks(self) -> list[dict[str, Any]]:
        hooks = list(self._raw("GET", self._webhooks) or [])
        if self._data_center_webhooks:
            return [webhook_registry.from_data_center(h) for h in hooks]
        return hooks

    def create_webhook(self, webhook: dict[str, Any]) -> dict[str, Any]:
        if self._data_center_webhooks:
            made = self._raw("POST", self._webhooks, webhook_registry.to_data_center(webhook))
            return webhook_registry.from_data_center(dict(made))
        return dict(self._raw("POST", self._webhooks, webhook))

    def update_webhook(self, webhook_id: str, webhook: dict[str, Any]) -> None:
        if self._data_center_webhooks:
            webhook = webhook_registry.to_data_center(webhook)
        self._raw("PUT", f"{self._webhooks}/{webhook_id}", webhook)

    def delete_webhook(self, webhook_id: str) -> None:
        self._raw("DELETE", f"{self._webhooks}/{webhook_id}")

    # -- reference data (connector doctor) ------------------------------------------------------
    def get_project(self, key: str) -> dict[str, Any]:
        """The project with its issue types and components."""
        return dict(call(lambda: self.jira.project(key)).raw)

    def list_priorities(self) -> list[dict[str, Any]]:
        return [p.raw for p in call(self.jira.priorities)]

    def list_resolutions(self) -> list[dict[str, Any]]:
        return [r.raw for r in call(self.jira.resolutions)]

    def list_fields(self) -> list[dict[str, Any]]:
        """Every issue field, system and custom (`id`, `name`, `custom`, `schema`)."""
        return [dict(f) for f in call(self.jira.fields)]

    # -- custom fields and screens (connector install) -------------------------------------------
    def create_field(self, name: str, field_type: str, searcher: str) -> dict[str, Any]:
        body = {"name": name, "type": field_type, "searcherKey": searcher}
        return dict(self._raw("POST", FIELD, body))

    def delete_field(self, field_id: str) -> None:
        """Deletes a custom field and its values, trashed or not. Jira runs it as a task and
        answers 303 to it; the session follows to the task, which is not waited for."""
        self._raw("DELETE", f"{FIELD}/{field_id}")

    def project_type_screen_schemes(self, project_id: str) -> list[dict[str, Any]]:
        """`{issueTypeScreenScheme: {id, name}, projectIds}` for the project (Cloud only)."""
        return list(self._raw("GET", PROJECT_TYPE_SCHEMES.format(project_id))["values"])

    def type_screen_scheme_items(self, scheme_id: str) -> list[dict[str, Any]]:
        return list(self._raw("GET", TYPE_SCHEME_ITEMS.format(scheme_id))["values"])

    def screen_scheme(self, scheme_id: str) -> dict[str, Any]:
        return dict(self._raw("GET", SCREEN_SCHEMES.format(scheme_id))["values"][0])

    def screen_tabs(self, screen_id: int) -> list[dict[str, Any]]:
        return list(self._raw("GET", SCREEN_TABS.format(screen_id)))

    def tab_fields(self, screen_id: int, tab_id: int) -> list[dict[str, Any]]:
        return list(self._raw("GET", TAB_FIELDS.format(screen_id, tab_id)))

    def add_tab_field(self, screen_id: int, tab_id: int, field_id: str) -> None:
        self._raw("POST", TAB_FIELDS.format(screen_id, tab_id), {"fieldId": field_id})
