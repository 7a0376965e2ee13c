"""Fakes Jira Cloud's webhook delivery: a background thread POSTs each payload, signs it with
`X-Hub-Signature: sha256=<hex>`, retries on 408/409/425/429/5xx and timeouts keeping the same
`X-Atlassian-Webhook-Identifier`, and can duplicate, reorder or drop deliveries on request."""

from __future__ import annotations

import hashlib
import hmac
import random
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any

RETRY_STATUSES = {408, 409, 425, 429} | set(range(500, 600))


def sign(secret: str, body: bytes) -> str:
    """The value of `X-Hub-Signature` for a body sent to a webhook with `secret`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class Delivery:
    webhook_id: int
    event: str
    url: str
    body: bytes
    secret: str | None
    identifier: str = field(default_factory=lambda: str(uuid.uuid4()))
    retries: int = 0
    due: float = 0.0


@dataclass
class Knobs:
    duplicate: float = 0.0  # probability that a delivery is sent twice (same identifier)
    drop: float = 0.0  # probability that a delivery is never sent
    reorder: bool = False  # hold deliveries for `reorder_window` seconds, send newest first
    reorder_window: float = 0.3
    timeout: float = 5.0
    retry_delays: tuple[float, ...] = (0.05, 0.2, 0.5, 1.0, 2.0)  # Jira's, scaled to seconds


class Dispatcher:
    """Queue of deliveries and the thread that sends them; `records` keeps every attempt."""

    def __init__(self, seed: int | None = None, identifiers: bool = True) -> None:
        # Cloud documents X-Atlassian-Webhook-Identifier and -Retry; Data Center does not, so
        # on Data Center the sandbox leaves them out (a receiver must de-duplicate by content).
        self.identifiers = identifiers
        self.knobs = Knobs()
        self.records: list[dict[str, Any]] = []
        self._queue: list[Delivery] = []
        self._busy = 0
        self._cond = threading.Condition()
        self._random = random.Random(seed)
        self._stopped = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stopped = False
            self._thread = threading.Thread(target=self._run, name="jira-webhooks", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._thread = None

    def clear(self) -> None:
        with self._cond:
            self._queue.clear()
            self.records.clear()
            self.knobs = Knobs()

    def set_knobs(self, **changes: Any) -> Knobs:
        with self._cond:
            for name, value in changes.items():
                if not hasattr(self.knobs, name):
                    raise ValueError(f"unknown webhook knob {name!r}")
                if name in ("duplicate", "drop"):
                    value = float(value)  # True means always
                setattr(self.knobs, name, value)
            return self.knobs

    def enqueue(self, delivery: Delivery) -> None:
        with self._cond:
            if self._random.random() < self.knobs.drop:
                self.records.append(self._record(delivery, None, "dropped by sandbox knob"))
                return
            delivery.due = time.monotonic()
            self._queue.append(delivery)
            if self._random.random() < self.knobs.duplicate:
                twin = Delivery(**{**delivery.__dict__})
                self._queue.append(twin)
            self._cond.notify_all()

    def snapshot(self) -> list[dict[str, Any]]:
        with self._cond:
            return list(self.records)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until nothing is queued, retrying or being sent; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
            return True

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            for delivery in batch:
                self._send(delivery)
            with self._cond:
                self._busy -= len(batch)
                self._cond.notify_all()

    def _next_batch(self) -> list[Delivery] | None:
        with self._cond:
            while not self._stopped:
                now, window = time.monotonic(), self.knobs.reorder_window
                due = sorted((d for d in self._queue if d.due <= now), key=lambda d: d.due)
                if due and self.knobs.reorder:
                    fresh = [d.due for d in due if d.retries == 0]
                    held_since = min(fresh) if fresh else now - window
                    if now - held_since < window:
                        self._cond.wait(window - (now - held_since))
                        continue
                    due.reverse()  # newest first
                else:
                    due = due[:1]  # oldest first, one at a time, so retries never block the rest
                if due:
                    for delivery in due:
                        self._queue.remove(delivery)
                    self._busy += len(due)
                    return due
                wait = min((d.due for d in self._queue), default=now + 1.0) - now
                self._cond.wait(max(wait, 0.01))
            return None

    def _send(self, delivery: Delivery) -> None:
        headers = {
            "Content-Type": "application/json; charset=UTF-8",
            "User-Agent": "Atlassian Webhook HTTP Client",
        }
        if self.identifiers:
            headers["X-Atlassian-Webhook-Identifier"] = delivery.identifier
        if delivery.retries and self.identifiers:
            headers["X-Atlassian-Webhook-Retry"] = str(delivery.retries)
        if delivery.secret:
            headers["X-Hub-Signature"] = sign(delivery.secret, delivery.body)
        request = urllib.request.Request(delivery.url, delivery.body, headers, method="POST")
        status, error = None, None
        try:
            with urllib.request.urlopen(request, timeout=self.knobs.timeout) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status, error = exc.code, f"HTTP {exc.code}"
        except (OSError, ValueError) as exc:  # timeouts, refused connections, bad URLs
            error = f"{type(exc).__name__}: {exc}"
        with self._cond:
            self.records.append(self._record(delivery, status, error, headers))
            retryable = status is None or status in RETRY_STATUSES
            delays = self.knobs.retry_delays
            if error and retryable and delivery.retries < len(delays) and not self._stopped:
                delivery.due = time.monotonic() + delays[delivery.retries]
                delivery.retries += 1
                self._queue.append(delivery)

    @staticmethod
    def _record(
        delivery: Delivery, status: int | None, error: str | None, headers: dict | None = None
    ) -> dict[str, Any]:
        return {
            "identifier": delivery.identifier,
            "webhook_id": delivery.webhook_id,
            "event": delivery.event,
            "url": delivery.url,
            "retry": delivery.retries,
            "status": status,
            "error": error,
            "headers": headers or {},
            "body": delivery.body.decode("utf-8"),
            "at": time.time(),
        }
