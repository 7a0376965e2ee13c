"""Zendesk adapter: the only door to Zendesk. Wraps zenpy; returns the connector's models.

zenpy builds `https://{subdomain}.zendesk.com/api/v2/...`; `_ZendeskSession` maps that onto the
configured base URL (a real account or a sandbox at http://127.0.0.1:PORT) and turns every error
response into the connector's own error before zenpy sees it, so zenpy's own 429 sleep never
runs and retries happen in one place (connector.retry).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

import requests
from zenpy import Zenpy

from connector.ratelimit import CallBudget
from connector.transport import BudgetedAdapter, mount, raise_for_response
from connector.zendesk.models import JobStatus, Ticket, TicketUpdate, User

SIDE = "zendesk"
MAX_BATCH = 100
_ZENPY_SUBDOMAIN = "connector"
_ZENPY_PREFIX = f"https://{_ZENPY_SUBDOMAIN}.zendesk.com"


class _ZendeskSession(requests.Session):
    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        logical = url.decode() if isinstance(url, bytes) else url
        real = logical
        if logical.startswith(_ZENPY_PREFIX):
            real = self.base_url + logical.removeprefix(_ZENPY_PREFIX)
        response = super().request(method, real, *args, **kwargs)
        raise_for_response(SIDE, response)
        # zenpy picks its response handler by matching its own host in the request URL.
        response.request.url = logical
        return response


class ZendeskClient:
    def __init__(
        self,
        base_url: str,
        email: str,
        token: str,
        *,
        timeout: float = 15.0,
        budget: CallBudget | None = None,
        calls: Counter[str] | None = None,
    ) -> None:
        if not urlsplit(base_url).scheme:
            raise ValueError("Zendesk URL needs a scheme, e.g. https://acme.zendesk.com")
        self.base_url = base_url.rstrip("/")
        self.calls: Counter[str] = calls if calls is not None else Counter()
        self.session = _ZendeskSession(self.base_url)
        mount(self.session, BudgetedAdapter(SIDE, timeout, budget, self.calls))
        self._zenpy = Zenpy(
            subdomain=_ZENPY_SUBDOMAIN,
            email=email,
            token=token,
            session=self.session,
            timeout=timeout,
            disable_cache=True,
        )

    # -- raw access for endpoints zenpy lacks ------------------------------------------------
    def _url(self, path: str) -> str:
        return f"{self.base_url}/api/v2/{path.lstrip('/')}"

    def _get(self, path: str, **params: Any) -> Any:
        return self.session.get(self._url(path), params=params or None).json()

    def _send(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        **params: Any,
    ) -> Any:
        response = self.session.request(
            method, self._url(path), json=body, params=params or None, headers=headers
        )
        return response.json() if response.content else None

    # -- users ----------------------------------------------------------------------------------
    def me(self) -> User:
        return User.model_validate(self._zenpy.users.me().to_dict())

    def organization_values(
        self, organization_ids: Sequence[int], field_key: str
    ) -> dict[int, float]:
        """A numeric organization field for up to 100 organizations (missing values are 0)."""
        _check_batch(organization_ids)
        ids = ",".join(str(i) for i in organization_ids)
        data = self._get("organizations/show_many.json", ids=ids)
        values: dict[int, float] = {}
        for org in data.get("organizations", []):
            raw = (org.get("organization_fields") or {}).get(field_key)
            try:
                values[int(org["id"])] = float(raw) if raw is not None else 0.0
            except (TypeError, ValueError):
                values[int(org["id"])] = 0.0
        return values

    # -- tickets --------------------------------------------------------------------------------
    def get_ticket(self, ticket_id: int) -> Ticket:
        return Ticket.from_api(self._get(f"tickets/{ticket_id}.json")["ticket"])

    def show_many(self, ticket_ids: Sequence[int]) -> list[Ticket]:
        """Read up to 100 tickets in one call; missing ones are simply absent."""
        _check_batch(ticket_ids)
        ids = ",".join(str(i) for i in ticket_ids)
        data = self._get("tickets/show_many.json", ids=ids)
        return [Ticket.from_api(t) for t in data.get("tickets", [])]

    def update_ticket(self, ticket_id: int, update: TicketUpdate) -> Ticket:
        data = self._send("PUT", f"tickets/{ticket_id}.json", {"ticket": update.to_api()})
        return Ticket.from_api(data["ticket"])

    def update_many_same(self, ticket_ids: Sequence[int], update: TicketUpdate) -> JobStatus:
        """One update applied to up to 100 tickets: a job, processed asynchronously."""
        _check_batch(ticket_ids)
        ids = ",".join(str(i) for i in ticket_ids)
        data = self._send("PUT", "tickets/update_many.json", {"ticket": update.to_api()}, ids=ids)
        return JobStatus.model_validate(data["job_status"])

    def update_many_each(self, updates: Iterable[tuple[int, TicketUpdate]]) -> JobStatus:
        """Different updates for up to 100 tickets in one job."""
        tickets = [{"id": tid, **update.to_api()} for tid, update in updates]
        _check_batch(tickets)
        data = self._send("PUT", "tickets/update_many.json", {"tickets": tickets})
        return JobStatus.model_validate(data["job_status"])

    def job_statuses(self, job_ids: Sequence[str]) -> list[JobStatus]:
        _check_batch(job_ids)
        data = self._get("job_statuses/show_many.json", ids=",".join(job_ids))
        return [JobStatus.model_validate(j) for j in data.get("job_statuses", [])]

    def create_followup(
        self,
        closed_ticket_id: int,
        update: TicketUpdate,
        *,
        requester_id: int | None = None,
        idempotency_key: str | None = None,
    ) -> Ticket:
        """Closed tickets refuse updates; a follow-up ticket carries the reply instead.

        With an `idempotency_key`, Zendesk answers a repeated create (within two hours) with
        the ticket it already made instead of making a second.
        """
        body: dict[str, Any] = {"via_followup_source_id": closed_ticket_id, **update.to_api()}
        if requester_id is not None:
            body["requester_id"] = requester_id
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        data = self._send("POST", "tickets.json", {"ticket": body}, headers=headers)
        return Ticket.from_api(data["ticket"])

    # -- ticket fields --------------------------------------------------------------------------
    def get_ticket_field(self, field_id: int) -> dict[str, Any]:
        return dict(self._get(f"ticket_fields/{field_id}.json")["ticket_field"])

    def upsert_field_option(self, field_id: int, name: str, value: str) -> dict[str, Any]:
        """Add or rename one dropdown option (a PUT of the field would drop unlisted ones)."""
        body = {"custom_field_option": {"name": name, "value": value}}
        data = self._send("POST", f"ticket_fields/{field_id}/options.json", body)
        return dict(data["custom_field_option"])

    def delete_field_option(self, field_id: int, option_id: int) -> None:
        self._send("DELETE", f"ticket_fields/{field_id}/options/{option_id}.json")

    def list_ticket_fields(self) -> list[dict[str, Any]]:
        return list(self._get("ticket_fields.json").get("ticket_fields", []))

    def create_ticket_field(self, field: dict[str, Any]) -> dict[str, Any]:
        return dict(
            self._send("POST", "ticket_fields.json", {"ticket_field": field})["ticket_field"]
        )

    def delete_ticket_field(self, field_id: int) -> None:
        self._send("DELETE", f"ticket_fields/{field_id}.json")

    # -- webhooks and triggers ------------------------------------------------------------------
    def list_webhooks(self) -> list[dict[str, Any]]:
        return list(self._get("webhooks").get("webhooks", []))

    def create_webhook(self, webhook: dict[str, Any]) -> dict[str, Any]:
        return dict(self._send("POST", "webhooks", {"webhook": webhook})["webhook"])

    def update_webhook(self, webhook_id: str, webhook: dict[str, Any]) -> None:
        self._send("PATCH", f"webhooks/{webhook_id}", {"webhook": webhook})

    def delete_webhook(self, webhook_id: str) -> None:
        self._send("DELETE", f"webhooks/{webhook_id}")

    def webhook_signing_secret(self, webhook_id: str) -> str:
        return str(self._get(f"webhooks/{webhook_id}/signing_secret")["signing_secret"]["secret"])

    def list_triggers(self) -> list[dict[str, Any]]:
        return list(self._get("triggers.json").get("triggers", []))

    def create_trigger(self, trigger: dict[str, Any]) -> dict[str, Any]:
        return dict(self._send("POST", "triggers.json", {"trigger": trigger})["trigger"])

    def update_trigger(self, trigger_id: int, trigger: dict[str, Any]) -> None:
        self._send("PUT", f"triggers/{trigger_id}.json", {"trigger": trigger})

    def delete_trigger(self, trigger_id: int) -> None:
        self._send("DELETE", f"triggers/{trigger_id}.json")


def _check_batch(items: Sequence[Any]) -> None:
    if not items:
        raise ValueError("empty batch")
    if len(items) > MAX_BATCH:
        raise ValueError(f"at most {MAX_BATCH} per call, got {len(items)}")
