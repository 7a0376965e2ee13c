"""A whole local setup in one process: both sandboxes, the connector's web app on a real port,
installed into the sandboxes, and a worker that can be driven step by step (`drain`).

`jira_deployment` picks the Jira sandbox's deployment: "Cloud" (email + API token) or
"DataCenter" (the personal access token `sandbox`, as a Data Center admin would configure).

Used by the end-to-end tests, the demo and the benchmarks.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from huey import Huey
from pydantic import SecretStr

from connector.bootstrap import WorkerContext
from connector.config import embedded_defaults_text, load_config
from connector.install.run import finish_install, plan_install
from connector.settings import Settings
from connector.store.migrate import upgrade
from connector.webhook_app import create_app
from connector_sandboxes.jira import JiraSandbox
from connector_sandboxes.server import BackgroundServer
from connector_sandboxes.zendesk import ZendeskSandbox

EMAIL, TOKEN = "admin@example.com", "sandbox"
PAT = "sandbox"


class LocalStack:
    def __init__(
        self,
        workdir: Path,
        *,
        database_url: str | None = None,
        redis_url: str | None = None,
        queue_name: str = "connector",
        config_text: str | None = None,
        zendesk: dict[str, Any] | None = None,
        jira: dict[str, Any] | None = None,
        settings: dict[str, Any] | None = None,
        jira_deployment: str = "Cloud",
    ) -> None:
        self.settings_overrides = settings or {}
        self.workdir = workdir
        self.database_url = database_url or f"sqlite:///{workdir / 'connector.db'}"
        self.redis_url = redis_url
        self.queue_name = queue_name
        self.config_path = workdir / "connector.yaml"
        self.config_path.write_text(config_text or embedded_defaults_text(), "utf-8")
        self.zendesk = ZendeskSandbox(email=EMAIL, token=TOKEN, **(zendesk or {}))
        self.jira_deployment = jira_deployment
        self.jira = JiraSandbox(
            email=EMAIL, token=TOKEN, pat=PAT, deployment_type=jira_deployment, **(jira or {})
        )
        self._web: BackgroundServer | None = None
        self.runtime: WorkerContext | None = None

    def start(self, install: bool = True) -> LocalStack:
        zendesk_url = self.zendesk.start()
        jira_url = self.jira.start()
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            **{
                "zendesk_url": zendesk_url,
                "zendesk_email": EMAIL,
                "zendesk_api_token": TOKEN,
                "jira_url": jira_url,
                **self._jira_login(),
                "database_url": self.database_url,
                "redis_url": self.redis_url,
                "queue_path": str(self.workdir / "queue.db"),
                "queue_name": self.queue_name,
                "config": str(self.config_path),
                "zendesk_requests_per_minute": 100_000,
                "jira_requests_per_minute": 100_000,
                "event_coalesce_seconds": 0.2,
                **self.settings_overrides,
            },
        )
        upgrade(settings.database_url)
        self.runtime = WorkerContext(settings, load_config(self.config_path))
        self._web = BackgroundServer(create_app(runtime=self.runtime))
        settings.public_url = self._web.start()  # type: ignore[assignment]
        if install:
            self.install()
        return self

    def _jira_login(self) -> dict[str, str]:
        if self.jira_deployment == "Cloud":
            return {"jira_email": EMAIL, "jira_api_token": TOKEN}
        return {"jira_pat": PAT}

    def install(self) -> None:
        runtime = self.rt
        plan, installed = plan_install(runtime)
        plan.apply()
        finish_install(runtime, installed)
        runtime.config = load_config(self.config_path)
        if installed.zendesk_webhook_secret:
            runtime.settings.zendesk_webhook_secret = SecretStr(installed.zendesk_webhook_secret)
        if installed.jira_webhook_secret:
            runtime.settings.jira_webhook_secret = SecretStr(installed.jira_webhook_secret)

    def process_env(self, **overrides: str) -> dict[str, str]:
        """Environment for `connector web|worker|...` processes that join this stack."""
        s = self.rt.settings
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTOR_")}
        values = {
            "CONNECTOR_ZENDESK_URL": str(s.zendesk_url),
            "CONNECTOR_ZENDESK_EMAIL": EMAIL,
            "CONNECTOR_ZENDESK_API_TOKEN": TOKEN,
            "CONNECTOR_JIRA_URL": str(s.jira_url),
            **{f"CONNECTOR_{name.upper()}": value for name, value in self._jira_login().items()},
            "CONNECTOR_DATABASE_URL": s.database_url,
            "CONNECTOR_QUEUE_PATH": s.queue_path,
            "CONNECTOR_QUEUE_NAME": s.queue_name,
            "CONNECTOR_CONFIG": str(self.config_path),
            "CONNECTOR_ZENDESK_REQUESTS_PER_MINUTE": str(s.zendesk_requests_per_minute),
            "CONNECTOR_JIRA_REQUESTS_PER_MINUTE": str(s.jira_requests_per_minute),
        }
        optional = {
            "CONNECTOR_REDIS_URL": s.redis_url,
            "CONNECTOR_PUBLIC_URL": s.public_url,
            "CONNECTOR_ZENDESK_WEBHOOK_SECRET": s.zendesk_webhook_secret,
            "CONNECTOR_JIRA_WEBHOOK_SECRET": s.jira_webhook_secret,
        }
        for name, value in optional.items():
            if value is not None:
                plain = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
                values[name] = plain
        return {**env, **values, **overrides}

    @property
    def rt(self) -> WorkerContext:
        if self.runtime is None:
            raise RuntimeError("stack not started")
        return self.runtime

    @property
    def fields(self) -> Any:
        return self.rt.config.zendesk.fields

    def run_queue(self, *, include_future: bool = False) -> int:
        """Execute every queued task and every scheduled one that is due; returns how many."""
        huey = self.rt.huey
        ran = 0
        while True:
            now = huey_now(huey) + (timedelta(days=365) if include_future else timedelta(0))
            for task in huey.read_schedule(now):
                huey.enqueue(task)
            task = huey.dequeue()
            if task is None:
                return ran
            huey.execute(task, timestamp=now)
            ran += 1

    def drain(self, timeout: float = 30.0, *, include_future: bool = False) -> None:
        """Run until webhooks are delivered, jobs done and the queue empty, twice in a row."""
        deadline = time.monotonic() + timeout
        quiet = 0
        while quiet < 2:
            if time.monotonic() > deadline:
                raise TimeoutError("the stack did not settle")
            idle = self.zendesk.wait_for_deliveries(5) & self.jira.wait_for_deliveries(5)
            ran = self.run_queue(include_future=include_future)
            if not ran and self._due_soon():
                time.sleep(0.1)  # a coalesced task is about to run
                continue
            quiet = quiet + 1 if idle and not ran else 0
            if ran:
                time.sleep(0.02)

    def _due_soon(self, within: float = 5.0) -> bool:
        huey = self.rt.huey
        horizon = huey_now(huey) + timedelta(seconds=within)
        return any(task.eta is not None and task.eta <= horizon for task in huey.scheduled())

    def stop(self) -> None:
        if self._web is not None:
            self._web.stop()
        self.zendesk.stop()
        self.jira.stop()
        if self.runtime is not None:
            self.runtime.close()


def huey_now(huey: Huey) -> datetime:
    """Huey's clock: naive UTC (its default) or naive local time."""
    return datetime.now(UTC).replace(tzinfo=None) if huey.utc else datetime.now()
