"""The HTTP transport both adapters share: timeouts, the call budget, counting, typed errors.

Every request to Zendesk or Jira goes through `BudgetedAdapter.send`, so the budget and the
counters see real HTTP calls (one library method can make several).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from connector.counters import API_CALLS, API_RATE_LIMITED
from connector.errors import (
    ApiError,
    AuthError,
    NotFoundError,
    PermanentError,
    TransientError,
)
from connector.ratelimit import CallBudget

TRANSIENT_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


class BudgetedAdapter(HTTPAdapter):
    """Takes one call from the shared budget per request and applies the default timeout."""

    def __init__(
        self, side: str, timeout: float, budget: CallBudget | None, calls: Counter[str]
    ) -> None:
        super().__init__(max_retries=0)
        self.side = side
        self.timeout = timeout
        self.budget = budget
        self.calls = calls

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        if self.budget is not None:
            self.budget.acquire()
        self.calls[self.side] += 1
        API_CALLS.labels(self.side).inc()
        try:
            response = super().send(request, **kwargs)
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise TransientError(
                f"{self.side}: {type(exc).__name__} on {request.method} {_path(request.url)}",
                side=self.side,
            ) from None
        if response.status_code == 429:
            self.calls[f"{self.side}.429"] += 1
            API_RATE_LIMITED.labels(self.side).inc()
        return response


def raise_for_response(side: str, response: requests.Response) -> None:
    """Turn an error response into the connector's own error; 2xx/3xx pass."""
    status = response.status_code
    if status < 400:
        return
    where = f"{response.request.method} {_path(response.request.url)}"
    message = f"{side}: HTTP {status} on {where}: {describe_error_body(response)}"
    if status in TRANSIENT_STATUSES:
        raise TransientError(
            message, status=status, side=side, retry_after=retry_after_seconds(response)
        )
    if status in (401, 403):
        raise AuthError(message, status=status, side=side)
    if status == 404:
        raise NotFoundError(message, status=status, side=side)
    raise PermanentError(message, status=status, side=side)


def retry_after_seconds(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


def describe_error_body(response: requests.Response) -> str:
    """A short, secret-free summary of an error body (Zendesk and Jira error shapes)."""
    try:
        body: Any = response.json()
    except (ValueError, json.JSONDecodeError):
        return (response.text or "").strip()[:200] or response.reason or ""
    if isinstance(body, dict):
        if "errorMessages" in body or "errors" in body:
            parts = list(body.get("errorMessages") or [])
            errors = body.get("errors")
            if isinstance(errors, dict):
                parts += [f"{k}: {v}" for k, v in errors.items()]
            return "; ".join(str(p) for p in parts)[:300]
        if "error" in body:
            text = str(body.get("error"))
            if body.get("description"):
                text += f" ({body['description']})"
            if body.get("details"):
                text += f" {json.dumps(body['details'])[:200]}"
            return text
    return json.dumps(body)[:200]


def _path(url: str | None) -> str:
    if not url:
        return ""
    path = url.split("://", 1)[-1]
    return "/" + path.split("/", 1)[1] if "/" in path else "/"


def mount(session: requests.Session, adapter: BudgetedAdapter) -> None:
    session.mount("http://", adapter)
    session.mount("https://", adapter)


__all__ = [
    "ApiError",
    "BudgetedAdapter",
    "mount",
    "raise_for_response",
    "retry_after_seconds",
]
