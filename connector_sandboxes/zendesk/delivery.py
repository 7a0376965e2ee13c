"""Fakes Zendesk's webhook sender: a background thread POSTs queued deliveries, signed like
Zendesk (`X-Zendesk-Webhook-Signature` = base64(HMAC-SHA256(secret, timestamp + body))), and
retries 409/429/503, timeouts and connection errors with the same invocation id.

Knobs: `duplicate` sends every delivery a second time under a new invocation id (Zendesk "may
invoke a webhook multiple times for the same action"); `reorder` holds deliveries for a moment
and sends each batch in reverse order. Every attempt is recorded on the delivery record in
`State.deliveries`. No network call ever happens while the state lock is held.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import itertools
import threading
import time

import requests

from connector_sandboxes.zendesk.state import ACCOUNT_ID, JSON, State, iso

RETRYABLE = frozenset({409, 429, 503})
REORDER_WINDOW = 0.15


def sign(secret: str, timestamp: str, body: str) -> str:
    digest = hmac.new(secret.encode(), (timestamp + body).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class Deliverer:
    def __init__(
        self, st: State, retry_delays: tuple[float, ...] = (0.5, 2.0, 5.0), timeout: float = 10.0
    ) -> None:
        self._st = st
        self._cv = threading.Condition()
        self._heap: list[tuple[float, int, JSON]] = []
        self._seq = itertools.count()
        self._pending = 0
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._session = requests.Session()
        self.retry_delays = retry_delays
        self.timeout = timeout
        self.duplicate = False
        self.reorder = False
        self._window_due = 0.0

    def start(self) -> None:
        if self._thread is None:
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="zendesk-webhooks", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        with self._cv:
            self._stopping = True
            self._cv.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._thread = None

    def clear(self) -> None:
        with self._cv:
            self._heap.clear()
            self._pending = 0
            self._cv.notify_all()

    def enqueue(self, record: JSON) -> None:
        """Called with the state lock held: only queue, never block on I/O."""
        from connector_sandboxes.zendesk.webhooks import new_ulid

        with self._cv:
            due = time.monotonic()
            if self.reorder:  # everything queued within one window goes out together, reversed
                if self._window_due < due:
                    self._window_due = due + REORDER_WINDOW
                due = self._window_due
            self._push(due, record)
            if self.duplicate:
                twin = {
                    **record,
                    "invocation_id": new_ulid(),
                    "attempts": [],
                    "duplicate_of": record["invocation_id"],
                }
                self._st.deliveries.append(twin)
                self._push(due if self.reorder else due + 0.01, twin)

    def _push(self, due: float, record: JSON) -> None:
        heapq.heappush(self._heap, (due, next(self._seq), record))
        self._pending += 1
        self._cv.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        with self._cv:
            return self._cv.wait_for(lambda: self._pending == 0, timeout)

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._stopping and (
                    not self._heap or self._heap[0][0] > time.monotonic()
                ):
                    wait = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._cv.wait(wait)
                if self._stopping:
                    return
                batch = []
                while self._heap and self._heap[0][0] <= time.monotonic():
                    batch.append(heapq.heappop(self._heap)[2])
            if self.reorder:
                batch.reverse()
            for record in batch:
                self._attempt(record)

    def _attempt(self, record: JSON) -> None:
        with self._st.lock:
            webhook = dict(self._st.webhooks.get(record["webhook_id"]) or {})
            secret = self._st.webhook_secrets.get(record["webhook_id"], "")
        if not webhook:
            return self._finish(record, "failed")
        timestamp = iso(time.time())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Zendesk Webhook",
            "X-Zendesk-Webhook-Signature": sign(secret, timestamp, record["body"]),
            "X-Zendesk-Webhook-Signature-Timestamp": timestamp,
            "x-zendesk-account-id": str(ACCOUNT_ID),
            "x-zendesk-webhook-id": record["webhook_id"],
            "x-zendesk-webhook-invocation-id": record["invocation_id"],
        }
        headers.update(_auth_headers(webhook.get("authentication")))
        started, code, error = time.monotonic(), None, None
        try:
            response = self._session.request(
                webhook["http_method"],
                webhook["endpoint"],
                data=record["body"].encode(),
                headers=headers,
                timeout=self.timeout,
            )
            code = response.status_code
        except requests.Timeout:
            error = "timeout"
        except requests.RequestException as exc:
            error = f"connection error: {type(exc).__name__}"
        attempt = {
            "at": iso(time.time()),
            "status_code": code,
            "error": error,
            "duration_ms": int((time.monotonic() - started) * 1000),
        }
        with self._st.lock:
            record["attempts"].append(attempt)
            tries = len(record["attempts"])
        if (code in RETRYABLE or code is None) and tries <= len(self.retry_delays):
            with self._st.lock:
                record["status"] = outcome(code, error)
            with self._cv:
                self._pending = max(0, self._pending - 1)
                self._push(time.monotonic() + self.retry_delays[tries - 1], record)
            return None
        return self._finish(record, outcome(code, error))

    def _finish(self, record: JSON, status: str) -> None:
        with self._st.lock:
            record["status"] = status
        with self._cv:
            self._pending = max(0, self._pending - 1)
            self._cv.notify_all()


def outcome(code: int | None, error: str | None) -> str:
    """An invocation status as Zendesk's invocation list names it."""
    if code is None:
        return "timeout" if error == "timeout" else "failed"
    if 200 <= code < 300:
        return "success"
    if code == 429:
        return "throttled"
    return "client error" if code < 500 else "server error"


def _auth_headers(auth: JSON | None) -> dict[str, str]:
    if not auth:
        return {}
    data = auth.get("data") or {}
    if auth.get("type") == "basic_auth":
        raw = f"{data.get('username', '')}:{data.get('password', '')}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}
    if auth.get("type") == "bearer_token":
        return {"Authorization": f"Bearer {data.get('token', '')}"}
    if auth.get("type") == "api_key" and data.get("name"):
        return {str(data["name"]): str(data.get("value", ""))}
    return {}
