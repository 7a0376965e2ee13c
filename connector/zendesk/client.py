"""Zendesk adapter: the only door to Zendesk. Wraps zenpy; returns the connector's models.

Every endpoint zenpy covers goes through its public API; a few calls go through the same
session instead (see `connector.zendesk.library` for how the session keeps retries off and maps
errors):
- `update_many` with `?ids=` and one `{"ticket": ...}` body: zenpy only sends the
  `{"tickets": [...]}` form, which would repeat the comment once per ticket (up to 100 times);
- ticket creation with an `Idempotency-Key` header: zenpy's `tickets.create` takes no headers;
- `show_many` with sideloaded users and organizations: zenpy, its cache off, drops them;
- job statuses: zenpy's objects for them cost memory (see `job_statuses`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

from zenpy.lib.api_objects import CustomFieldOption, TicketField, Trigger, Webhook
from zenpy.lib.api_objects import Ticket as ZenpyTicket

from connector.batching import batched
from connector.ratelimit import CallBudget
from connector.zendesk.library import build_zenpy, plain, transport_session, without_nulls
from connector.zendesk.models import (
    MAX_BATCH,
    JobStatus,
    Named,
    NamedTickets,
    Ticket,
    TicketUpdate,
    User,
)

SIDELOADS = "users,organizations"

SEARCH_LIMIT = 1000  # results one search can page through


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
        self.base_url = base_url.rstrip("/")
        self.calls: Counter[str] = calls if calls is not None else Counter()
        self.session = transport_session(timeout, budget, self.calls)
        self.zenpy = build_zenpy(self.base_url, email, token, self.session, timeout)

    def _url(self, path: str) -> str:
        return f"{self.base_url}/api/v2/{path.lstrip('/')}"

    # -- users and organizations ----------------------------------------------------------------
    def me(self) -> User:
        return User.model_validate(without_nulls(plain(self.zenpy.users.me())))

    def get_user(self, user_id: int) -> User:
        return User.model_validate(without_nulls(plain(self.zenpy.users(id=user_id))))

    def group_ids_of(self, user_id: int) -> list[int]:
        """The groups an agent belongs to (what a `groups` ticket restriction lets them see)."""
        url: str | None = self._url(f"users/{user_id}/group_memberships.json")
        found: list[int] = []
        while url:
            page = self.session.get(url).json()
            found.extend(int(m["group_id"]) for m in page.get("group_memberships", []))
            url = page.get("next_page")
        return sorted(set(found))

    def organization_values(
        self, organization_ids: Sequence[int], field_key: str
    ) -> dict[int, float]:
        """A numeric organization field for up to 100 organizations (missing values are 0)."""
        _check_batch(organization_ids)
        values: dict[int, float] = {}
        for org in self.zenpy.organizations(ids=list(organization_ids)):
            raw = (org.organization_fields or {}).get(field_key)
            try:
                values[int(org.id)] = float(raw) if raw is not None else 0.0
            except (TypeError, ValueError):
                values[int(org.id)] = 0.0
        return values

    # -- tickets --------------------------------------------------------------------------------
    def get_ticket(self, ticket_id: int) -> Ticket:
        return _ticket(self.zenpy.tickets(id=ticket_id))

    def show_many(self, ticket_ids: Sequence[int]) -> list[Ticket]:
        """Read up to 100 tickets in one call; missing ones are simply absent."""
        _check_batch(ticket_ids)
        return [_ticket(t) for t in self.zenpy.tickets(ids=list(ticket_ids))]

    def show_many_named(self, ticket_ids: Sequence[int]) -> NamedTickets:
        """`show_many` with the users and organizations the tickets name sideloaded: still one
        call per 100 tickets, and the dashboard can show names instead of ids."""
        _check_batch(ticket_ids)
        response = self.session.get(
            self._url("tickets/show_many.json"),
            params={"ids": ",".join(str(i) for i in ticket_ids), "include": SIDELOADS},
        )
        data = response.json()
        return NamedTickets(
            tickets=[Ticket.from_api(without_nulls(t)) for t in data.get("tickets") or []],
            users=[Named.model_validate(u) for u in data.get("users") or []],
            organizations=[Named.model_validate(o) for o in data.get("organizations") or []],
        )

    def update_ticket(self, ticket_id: int, update: TicketUpdate) -> Ticket:
        result = self.zenpy.tickets.update(ZenpyTicket(id=ticket_id, **update.to_api()))
        # Zendesk answers `{ticket, audit}`, which zenpy returns as a TicketAudit.
        return _ticket(getattr(result, "ticket", None) or result)

    def update_many_same(self, ticket_ids: Sequence[int], update: TicketUpdate) -> JobStatus:
        """One update applied to up to 100 tickets: a job, processed asynchronously."""
        _check_batch(ticket_ids)
        response = self.session.put(
            self._url("tickets/update_many.json"),
            params={"ids": ",".join(str(i) for i in ticket_ids)},
            json={"ticket": update.to_api()},
        )
        return JobStatus.model_validate(response.json()["job_status"])

    def update_in_batches(
        self, ticket_ids: Iterable[int], update: TicketUpdate
    ) -> Iterator[tuple[list[int], JobStatus]]:
        """The same update for any number of tickets, one `update_many` job per 100 (Zendesk's
        limit); yields each batch with its job as it is accepted, so callers record progress."""
        for chunk in batched(ticket_ids, MAX_BATCH):
            ids = list(chunk)
            yield ids, self.update_many_same(ids, update)

    def update_all(self, ticket_ids: Iterable[int], update: TicketUpdate) -> list[JobStatus]:
        """`update_in_batches` for callers with no progress to record: the jobs, in order."""
        return [job for _ids, job in self.update_in_batches(ticket_ids, update)]

    def search_ticket_ids(self, query: str, limit: int = SEARCH_LIMIT) -> list[int]:
        """Ids of the tickets a search finds, at most `limit` (Zendesk stops at 1,000; its index
        lags changes by up to a few minutes)."""
        found = self.zenpy.search(query, type="ticket")
        return [int(ticket.id) for ticket in islice(found, min(limit, SEARCH_LIMIT))]

    def job_statuses(self, job_ids: Sequence[str]) -> list[JobStatus]:
        # Through the session, not zenpy's `job_status`: zenpy builds an object graph with
        # reference cycles for every per-ticket result (100 a job, polled again and again), which
        # only the cyclic garbage collector frees, late: the fan-out's peak memory tripled
        # (bench/fanout.py, 10,000 tickets: 1.2 MB -> 3.5 MB).
        _check_batch(job_ids)
        response = self.session.get(
            self._url("job_statuses/show_many.json"), params={"ids": ",".join(job_ids)}
        )
        found = response.json().get("job_statuses", [])
        return [JobStatus.model_validate(without_nulls(j)) for j in found]

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
        if idempotency_key is None:
            created = self.zenpy.tickets.create(ZenpyTicket(**body))
            return _ticket(getattr(created, "ticket", None) or created)
        response = self.session.post(
            self._url("tickets.json"),
            json={"ticket": body},
            headers={"Idempotency-Key": idempotency_key},
        )
        return Ticket.from_api(response.json()["ticket"])

    # -- ticket fields --------------------------------------------------------------------------
    def get_ticket_field(self, field_id: int) -> dict[str, Any]:
        return plain(self.zenpy.ticket_fields(id=field_id))

    def upsert_field_option(
        self, field_id: int, name: str, value: str, option_id: int | None = None
    ) -> dict[str, Any]:
        """Add one dropdown option, or rename the one with `option_id` (Zendesk updates an
        option only when its id is sent; a PUT of the field would drop unlisted ones)."""
        option = CustomFieldOption(name=name, value=value)
        if option_id is not None:
            option.id = option_id
        return plain(self.zenpy.ticket_fields.options.create_or_update(field_id, option))

    def delete_field_option(self, field_id: int, option_id: int) -> None:
        self.zenpy.ticket_fields.options.delete(field_id, option_id)

    def list_ticket_fields(self) -> list[dict[str, Any]]:
        return [plain(f) for f in self.zenpy.ticket_fields()]

    def list_organization_fields(self) -> list[dict[str, Any]]:
        """Organization field definitions (`key`, `title`, `type`)."""
        return [plain(f) for f in self.zenpy.organization_fields()]

    def create_ticket_field(self, field: dict[str, Any]) -> dict[str, Any]:
        return plain(self.zenpy.ticket_fields.create(TicketField(**field)))

    def delete_ticket_field(self, field_id: int) -> None:
        self.zenpy.ticket_fields.delete(TicketField(id=field_id))

    # -- webhooks and triggers ------------------------------------------------------------------
    def list_webhooks(self) -> list[dict[str, Any]]:
        return [plain(w) for w in self.zenpy.webhooks()]

    def create_webhook(self, webhook: dict[str, Any]) -> dict[str, Any]:
        return plain(self.zenpy.webhooks.create(Webhook(**webhook)))

    def update_webhook(self, webhook_id: str, webhook: dict[str, Any]) -> None:
        self.zenpy.webhooks.patch(Webhook(id=webhook_id, **webhook))

    def delete_webhook(self, webhook_id: str) -> None:
        self.zenpy.webhooks.delete(Webhook(id=webhook_id))

    def webhook_signing_secret(self, webhook_id: str) -> str:
        return str(self.zenpy.webhooks.show_secret(webhook_id).secret)

    def list_triggers(self) -> list[dict[str, Any]]:
        return [plain(t) for t in self.zenpy.triggers()]

    def create_trigger(self, trigger: dict[str, Any]) -> dict[str, Any]:
        return plain(self.zenpy.triggers.create(Trigger(**trigger)))

    def update_trigger(self, trigger_id: int, trigger: dict[str, Any]) -> None:
        self.zenpy.triggers.update(Trigger(id=trigger_id, **trigger))

    def delete_trigger(self, trigger_id: int) -> None:
        self.zenpy.triggers.delete(Trigger(id=trigger_id))

    # -- apps (the sidebar app; Zendesk's Apps API, which zenpy does not cover) ---------------
    def upload_app_package(self, name: str, data: bytes) -> int:
        # The session speaks JSON by default; a None header lets requests set the multipart one.
        response = self.session.post(
            self._url("apps/uploads.json"),
            files={"uploaded_data": (name, data, "application/zip")},
            headers={"Content-Type": None},
        )
        return int(response.json()["id"])

    def create_app(self, name: str, short_description: str, upload_id: int) -> str:
        body = {"name": name, "short_description": short_description, "upload_id": upload_id}
        return str(self.session.post(self._url("apps.json"), json=body).json()["job_id"])

    def update_app(self, app_id: int, upload_id: int) -> str:
        response = self.session.put(self._url(f"apps/{app_id}.json"), json={"upload_id": upload_id})
        return str(response.json()["job_id"])

    def app_job(self, job_id: str) -> dict[str, Any]:
        return dict(self.session.get(self._url(f"apps/job_statuses/{job_id}.json")).json())

    def app_public_key(self, app_id: int) -> str:
        return self.session.get(self._url(f"apps/{app_id}/public_key.pem")).text

    def app_installations(self) -> list[dict[str, Any]]:
        found = self.session.get(self._url("apps/installations.json")).json()
        return list(found.get("installations", []))

    def install_app(self, app_id: int, settings: dict[str, Any]) -> dict[str, Any]:
        body = {"app_id": app_id, "settings": settings}
        return dict(self.session.post(self._url("apps/installations.json"), json=body).json())

    def delete_app_installation(self, installation_id: int) -> None:
        self.session.delete(self._url(f"apps/installations/{installation_id}.json"))

    def delete_app(self, app_id: int) -> None:
        self.session.delete(self._url(f"apps/{app_id}.json"))


def _ticket(obj: Any) -> Ticket:
    return Ticket.from_api(without_nulls(plain(obj)))


def _check_batch(items: Sequence[Any]) -> None:
    if not items:
        raise ValueError("empty batch")
    if len(items) > MAX_BATCH:
        raise ValueError(f"at most {MAX_BATCH} per call, got {len(items)}")
