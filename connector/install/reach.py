"""What an admin should check when Zendesk or Jira cannot be reached or refuse the credentials:
the URL that was tried and the setting that holds it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from connector.errors import AuthError, ConnectorError, TransientError

if TYPE_CHECKING:
    from connector.settings import Settings

# side -> (product, URL setting, credential settings)
SETTINGS = {
    "zendesk": (
        "Zendesk",
        "CONNECTOR_ZENDESK_URL",
        "CONNECTOR_ZENDESK_EMAIL and CONNECTOR_ZENDESK_API_TOKEN",
    ),
    "jira": (
        "Jira",
        "CONNECTOR_JIRA_URL",
        "CONNECTOR_JIRA_EMAIL and CONNECTOR_JIRA_API_TOKEN (or CONNECTOR_JIRA_PAT)",
    ),
}


@contextmanager
def explained(settings: Settings) -> Iterator[None]:
    """Turn an unreachable site or refused credentials into one line naming what to check."""
    try:
        yield
    except TransientError as exc:
        if exc.status is not None or exc.side not in SETTINGS:
            raise
        product, url_setting, _ = SETTINGS[exc.side]
        why = str(exc).removeprefix(f"{exc.side}: ")
        raise ConnectorError(
            f"cannot reach {product} at {_url(settings, exc.side)} ({why}): check "
            f"{url_setting} and that {product} is up"
        ) from None
    except AuthError as exc:
        if exc.side not in SETTINGS:
            raise
        product, _, credentials = SETTINGS[exc.side]
        raise ConnectorError(
            f"{product} at {_url(settings, exc.side)} refused the credentials "
            f"(HTTP {exc.status}): check {credentials}"
        ) from None


def _url(settings: Settings, side: str) -> str:
    url = settings.zendesk_url if side == "zendesk" else settings.jira_url
    return str(url).rstrip("/") if url else "(not set)"
