"""`POST /webhooks/zendesk` and `POST /webhooks/jira`: verify, store once, enqueue, answer.

What a vendor signs, sends and means lives in its contract (`connector/zendesk/webhook.py`,
`connector/jira/webhook.py`); this tier limits the size, calls the contract's `verify` and
`normalise`, stores what is handled, enqueues and answers. Order matters: the raw body is
size-checked and its signature verified before it is parsed. 2xx only once the event is
committed (or deliberately not wanted); 503 when it could not be stored, so the sender retries;
never a 500 or a traceback.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, jsonify, request
from prometheus_client import Counter
from pydantic import SecretStr
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import Headers
from werkzeug.exceptions import RequestEntityTooLarge

from connector.inbound_model import (
    MalformedEvent,
    NormalisedEvent,
    SignatureRejected,
    StaleSignature,
)
from connector.jira import webhook as jira_webhook
from connector.logs import log_event
from connector.settings import Settings
from connector.store.events_repo import store_event
from connector.zendesk import webhook as zendesk_webhook

if TYPE_CHECKING:
    from connector.ops.context import AppContext

log = logging.getLogger(__name__)

WEBHOOKS = Counter(
    "connector_webhooks_total",
    "Webhook deliveries received, by source and outcome.",
    ["source", "outcome"],
)
_MAX_DELIVERY_ID = 128  # inbound_events.delivery_id


@dataclass(frozen=True)
class Outcome:
    status: int
    outcome: str
    body: dict[str, Any]


@dataclass(frozen=True)
class Source:
    """One door: the vendor's contract, wired to this deployment's secrets."""

    name: str
    delivery_header: str
    verify: Callable[[Settings, Headers, bytes], None]
    normalise: Callable[[bytes, str | None], NormalisedEvent]


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


def _verify_zendesk(settings: Settings, headers: Headers, body: bytes) -> None:
    zendesk_webhook.verify(
        _secret(settings.zendesk_webhook_secret),
        headers,
        body,
        now=datetime.now(UTC),
        max_age_seconds=settings.webhook_max_age_seconds,
    )


def _verify_jira(settings: Settings, headers: Headers, body: bytes) -> None:
    jira_webhook.verify(_secret(settings.jira_webhook_secret), headers, body)


ZENDESK = Source(
    zendesk_webhook.SOURCE,
    zendesk_webhook.DELIVERY_HEADER,
    _verify_zendesk,
    zendesk_webhook.normalise,
)
JIRA = Source(
    jira_webhook.SOURCE, jira_webhook.DELIVERY_HEADER, _verify_jira, jira_webhook.normalise
)


def build_webhooks(runtime: AppContext) -> Blueprint:
    bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
    for source in (ZENDESK, JIRA):
        bp.add_url_rule(
            f"/{source.name}",
            source.name,
            _view(runtime, source),
            methods=["POST"],
            provide_automatic_options=False,
        )
    return bp


# Zendesk and Jira retry a 503 (Jira documents it; Zendesk's list of retried codes is not
# published): a Retry-After says the failure is temporary and asks them to give a recovering
# database a few seconds.
RETRY_AFTER_SECONDS = "10"


def _view(
    runtime: AppContext, source: Source
) -> Callable[[], tuple[Response, int] | tuple[Response, int, dict[str, str]]]:
    def receive() -> tuple[Response, int] | tuple[Response, int, dict[str, str]]:
        try:
            result = _receive(runtime, source)
        except Exception as exc:  # never a 500: the sender retries a 503
            event = f"webhook.{source.name}.error"
            log.exception(event, extra={"event": event, "fields": {"error": _name(exc)}})
            result = _unavailable("unexpected error")
        WEBHOOKS.labels(source.name, result.outcome).inc()
        if result.status == 503:
            return jsonify(result.body), result.status, {"Retry-After": RETRY_AFTER_SECONDS}
        return jsonify(result.body), result.status

    return receive


def _receive(runtime: AppContext, source: Source) -> Outcome:
    settings, name = runtime.settings, source.name
    try:
        body = _read_body(settings.webhook_max_body_bytes)
    except RequestEntityTooLarge:
        reason = f"body larger than {settings.webhook_max_body_bytes} bytes"
        return _refuse(name, 413, "too_large", "too_large", reason)
    try:
        source.verify(settings, request.headers, body)
    except StaleSignature as exc:
        return _refuse(name, 401, "rejected_stale", "rejected", str(exc))
    except SignatureRejected as exc:
        return _refuse(name, 401, "rejected_signature", "rejected", str(exc))
    content_hash = hashlib.sha256(body).hexdigest()
    delivery_id = _delivery_id(request.headers.get(source.delivery_header), content_hash)
    try:
        event = source.normalise(body, delivery_id)
    except MalformedEvent as exc:
        return _refuse(name, 400, "malformed", "malformed", str(exc))
    if not event.handled:
        return _not_wanted(name, event)
    return _store(runtime, event, content_hash)


def _store(runtime: AppContext, event: NormalisedEvent, content_hash: str) -> Outcome:
    name, delivery_id = event.source, event.delivery_id or content_hash
    try:
        event_id = store_event(
            runtime.db,
            name,
            delivery_id,
            content_hash,
            event.event_type,
            event.subject_id,
            event.payload,
        )
    except SQLAlchemyError as exc:
        log_event(log, f"webhook.{name}.unavailable", level=logging.ERROR, error=_name(exc))
        return _unavailable("database unavailable")
    fields: dict[str, Any] = {"type": event.event_type, "delivery": delivery_id}
    if event_id is None:
        log_event(log, f"webhook.{name}.duplicate", subject=event.subject_id, **fields)
        return Outcome(200, "duplicate", {"status": "duplicate"})
    fields["event_id"] = event_id
    if event.occurred_at is not None:
        fields["occurred_at"] = event.occurred_at.isoformat()
    log_event(log, f"webhook.{name}.accepted", subject=event.subject_id, **fields)
    try:
        runtime.scheduler.process_events()
    except Exception as exc:  # stored is enough: the periodic reconcile picks it up
        log_event(log, "webhook.enqueue_failed", level=logging.WARNING, error=_name(exc))
    return Outcome(202, "accepted", {"status": "accepted", "event_id": event_id})


def _read_body(limit: int) -> bytes:
    """The raw body, refusing more than `limit` bytes whatever Content-Length claims."""
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge()
    stream, chunks, size = request.stream, [], 0
    while size <= limit:  # a read may return less than asked for
        chunk = stream.read(min(64 * 1024, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise RequestEntityTooLarge()
    return b"".join(chunks)


def _delivery_id(header: str | None, content_hash: str) -> str:
    if not header:
        return content_hash
    if len(header) <= _MAX_DELIVERY_ID and header.isascii() and header.isprintable():
        return header
    return "sha256:" + hashlib.sha256(header.encode("utf-8", "replace")).hexdigest()


def _not_wanted(name: str, event: NormalisedEvent) -> Outcome:
    if event.disposition == "ignored":
        log_event(log, f"webhook.{name}.ignored", type=event.event_type)
        return Outcome(200, "ignored", {"status": "ignored"})
    log_event(log, f"webhook.{name}.unknown_type", level=logging.WARNING, type=event.event_type)
    return Outcome(200, "unknown", {"status": "ignored", "reason": "unknown event type"})


def _refuse(name: str, status: int, outcome: str, label: str, reason: str) -> Outcome:
    log_event(log, f"webhook.{name}.{outcome}", level=logging.WARNING, reason=reason)
    return Outcome(status, outcome, {"status": label, "reason": reason})


def _unavailable(why: str) -> Outcome:
    reason = f"{why}; the event was not stored, retry later"
    return Outcome(503, "unavailable", {"status": "unavailable", "reason": reason})


def _name(exc: BaseException) -> str:
    # The type only: messages of driver errors can carry connection strings.
    return type(exc).__name__
