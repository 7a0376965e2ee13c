"""Fakes a whole Jira site for tests, the demo and benchmarks: `JiraSandbox` runs the HTTP
server, keeps the state, and acts as a human engineer (transitions, edits, comments, moves)
so the connector sees the same webhooks a real site would send.

`deployment_type` picks the site it answers as:
- "Cloud" (the default): Jira Cloud's platform REST API v2 and v3, `search/jql` with page
  tokens (the old `/search` answers 410), users by `accountId`, email + API token logins only
  (Cloud has no personal access tokens).
- "DataCenter": Jira Software Data Center 10.3 (LTS), from Atlassian's Data Center REST
  reference: REST v2 only (`/rest/api/3/...` answers 404), `/rest/api/2/search` with
  `startAt`/`total` and no `search/jql` (404), `serverInfo.deploymentType` "DataCenter" with
  version 10.3.12, personal access tokens as `Authorization: Bearer` (basic auth still works
  on 10.x), users by `name` and `key` with no `accountId` (in every user bean: myself,
  reporters, comment authors, changelog authors and webhook bodies), and no issue type screen
  scheme API. Admin webhooks moved in 10.0 to `/rest/jira-webhook/1.0/webhooks` (the old
  `/rest/webhooks/1.0/webhook` answers 404), with the JQL, excludeBody and secret inside
  `configuration` (see `webhooks`); Atlassian's page does not show the 10.x body
  (JRASERVER-78733), so that shape comes from that ticket and from integrators' reports.
  Deliveries are signed as on Cloud (`X-Hub-Signature: sha256=<hex>`) when the webhook has a
  secret, as Atlassian's "Managing webhooks" page for Data Center 10 describes (9.x sent them
  unsigned); a secret given the pre-10 way is ignored, and deliveries go unsigned. Data Center
  does not document Cloud's `X-Atlassian-Webhook-Identifier`, so its deliveries carry none.
- "Server": Jira 9.12 (Server or Data Center before 10): as Data Center, but with the old
  admin webhook resource, and its deliveries are never signed (a secret is kept, not used).
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from typing import Any

from connector_sandboxes.jira import catalog, render
from connector_sandboxes.jira.actions import Actions
from connector_sandboxes.jira.app import create_app
from connector_sandboxes.jira.delivery import Dispatcher
from connector_sandboxes.jira.fields import JiraError
from connector_sandboxes.jira.limits import Faults, RateLimiter
from connector_sandboxes.jira.state import DEFAULT_PROJECTS, Issue, State
from connector_sandboxes.jira.webhooks import Notifier
from connector_sandboxes.server import BackgroundServer

ENGINEER_TOKEN = "engineer-sandbox"
# The `--deployment` / `--jira` choices -> the serverInfo deploymentType answered.
DEPLOYMENTS = {"cloud": "Cloud", "datacenter": "DataCenter"}


class JiraSandbox:
    """A local Jira site. `start()` serves it on a background thread and returns its URL."""

    def __init__(
        self,
        email: str = "admin@example.com",
        token: str = "sandbox",
        pat: str | None = "sandbox",
        engineer_token: str = ENGINEER_TOKEN,
        engineer_pat: str | None = ENGINEER_TOKEN,
        projects: tuple[str, ...] | list[str] = DEFAULT_PROJECTS,
        deployment_type: str = "Cloud",
        rate_limit: int | None = None,
        rate_window_seconds: float = 60,
        seed: int | None = None,
    ) -> None:
        if deployment_type not in ("Cloud", "Server", "DataCenter"):
            raise ValueError("deployment_type must be Cloud, Server or DataCenter")
        self.email, self.token, self.pat = email, token, pat
        self.engineer_token, self.engineer_pat = engineer_token, engineer_pat
        self.state = State(email, tuple(p.upper() for p in projects), deployment_type)
        self.dispatcher = Dispatcher(seed, identifiers=deployment_type == "Cloud")
        self.actions = Actions(self.state, Notifier(self.state, self.dispatcher))
        self.limiter = RateLimiter(rate_limit, rate_window_seconds)
        self.faults = Faults(seed)
        self.app = create_app(self)
        self._counters: Counter[str] = Counter()
        self._absent: list[str] = []
        self._counter_lock = threading.Lock()
        self._server: BackgroundServer | None = None
        self._stopping = threading.Event()

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._server = BackgroundServer(self.app, host, port)
        url = self._server.start()
        self.state.base_url = url.replace("://0.0.0.0:", "://127.0.0.1:")
        self.dispatcher.start()
        self._stopping.clear()
        return url

    def serve_forever(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve until interrupted (the `connector sandbox jira` command)."""
        url = self.start(host, port)
        print(f"Jira sandbox at {url}", *self.login_lines(), sep="\n", flush=True)
        try:
            while not self._stopping.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop serving and delivering; safe to call twice and from any thread."""
        self._stopping.set()
        with self._counter_lock:
            server, self._server = self._server, None
        self.dispatcher.stop()
        if server is not None:
            server.stop()

    def reset(self) -> None:
        """Back to the start-up state: no issues, webhooks, deliveries, faults or counts."""
        self.state.reset()
        self.dispatcher.clear()
        self.faults.clear()
        self.limiter.reset()
        with self._counter_lock:
            self._counters.clear()
            self._absent.clear()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the Jira sandbox is not running")
        return self.state.base_url

    @property
    def api_account_id(self) -> str:
        return self.state.api_user.account_id

    @property
    def human_account_id(self) -> str:
        return self.state.humans[0].account_id

    def logins(self) -> list[tuple[str, str, str, str | None]]:
        """(sandbox user id, email, API token, PAT) of each account that can log in; Cloud has
        no personal access tokens."""
        engineer = self.state.humans[0]
        cloud = self.state.cloud
        return [
            (self.api_account_id, self.email, self.token, None if cloud else self.pat),
            (
                engineer.account_id,
                engineer.email,
                self.engineer_token,
                None if cloud else self.engineer_pat,
            ),
        ]

    def accounts(self) -> list[dict[str, Any]]:
        """The logins: the connector's API account (a Jira admin) and a human engineer, whose
        REST changes the connector treats as a person's (it skips only its own account's).
        `account_id` is the sandbox's id for the user; `username` and `key` are how Data
        Center names them."""
        return [
            {
                "role": role,
                "name": self.state.users[account_id].display_name,
                "email": email,
                "token": token,
                "pat": pat,
                "account_id": account_id,
                "username": self.state.users[account_id].name,
                "key": self.state.users[account_id].key,
            }
            for role, (account_id, email, token, pat) in zip(
                ("connector", "engineer"), self.logins(), strict=True
            )
        ]

    def login_lines(self) -> list[str]:
        """The logins as `connector sandbox jira` and `connector demo --keep` print them."""
        lines = [f"  Jira {self.state.deployment_type}"]
        for a in self.accounts():
            lines.append(f"  {a['role']:9} {a['email']} / API token {a['token']}  ({a['name']})")
            if self.state.cloud:
                lines.append(f"  {'':9} accountId {a['account_id']}")
            else:
                who = f"username {a['username']} (key {a['key']})"
                lines.append(f"  {'':9} PAT {a['pat']}, {who}")
        return [*lines, f"  control   {self.url}/_sandbox/info  (no auth; see the README)"]

    # -- observation -------------------------------------------------------------------------
    def count(self, family: str) -> None:
        with self._counter_lock:
            self._counters[family] += 1

    @property
    def counters(self) -> dict[str, int]:
        with self._counter_lock:
            return dict(self._counters)

    def record_absent(self, call: str) -> None:
        with self._counter_lock:
            self._absent.append(call)

    @property
    def absent_calls(self) -> list[str]:
        """Calls this site answered 404 because it does not have the endpoint (method and path):
        on Data Center, Cloud's endpoints and the admin webhook resource 10.0 replaced."""
        with self._counter_lock:
            return list(self._absent)

    def total_calls(self) -> int:
        with self._counter_lock:
            return sum(self._counters.values())

    def _ctx(self) -> render.Ctx:
        return render.Ctx(self.state.base_url, "2", self.state.cloud)

    def issue(self, key_or_id: str | int) -> dict[str, Any]:
        """The issue as `GET /rest/api/2/issue/{key}` shows it (with changelog)."""
        with self.state.lock:
            return render.issue_bean(
                self._ctx(), self.state, self._get(key_or_id), expand="changelog"
            )

    def comments(self, key_or_id: str | int) -> list[dict[str, Any]]:
        with self.state.lock:
            issue = self._get(key_or_id)
            return [render.comment(self._ctx(), self.state, issue, c) for c in issue.comments]

    def properties(self, key_or_id: str | int) -> dict[str, Any]:
        with self.state.lock:
            return dict(self._get(key_or_id).properties)

    def remote_links(self, key_or_id: str | int) -> list[dict[str, Any]]:
        with self.state.lock:
            issue = self._get(key_or_id)
            return [{"id": link.id, **link.body} for link in issue.remote_links]

    def issue_keys(self) -> list[str]:
        with self.state.lock:
            return [i.key for i in self.state.issues.values()]

    @property
    def deliveries(self) -> list[dict[str, Any]]:
        """Every webhook delivery attempt so far (including dropped ones)."""
        return self.dispatcher.snapshot()

    def field_id(self, name: str) -> str:
        found = self.state.custom_field(name)
        if found is None:
            raise KeyError(f"no custom field named {name!r}")
        return found.id

    # -- acting as a human engineer ----------------------------------------------------------
    def human_create(
        self, project: str, summary: str, issuetype: str = "Task", **fields: Any
    ) -> str:
        with self.state.lock:
            values: dict[str, Any] = {"project": {"key": project}, "issuetype": {"name": issuetype}}
            values.update(summary=summary, **self._human_fields(fields))
            return self.actions.create(values, self.human_account_id).key

    def human_transition(
        self, key: str, to_status: str = "Done", resolution: str | None = None
    ) -> None:
        with self.state.lock:
            issue = self._get(key)
            found = [t for t in self.actions.transitions(issue) if _target(t) == to_status.lower()]
            if not found:
                raise JiraError(400, [f"No transition from {issue.status_id} to {to_status!r}."])
            fields = {"resolution": {"name": resolution}} if resolution else {}
            self.actions.transition(issue, found[0].id, fields, self.human_account_id)

    def human_update(self, key: str, **fields: Any) -> None:
        """Edit fields as a person would: `priority="High"`, `duedate="2026-12-01"`,
        `customfield_10050="..."`, `labels=[...]`, `fixVersions=["2.0"]`."""
        with self.state.lock:
            values = self._human_fields(fields)
            self.actions.edit(self._get(key), values, {}, self.human_account_id)

    def human_comment(self, key: str, body: str) -> dict[str, Any]:
        with self.state.lock:
            issue = self._get(key)
            comment = self.actions.comment(issue, body, self.human_account_id)
            return render.comment(self._ctx(), self.state, issue, comment)

    def move_issue(self, key: str, to_project: str) -> str:
        """Move to another project: the key changes, the id stays, the old key still resolves."""
        with self.state.lock:
            issue = self._get(key)
            self.actions.move(issue, to_project, self.human_account_id)
            return issue.key

    def delete_issue(self, key: str) -> None:
        with self.state.lock:
            self.actions.delete(self._get(key), self.human_account_id)

    def link_duplicate(self, key: str, of_key: str) -> None:
        """Record that `key` duplicates `of_key`."""
        with self.state.lock:
            self.actions.link(
                {"name": "Duplicate"}, self._get(key), self._get(of_key), self.human_account_id
            )

    # -- misbehaving on purpose --------------------------------------------------------------
    def inject_faults(
        self,
        count: int | None = None,
        fraction: float | None = None,
        kind: str = "500",
        paths: list[str] | tuple[str, ...] | None = None,
        delay: float = 11.0,
    ) -> None:
        """Fail the next `count` (or a `fraction` of) matching requests with 500, 503, 429, or
        "timeout" (the request is applied, the answer is held back `delay` seconds)."""
        self.faults.add(kind, count, fraction, paths, delay)

    def clear_faults(self) -> None:
        self.faults.clear()

    def webhook_knobs(self, **knobs: Any) -> dict[str, Any]:
        """`duplicate`, `drop` (bool or probability), `reorder` (bool), `reorder_window`,
        `timeout`, `retry_delays`."""
        return dict(self.dispatcher.set_knobs(**knobs).__dict__)

    def wait_for_deliveries(self, timeout: float = 10.0) -> bool:
        return self.dispatcher.wait_idle(timeout)

    def set_rate_limit(self, limit: int | None, window_seconds: float | None = None) -> None:
        self.limiter.configure(limit, window_seconds)

    def advance_clock(self, seconds: float) -> None:
        """Move the site's clock (for `updated` timestamps) forward."""
        with self.state.lock:
            self.state.clock_offset += timedelta(seconds=seconds)

    # -- helpers -----------------------------------------------------------------------------
    def _get(self, key_or_id: str | int) -> Issue:
        return self.actions.get(key_or_id)

    def _human_fields(self, fields: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, value in fields.items():
            cf = self.state.custom_field(name)
            name = cf.id if cf else name
            if name in ("priority", "issuetype") and isinstance(value, str):
                value = {"name": value}
            elif name in ("components", "fixVersions") and isinstance(value, list):
                value = [{"name": v} if isinstance(v, str) else v for v in value]
            elif name == "assignee" and isinstance(value, str):
                person = self.state.user(value)
                on_dc = {"name": person.name if person else value}
                value = {"accountId": value} if self.state.cloud else on_dc
            values[name] = value
        return values


def _target(transition: catalog.Transition) -> str:
    return catalog.STATUS_BY_ID[transition.to].name.lower()
