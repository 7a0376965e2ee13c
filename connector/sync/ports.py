"""What the sync core needs from the world, as interfaces: the composition root
(`connector.bootstrap`) provides them; the core never builds or imports its own.

- `Scheduler`: set work in motion later (queue tasks in production, direct calls in tests).
- `AppContext`: the settings, the config, the store and the scheduler: all the web tier and
  the approval of replies need (no vendor client).
- `Services`: adds the two vendor adapters and who the connector itself is on each side (so
  its own changes are not processed again): what the sync core works with.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from huey import Huey

    from connector.config import Config
    from connector.jira.client import JiraClient
    from connector.settings import Settings
    from connector.store.db import Database
    from connector.zendesk.client import ZendeskClient


class Scheduler(Protocol):
    """Work the core asks for later; each re-reads the store, so repeats are harmless."""

    def process_events(self) -> None:
        """Process the pending inbound events (coalesced: a burst becomes one batch)."""

    def refresh(self, problem_ids: Iterable[int]) -> None:
        """Bring these problems up to date in Jira and Zendesk."""

    def write_impact_at(self, problem_id: int, due: datetime) -> None:
        """Write the problem's impact to Jira at `due` (the end of its debounce interval)."""

    def mirror_at(self, problem_id: int, due: datetime) -> None:
        """Mirror the problem's Jira issue to its tickets at `due`."""

    def fanout(self, problem_id: int) -> None:
        """Converge the problem's customer replies with Zendesk."""


class AppContext(Protocol):
    """Settings, config, store and scheduler (see the module's docstring)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def config(self) -> Config: ...

    @property
    def db(self) -> Database: ...

    @property
    def huey(self) -> Huey: ...

    @property
    def scheduler(self) -> Scheduler: ...


class Services(AppContext, Protocol):
    """The things the sync core works with (see the module's docstring)."""

    @property
    def zendesk(self) -> ZendeskClient: ...

    @property
    def jira(self) -> JiraClient: ...

    @property
    def zendesk_user_id(self) -> int: ...

    @property
    def jira_account_id(self) -> str | None: ...
