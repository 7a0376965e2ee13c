"""A secret set to nothing (`CONNECTOR_ZENDESK_WEBHOOK_SECRET=` in a .env) is no secret: it is
not the empty key, with which anyone could sign a delivery."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connector.config import load_config
from connector.settings import Settings
from connector.store.migrate import upgrade
from connector.webhook_app import create_app

SECRETS = (
    "ZENDESK_API_TOKEN",
    "ZENDESK_WEBHOOK_SECRET",
    "JIRA_API_TOKEN",
    "JIRA_PAT",
    "JIRA_WEBHOOK_SECRET",
    "ADMIN_TOKEN",
)


@pytest.mark.parametrize("blank", ["", "  "])
def test_blank_secrets_are_unset(monkeypatch: pytest.MonkeyPatch, blank: str) -> None:
    for name in SECRETS:
        monkeypatch.setenv(f"CONNECTOR_{name}", blank)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert all(getattr(settings, name.lower()) is None for name in SECRETS)


def test_a_zendesk_delivery_signed_with_the_empty_key_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CONNECTOR_ZENDESK_WEBHOOK_SECRET", "")
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        queue_path=str(tmp_path / "queue.db"),
    )
    upgrade(settings.database_url)
    body = json.dumps(
        {"source": "zendesk-trigger", "event": "ticket.changed", "ticket_id": "123"}
    ).encode()
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    forged = hmac.new(b"", stamp.encode() + body, hashlib.sha256).digest()
    response = (
        create_app(settings, load_config())
        .test_client()
        .post(
            "/webhooks/zendesk",
            data=body,
            headers={
                "X-Zendesk-Webhook-Signature": base64.b64encode(forged).decode(),
                "X-Zendesk-Webhook-Signature-Timestamp": stamp,
            },
        )
    )
    assert response.status_code == 401
