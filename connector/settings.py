"""Process settings: environment variables (prefix CONNECTOR_) or a `.env` file.

Secrets are `SecretStr`, so printing or logging a Settings object never shows them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import (
    AnyHttpUrl,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from connector.errors import ConfigError

DEFAULT_CONFIG_PATH = "config/connector.yaml"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CONNECTOR_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    zendesk_url: AnyHttpUrl | None = None
    zendesk_email: str | None = None
    zendesk_api_token: SecretStr | None = None
    zendesk_webhook_secret: SecretStr | None = None

    jira_url: AnyHttpUrl | None = None
    jira_email: str | None = None
    jira_api_token: SecretStr | None = None
    jira_pat: SecretStr | None = None
    jira_webhook_secret: SecretStr | None = None

    database_url: str = "sqlite:///connector.db"
    # How long a process waits on its database (connector/store/engine.py). The web tier's
    # limits keep a sick database's 503 under 5 s (Zendesk gives up after about 12 s): a stalled
    # network costs at most the statement timeout plus 0.25 s, then a reconnect attempt (the
    # connect timeout). PostgreSQL counts the connect timeout in whole seconds, at least 2.
    db_connect_timeout_seconds: float = Field(default=2.0, gt=0)
    # PostgreSQL statement timeout of the web tier (0: none); the worker's is its own.
    db_statement_timeout_seconds: float = Field(default=2.0, ge=0)
    db_worker_statement_timeout_seconds: float = Field(default=120.0, ge=0)
    # SQLite: how long a write waits for another writer's lock, in the web tier and the worker.
    db_busy_timeout_seconds: float = Field(default=2.0, gt=0)
    db_worker_busy_timeout_seconds: float = Field(default=30.0, gt=0)
    redis_url: str | None = None
    queue_path: str = "connector-queue.db"
    queue_name: str = "connector"
    config: str = DEFAULT_CONFIG_PATH
    admin_token: SecretStr | None = None
    public_url: AnyHttpUrl | None = None

    http_timeout_seconds: float = Field(default=15.0, gt=0)
    webhook_max_age_seconds: int = Field(default=300, gt=0)
    webhook_max_body_bytes: int = Field(default=1_000_000, gt=0)
    # The web tier reads each request body in its event loop, then runs the app on one of
    # web_threads threads (per process): a body not in within the deadline is answered 408.
    web_read_deadline_seconds: float = Field(default=10.0, gt=0)
    web_threads: int = Field(default=8, gt=0)
    zendesk_requests_per_minute: int = Field(default=400, gt=0)
    jira_requests_per_minute: int = Field(default=300, gt=0)
    worker_threads: int = Field(default=4, gt=0)
    # An idle worker checks the SQLite queue at least this often (Redis wakes it at once).
    worker_poll_seconds: float = Field(default=0.25, gt=0)
    event_batch_size: int = Field(default=500, gt=0)
    event_coalesce_seconds: float = Field(default=2.0, ge=0)
    event_claim_timeout_seconds: float = Field(default=300.0, gt=0)
    # An event whose handling Zendesk or Jira refused for good (a PermanentError) is parked as
    # failed after this many attempts; any other failure is retried up to the retry horizon.
    event_max_attempts: int = Field(default=8, gt=0)
    # Processed and ignored events are kept this long (for the dashboard and duplicate checks
    # of late redeliveries), then the worker deletes them; failed and pending ones are kept.
    event_retention_days: float = Field(default=14, gt=0)

    # The one retry policy (connector.retry.Backoff): a transient failure waits between half and
    # all of min(retry_max_seconds, retry_base_seconds * 2**(n-1)) before try n+1, or the
    # server's Retry-After; after retry_attempts tries in a row the work goes back to the queue.
    retry_base_seconds: float = Field(default=0.5, gt=0)
    retry_max_seconds: float = Field(default=10.0, gt=0)
    retry_attempts: int = Field(default=5, gt=0)
    # A wait longer than this is not slept by a fan-out: its task is rescheduled instead.
    retry_max_inline_wait_seconds: float = Field(default=5.0, gt=0)
    # A queue task that raised runs again after this delay, at most this many times.
    task_retries: int = Field(default=8, ge=0)
    task_retry_delay_seconds: float = Field(default=5.0, ge=0)
    # Stored work that failed (an event, a ticket's reply) waits in the database: its n-th
    # failure in a row waits between half and all of min(max, base * 2**(n-1)) seconds (or the
    # Retry-After, if longer); it is parked as failed only once it has been failing this long.
    retry_later_base_seconds: float = Field(default=5.0, gt=0)
    retry_later_max_seconds: float = Field(default=60.0, gt=0)
    retry_horizon_seconds: float = Field(default=86_400.0, gt=0)

    # The replies fan-out (connector.sync.replies). Zendesk allows 30 jobs per account.
    replies_max_jobs: int = Field(default=8, gt=0)
    # A claim without a confirmed job is read back after this: longer than an HTTP timeout plus
    # the time a queued Zendesk job may wait, or a slow job would be sent twice.
    replies_claim_timeout: float = Field(default=600.0, gt=0)
    replies_poll_min: float = Field(default=0.05, gt=0)
    replies_poll_max: float = Field(default=3.0, gt=0)
    replies_slice_seconds: float = Field(default=120.0, gt=0)
    # Attempts before a reply Zendesk refused for good (a 4xx) is parked as failed; other
    # failures are retried up to the retry horizon.
    replies_max_attempts: int = Field(default=5, gt=0)
    replies_followup_batch: int = Field(default=20, gt=0)
    replies_summary_claim_timeout: float = Field(default=120.0, gt=0)
    # A running fan-out beats every sixth of this; one silent for this long (its worker died) is
    # resumed by a watchdog task, and its follow-up claims are taken over.
    replies_heartbeat_seconds: float = Field(default=30.0, gt=0)

    log_json: bool = False
    log_level: str = "INFO"

    # Timings of the sync core's store work (the store layer).
    # A Jira issue creation claim older than this is taken over (its worker died mid-create).
    jira_create_claim_seconds: float = Field(default=120.0, gt=0)
    # Reconcile reports events still pending after this long (a lost trigger).
    reconcile_stale_event_seconds: float = Field(default=30.0, gt=0)
    # The Jira poll re-reads this far before its watermark: Jira's clock and ours may disagree.
    jira_poll_overlap_seconds: float = Field(default=120.0, ge=0)

    @field_validator(
        "zendesk_api_token",
        "zendesk_webhook_secret",
        "jira_api_token",
        "jira_pat",
        "jira_webhook_secret",
        "admin_token",
        mode="before",
    )
    @classmethod
    def _blank_secret_is_unset(cls, value: Any) -> Any:
        # `CONNECTOR_ZENDESK_WEBHOOK_SECRET=` in a .env is no secret, not the empty key: anyone
        # can sign with that one.
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        return None if isinstance(text, str) and not text.strip() else value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must start with sqlite:// or postgresql://")
        return value

    @field_validator("zendesk_url")
    @classmethod
    def _zendesk_host(cls, value: AnyHttpUrl | None) -> AnyHttpUrl | None:
        # zenpy builds its URLs from a subdomain and a domain, so the host needs a dot.
        if value is not None and "." not in (value.host or ""):
            raise ValueError(
                "needs a host name with a dot, e.g. https://acme.zendesk.com "
                "(for a local sandbox, http://127.0.0.1:PORT rather than localhost)"
            )
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value or None

    @field_validator("replies_poll_max")
    @classmethod
    def _poll_range(cls, value: float, info: ValidationInfo) -> float:
        low = info.data.get("replies_poll_min")
        if low is not None and value < low:
            raise ValueError(f"must be at least CONNECTOR_REPLIES_POLL_MIN ({low})")
        return value

    @property
    def config_path(self) -> Path:
        return Path(self.config)


def load_settings(**overrides: Any) -> Settings:
    """Read settings, turning validation errors into one ConfigError naming the variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "CONNECTOR_" + str(first["loc"][0]).upper() if first["loc"] else "settings"
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError("environment", name, _lower_first(message)) from None


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]
