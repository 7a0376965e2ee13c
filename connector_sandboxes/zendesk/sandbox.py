"""`ZendeskSandbox`: the Python handle on a running fake Zendesk (server, job runner, webhook
sender) with the controls tests, the demo and benchmarks use: reset, state inspection, agent
actions that fire triggers like a human would, faults, webhook knobs and job pausing.
"""

from __future__ import annotations

import contextlib
import copy
import threading
from collections.abc import Iterator
from typing import Any

from connector_sandboxes.server import BackgroundServer
from connector_sandboxes.zendesk import people, tickets
from connector_sandboxes.zendesk.app import Counters, create_app
from connector_sandboxes.zendesk.delivery import Deliverer
from connector_sandboxes.zendesk.jobs import ACTIVE, JobRunner
from connector_sandboxes.zendesk.limits import FaultInjector, FixedWindow
from connector_sandboxes.zendesk.state import AGENT_TOKEN, JSON, State, not_found


class ZendeskSandbox:
    """A local Zendesk Support API with in-memory state (see the package docstring)."""

    def __init__(
        self,
        email: str = "admin@example.com",
        token: str = "sandbox",
        agent_token: str = AGENT_TOKEN,
        rate_limit: int | None = None,
        rate_window_seconds: float = 60,
        update_limit_per_minute: int | None = None,
        job_seconds_per_ticket: float = 0.0,
        max_jobs: int = 30,
        *,
        incremental_lag_seconds: float = 0.0,
        webhook_retry_delays: tuple[float, ...] = (0.5, 2.0, 5.0),
        webhook_timeout: float = 10.0,
        fault_seed: int | None = None,
    ) -> None:
        self.state = State(email, token, agent_token)
        self.state.incremental_lag_seconds = incremental_lag_seconds
        self.jobs = JobRunner(self.state, job_seconds_per_ticket, max_jobs)
        self.deliverer = Deliverer(self.state, webhook_retry_delays, webhook_timeout)
        self.state.emit = self.deliverer.enqueue
        self.rate = FixedWindow(rate_limit, rate_window_seconds)
        self.update_limit = FixedWindow(update_limit_per_minute, 60)
        self.faults = FaultInjector(fault_seed)
        self.request_counts = Counters()
        self.app = create_app(self)
        self._server: BackgroundServer | None = None
        self._stopped = threading.Event()

    # ---- life cycle ---------------------------------------------------------------------------
    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._server = BackgroundServer(self.app, host, port)
        url = self._server.start()
        self.state.base_url = url
        self.jobs.start()
        self.deliverer.start()
        self._stopped.clear()
        return url

    def serve_forever(self, host: str = "127.0.0.1", port: int = 8090) -> None:
        """Block until interrupted (the `connector sandbox zendesk` command)."""
        url = self.start(host, port)
        print(f"Zendesk sandbox at {url}", *self.login_lines(), sep="\n", flush=True)
        try:
            while not self._stopped.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        self.jobs.stop()
        self.deliverer.stop()
        self._stopped.set()

    def reset(self) -> None:
        """Back to the start-up state: no tickets, webhooks, triggers, jobs; counters cleared."""
        self.state.reset()
        self.deliverer.clear()
        self.deliverer.duplicate = self.deliverer.reorder = False
        self.faults.clear()
        self.request_counts.clear()
        self.rate.reset()
        self.update_limit.reset()
        self.jobs.paused = False

    def __enter__(self) -> ZendeskSandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- inspection ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("sandbox is not running")
        return self._server.url

    @property
    def admin_user_id(self) -> int:
        return self.state.admin_user_id

    @property
    def agent_user_id(self) -> int:
        return self.state.agent_user_id

    @property
    def restricted_user_id(self) -> int:
        """Riley Restricted: an agent who sees only the tickets assigned to them."""
        return self.state.restricted_user_id

    def accounts(self) -> list[JSON]:
        """The logins: the connector's API user (an admin) and a human agent, whose REST
        changes the connector treats as a person's (it skips only its own user's)."""
        st = self.state
        with st.lock:
            pairs = (
                ("connector", st.admin_user_id, st.token),
                ("agent", st.agent_user_id, st.agent_token),
                ("restricted", st.restricted_user_id, st.agent_token),
            )
            return [
                {
                    "role": role,
                    "name": st.users[user_id]["name"],
                    "email": st.users[user_id]["email"],
                    "token": token,
                    "user_id": user_id,
                    "login": f"{st.users[user_id]['email']}/token:{token}",
                }
                for role, user_id, token in pairs
            ]

    def login_lines(self) -> list[str]:
        """The logins as `connector sandbox zendesk` and `connector demo --keep` print them."""
        lines = [
            f"  {a['role']:9} {a['login']}  ({a['name']}, user {a['user_id']})"
            for a in self.accounts()
        ]
        return [*lines, f"  control   {self.url}/_sandbox  (no auth; see the README)"]

    @property
    def counters(self) -> dict[str, int]:
        return self.request_counts.snapshot()

    def total_calls(self) -> int:
        return self.counters.get("total", 0)

    def ticket(self, ticket_id: int) -> JSON:
        with self.state.lock:
            return tickets.ticket_json(self.state, self.state.ticket(ticket_id))

    def tickets(self) -> list[JSON]:
        with self.state.lock:
            return [tickets.ticket_json(self.state, t) for t in self.state.tickets.values()]

    def comments(self, ticket_id: int) -> list[JSON]:
        with self.state.lock:
            self.state.ticket(ticket_id)
            return copy.deepcopy(self.state.comments[ticket_id])

    def job(self, job_id: str) -> JSON:
        with self.state.lock:
            if job_id not in self.state.jobs:
                raise not_found()
            return copy.deepcopy(self.state.jobs[job_id])

    @property
    def deliveries(self) -> list[JSON]:
        with self.state.lock:
            return copy.deepcopy(self.state.deliveries)

    def wait_for_deliveries(self, timeout: float = 5.0) -> bool:
        """True once every queued webhook delivery (and its retries) has finished."""
        return self.deliverer.wait_idle(timeout)

    def wait_for_jobs(self, timeout: float = 5.0) -> bool:
        with self.state.changed:
            return self.state.changed.wait_for(
                lambda: not any(j["status"] in ACTIVE for j in self.state.jobs.values()), timeout
            )

    # ---- acting like Zendesk users ------------------------------------------------------------
    def create_user(
        self,
        name: str,
        email: str | None = None,
        role: str = "end-user",
        organization_id: int | None = None,
        locale: str = "en-US",
    ) -> JSON:
        with self.state.lock:
            user = people.add_user(self.state, name, email, role, organization_id, locale)
            return people.user_json(self.state, user)

    def create_group(self, name: str, agent_ids: list[int]) -> JSON:
        """A group of agents (an agent restricted to `groups` sees its tickets)."""
        with self.state.lock:
            return dict(people.add_group(self.state, name, agent_ids))

    def set_ticket_restriction(self, user_id: int, restriction: str | None) -> None:
        """What the admin sets in the agent's role: None, assigned, groups, organization."""
        with self.state.lock:
            user = self.state.user(user_id)
            user["ticket_restriction"], user["restricted_agent"] = restriction, bool(restriction)

    def create_organization(self, name: str, fields: JSON | None = None) -> JSON:
        with self.state.lock:
            org = people.add_organization(self.state, name, fields)
            return people.organization_json(self.state, org)

    def agent_create_ticket(self, actor_id: int | None = None, **fields: Any) -> JSON:
        """Create a ticket as a human agent in the Zendesk UI would (via `web`)."""
        with self.state.lock:
            actor = actor_id or self.state.agent_user_id
            ticket, _audit = tickets.create_ticket(self.state, fields, actor, "web")
            return tickets.ticket_json(self.state, ticket)

    def agent_update_ticket(
        self, ticket_id: int, actor_id: int | None = None, **changes: Any
    ) -> JSON:
        """Update as a human agent would; fires triggers and event webhooks like any change."""
        with self.state.lock:
            actor = actor_id or self.state.agent_user_id
            tickets.update_ticket(self.state, ticket_id, changes, actor, "web")
            return tickets.ticket_json(self.state, self.state.tickets[ticket_id])

    def close_ticket(self, ticket_id: int) -> JSON:
        """Close a ticket as Zendesk's auto-close would (real Zendesk only closes solved ones)."""
        with self.state.lock:
            if self.state.ticket(ticket_id).status != "closed":
                tickets.update_ticket(
                    self.state, ticket_id, {"status": "closed"}, self.state.agent_user_id, "web"
                )
            return tickets.ticket_json(self.state, self.state.tickets[ticket_id])

    def set_dynamic_content(self, name: str, variants: dict[str, str]) -> None:
        with self.state.lock:
            self.state.dynamic_content[name] = dict(variants)

    def advance_clock(self, seconds: float) -> None:
        with self.state.lock:
            self.state.time_offset += seconds

    # ---- knobs --------------------------------------------------------------------------------
    def inject_faults(
        self,
        count: int | None = None,
        fraction: float | None = None,
        kind: str = "500",
        paths: list[str] | None = None,
        hang_seconds: float = 15.0,
    ) -> None:
        """Fail the next `count` API calls (or a `fraction`) matching `paths` substrings."""
        self.faults.arm(count, fraction, kind, paths, hang_seconds)

    def clear_faults(self) -> None:
        self.faults.clear()

    def webhook_knobs(self, duplicate: bool = False, reorder: bool = False) -> None:
        self.deliverer.duplicate = duplicate
        self.deliverer.reorder = reorder

    @property
    def jobs_paused(self) -> bool:
        return self.jobs.paused

    @jobs_paused.setter
    def jobs_paused(self, value: bool) -> None:
        self.jobs.paused = value

    @contextlib.contextmanager
    def pause_jobs(self) -> Iterator[None]:
        self.jobs.paused = True
        try:
            yield
        finally:
            self.jobs.paused = False
