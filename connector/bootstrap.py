"""The composition root: the one place that builds what a process needs, from settings and
config, lazily (nothing connects on import or build).

- `WebContext`: the web tier's needs: the store and the queue to enqueue on. It has no Zendesk
  or Jira client: the web tier never calls them.
- `WorkerContext`: adds both vendor clients and who the connector is on each side; it is the
  sync core's `Services`. The CLI's commands that call Zendesk or Jira use it too.

The queue's tasks are registered here, once per context, on its own Huey instance.
"""

from __future__ import annotations

from collections import Counter
from functools import cached_property

from huey import Huey

from connector.clock import SystemClock
from connector.config import Config, load_config
from connector.errors import ConfigError
from connector.jira.client import JiraClient
from connector.logs import register_secrets
from connector.queue import build_huey
from connector.ratelimit import CallBudget, budget_storage_uri
from connector.settings import Settings, load_settings
from connector.store.db import Database, Timeouts
from connector.sync.ports import Clock, Scheduler, Services
from connector.sync.suggestions.model import SuggestionEngine
from connector.tasks import QueueTasks
from connector.textmodel.encoder import WordLlamaEncoder
from connector.zendesk.client import ZendeskClient


class WebContext:
    """Settings, config, the store and the queue (tasks are only enqueued from here)."""

    def __init__(self, settings: Settings | None = None, config: Config | None = None) -> None:
        self.settings = settings or load_settings()
        self.config = config or load_config(self.settings.config)
        register_secrets(
            s.get_secret_value() if s else None
            for s in (
                self.settings.zendesk_api_token,
                self.settings.zendesk_webhook_secret,
                self.settings.jira_api_token,
                self.settings.jira_pat,
                self.settings.jira_webhook_secret,
                self.settings.admin_token,
            )
        )

    @cached_property
    def db(self) -> Database:
        return Database(self.settings.database_url, self.db_timeouts())

    def db_timeouts(self) -> Timeouts:
        """The web tier's: short, so a sick database is a quick 503 the sender retries."""
        s = self.settings
        return Timeouts(
            s.db_connect_timeout_seconds, s.db_statement_timeout_seconds, s.db_busy_timeout_seconds
        )

    @cached_property
    def tasks(self) -> QueueTasks:
        return QueueTasks(build_huey(self.settings), self.settings, self.config, self._services)

    @property
    def huey(self) -> Huey:
        return self.tasks.huey

    @property
    def scheduler(self) -> Scheduler:
        return self.tasks

    def _services(self) -> Services:
        raise RuntimeError("tasks run in a worker (`connector worker`), never in the web tier")

    def close(self) -> None:
        if "db" in self.__dict__:
            self.db.dispose()


class WorkerContext(WebContext):
    """Everything a worker needs: the web context plus both vendor clients (the `Services`)."""

    def __init__(self, settings: Settings | None = None, config: Config | None = None) -> None:
        super().__init__(settings, config)
        self.calls: Counter[str] = Counter()
        self.clock: Clock = SystemClock()

    def _services(self) -> Services:
        return self

    def db_timeouts(self) -> Timeouts:
        """The worker's: its batches may take longer, and waiting costs no sender a retry."""
        s = self.settings
        return Timeouts(
            s.db_connect_timeout_seconds,
            s.db_worker_statement_timeout_seconds,
            s.db_worker_busy_timeout_seconds,
        )

    @cached_property
    def suggestion_engine(self) -> SuggestionEngine:
        """The text model loads on first use, so a worker that never suggests never loads it."""
        return SuggestionEngine(WordLlamaEncoder())

    @cached_property
    def zendesk(self) -> ZendeskClient:
        s = self.settings
        if not (s.zendesk_url and s.zendesk_email and s.zendesk_api_token):
            missing = next(
                name
                for name, value in (
                    ("CONNECTOR_ZENDESK_URL", s.zendesk_url),
                    ("CONNECTOR_ZENDESK_EMAIL", s.zendesk_email),
                    ("CONNECTOR_ZENDESK_API_TOKEN", s.zendesk_api_token),
                )
                if not value
            )
            raise ConfigError("environment", missing, "required to call Zendesk")
        budget = CallBudget(
            "zendesk", s.zendesk_requests_per_minute, budget_storage_uri(s.redis_url)
        )
        return ZendeskClient(
            str(s.zendesk_url),
            s.zendesk_email,
            s.zendesk_api_token.get_secret_value(),
            timeout=s.http_timeout_seconds,
            budget=budget,
            calls=self.calls,
        )

    @cached_property
    def jira(self) -> JiraClient:
        s = self.settings
        if not s.jira_url:
            raise ConfigError("environment", "CONNECTOR_JIRA_URL", "required to call Jira")
        if not (s.jira_pat or (s.jira_email and s.jira_api_token)):
            raise ConfigError(
                "environment",
                "CONNECTOR_JIRA_API_TOKEN",
                "set CONNECTOR_JIRA_EMAIL and CONNECTOR_JIRA_API_TOKEN, or CONNECTOR_JIRA_PAT",
            )
        budget = CallBudget("jira", s.jira_requests_per_minute, budget_storage_uri(s.redis_url))
        return JiraClient(
            str(s.jira_url),
            email=s.jira_email,
            api_token=s.jira_api_token.get_secret_value() if s.jira_api_token else None,
            pat=s.jira_pat.get_secret_value() if s.jira_pat else None,
            timeout=s.http_timeout_seconds,
            budget=budget,
            calls=self.calls,
        )

    @cached_property
    def zendesk_user_id(self) -> int:
        """The connector's own Zendesk user: its changes are not re-processed."""
        return self.zendesk.me().id

    @cached_property
    def jira_account_id(self) -> str | None:
        """The connector's own Jira account: its changes are not mirrored back. Named as
        webhook bodies name it (the accountId on Cloud, the user key on Data Center): comparing
        Data Center's username with a Cloud-style accountId never matched."""
        return self.jira.own_identity()


def migrated_worker() -> WorkerContext:
    """A worker context for a one-shot command: logging configured, the schema migrated."""
    from connector.logs import configure_logging
    from connector.store.migrate import upgrade

    runtime = WorkerContext()
    configure_logging(runtime.settings.log_level, runtime.settings.log_json)
    upgrade(runtime.settings.database_url)
    return runtime
