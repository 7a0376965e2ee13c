"""Structured logging: stable event names with ids as fields, optional JSON, secrets redacted.

log_event(logger, "zendesk.reply.sent", ticket_id=12, problem="FIN-3")
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

_SECRETS: set[str] = set()
REDACTED = "[redacted]"


def register_secrets(values: Iterable[str | None]) -> None:
    """Values that must never be written to a log line, whatever logs them."""
    _SECRETS.update(v for v in values if v and len(v) >= 4)


def redact(text: str) -> str:
    for secret in _SECRETS:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def log_event(logger: logging.Logger, event: str, **fields: Any) -> None:
    """Log a stable event name with its fields; `level=logging.WARNING` etc. sets the level."""
    level = int(fields.pop("level", logging.INFO))
    logger.log(level, event, extra={"event": event, "fields": fields})


class _Formatter(logging.Formatter):
    def __init__(self, as_json: bool) -> None:
        super().__init__()
        self.as_json = as_json

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = getattr(record, "fields", {}) or {}
        event = getattr(record, "event", None) or record.getMessage()
        if self.as_json:
            data: dict[str, Any] = {
                "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
                "level": record.levelname.lower(),
                "logger": record.name,
                "event": event,
                **fields,
            }
            if record.exc_info:
                data["exc"] = self.formatException(record.exc_info)
            line = json.dumps(data, default=str)
        else:
            pairs = " ".join(f"{key}={value}" for key, value in fields.items())
            line = f"{record.levelname.lower():7} {record.name}: {event} {pairs}".rstrip()
            if record.exc_info:
                line += "\n" + self.formatException(record.exc_info)
        return redact(line)


def configure_logging(level: str = "INFO", as_json: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter(as_json))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # urllib3 logs full URLs at DEBUG; keep vendor chatter out of our logs.
    for noisy in ("urllib3", "zenpy", "jira", "werkzeug"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    # Alembic tells every step of every migration check at INFO ("Context impl SQLiteImpl.")
    # on each command; `store.migrate` logs one `db.upgraded` line when the schema changed.
    # Its steps show at DEBUG (`connector --verbose`).
    verbose = root.level <= logging.DEBUG
    logging.getLogger("alembic").setLevel(logging.INFO if verbose else logging.WARNING)
