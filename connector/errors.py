"""The connector's own error family. Nothing above the adapters catches a vendor exception."""

from __future__ import annotations


class ConnectorError(Exception):
    """Base of every error the connector raises on purpose."""


class ConfigError(ConnectorError):
    """A bad or missing setting or config key: the CLI prints the message and exits 2."""

    def __init__(self, source: str, key: str, problem: str) -> None:
        self.source = source
        self.key = key
        self.problem = problem
        super().__init__(f"{source}: {key}: {problem}" if key else f"{source}: {problem}")


class ApiError(ConnectorError):
    """A failed call to Zendesk or Jira."""

    def __init__(self, message: str, *, status: int | None = None, side: str = "") -> None:
        self.status = status
        self.side = side
        super().__init__(message)


class TransientError(ApiError):
    """Worth retrying later: 429, 5xx, timeouts, connection errors."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        side: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, side=side)
        self.retry_after = retry_after


class PermanentError(ApiError):
    """Retrying will not help: 4xx other than 408/409/429."""


class NotFoundError(PermanentError):
    """The object does not exist (404)."""


class AuthError(PermanentError):
    """Credentials refused (401) or not allowed (403)."""
